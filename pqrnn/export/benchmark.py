"""Latency and memory of `.tflite` models, in the TFLite benchmark tool's terms.

TFLite's `benchmark_model` cannot load pqrnn's custom ops (and no build of
it exists on these machines), so this module times
`InterpreterWithCustomOps.invoke()` from Python the same way: inputs are set
before the clock starts, one utterance per invoke, one thread by default.
It reports what benchmark_model reports: model size, init time, first
inference, warm-up average, inference average / std / percentiles in
microseconds, and the memory footprint.

Inference alone is not what an app pays per utterance when the input shape
changes: a token model (the baselines) must then be resized and its tensors
allocated again before the invoke (TFLite re-prepares every op), while a
text model (pQRNN: one string in) keeps its input shape and re-prepares
inside the invoke, after its projection. So each run also times the input
setup (resize, allocate, reset an LSTM's state, set the tensors; not the
app's word-to-id lookup) and reports "per utterance" = setup + inference.
The exported baselines have no padding mask (`converter.
tokens_serving_function`), so padding their ids to a fixed length to avoid
the re-allocation would change their outputs: they are fed exact shapes.

Several models are measured interleaved, utterance by utterance and in a
rotating order, so that a noisy shared machine slows them alike; ratios are
to the first model. Inputs are real utterances: a file (one per line) or the
generated dataset that ships with pqrnn (`pqrnn.data.synthetic`, no data
files needed).

Importing this module does not import TensorFlow (it would distort the
memory figures); `peak_matmul` does, to build its model.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import resource
import time
from collections.abc import Sequence

import numpy as np

from pqrnn.export import runner

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE_BYTES


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def default_utterances(limit: int = 0) -> list[str]:
    """The dev split of pqrnn's generated dataset (450 utterances, en/de/fr)."""
    from pqrnn.data import synthetic

    texts = [e.text for e in synthetic.generate("validation", synthetic.LANGUAGES, seed=0)]
    return texts[:limit] if limit else texts


def dataset_utterances(dataset: str, split: str, root: str | None = None, limit: int = 0):
    """Utterances of a real split, every language, in a seeded shuffle
    (so that any prefix mixes the languages). Reads ../shared/data (or
    `root`); needs no TensorFlow."""
    import random

    from pqrnn.data import catalog

    languages = {"mtop": catalog.MTOP_LANGUAGES, "multiatis": catalog.MULTIATIS_LANGUAGES}
    if dataset not in languages:
        raise ValueError(f"dataset={dataset!r} must be one of {sorted(languages)}")
    texts = []
    for language in languages[dataset]:
        examples, _ = catalog.load_split(dataset, language, split, root=root)
        texts.extend(e.text for e in examples)
    random.Random(0).shuffle(texts)
    return texts[:limit] if limit else texts


def read_utterances(path: str, limit: int = 0) -> list[str]:
    """Utterances from a UTF-8 file, one per line (empty lines skipped)."""
    with open(path, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()]
    if not texts:
        raise ValueError(f"{path}: no utterances (expected one per line)")
    return texts[:limit] if limit else texts


_LIBRARY_RSS: list[int] = []


def load_custom_ops() -> int:
    """Loads pqrnn's TFLite kernels once; returns the RSS it added (bytes).

    Loaded before any model is measured, so that no model's init time or
    memory includes it. On these machines the kernels library links
    TensorFlow's libtensorflow_cc.so.2 (for MutableOpResolver::AddCustom),
    hundreds of MB that an app, which links the kernels into its TFLite
    runtime, does not pay.
    """
    if not _LIBRARY_RSS:
        from pqrnn import tflite

        before = rss_bytes()
        tflite.custom_op_registerers()
        _LIBRARY_RSS.append(rss_bytes() - before)
    return _LIBRARY_RSS[0]


class _Graph:
    """One model under test, driven through the raw interpreter API."""

    def __init__(self, path: str, num_threads: int, use_xnnpack: bool = True):
        self.path = path
        self.use_xnnpack = use_xnnpack
        self.size = os.path.getsize(path)
        kwargs = {}
        if not use_xnnpack:
            from ai_edge_litert.interpreter import OpResolverType

            # The runtime's own kernels only (benchmark_model --use_xnnpack=false).
            kwargs["experimental_op_resolver_type"] = (
                OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            )
        gc.collect()
        rss_before = rss_bytes()
        started = time.perf_counter_ns()
        self.model = runner.TFLiteNLUModel(path, num_threads=num_threads, **kwargs)
        self.interpreter = self.model.interpreter  # Allocated by the runner.
        self.init_us = (time.perf_counter_ns() - started) / 1e3
        self.init_rss = rss_bytes() - rss_before
        self.first_us = None
        self.overall_rss = None
        self._rss_before = rss_before
        self.warmup_us: list[float] = []
        self.run_us: list[float] = []
        self.setup_us: list[float] = []
        self.lookup_us: list[float] = []

    def set_inputs(self, text: str) -> tuple[float, float]:
        """Sets the inputs for one utterance; returns the microseconds of the
        app's part (word-to-id lookup, or packing the string) and of the
        input setup (resize and allocate when the shape changes, set)."""
        started = time.perf_counter_ns()
        inputs = self.model.inputs([text])
        looked_up = time.perf_counter_ns()
        self.model.feed(inputs)
        return (looked_up - started) / 1e3, (time.perf_counter_ns() - looked_up) / 1e3

    def invoke_us(self) -> float:
        started = time.perf_counter_ns()
        self.interpreter.invoke()
        return (time.perf_counter_ns() - started) / 1e3


@dataclasses.dataclass
class Result:
    """The figures of one model (times in microseconds, memory in bytes)."""

    path: str
    model_bytes: int
    init_us: float
    first_us: float
    warmup_us: list[float]
    run_us: list[float]
    setup_us: list[float]
    lookup_us: list[float]
    init_rss_bytes: int
    overall_rss_bytes: int
    card: dict
    use_xnnpack: bool = True

    @property
    def label(self) -> str:
        """The graph's path, marked when it ran without XNNPACK."""
        return self.path if self.use_xnnpack else f"{self.path} (no XNNPACK)"

    def stats(self) -> dict[str, float]:
        runs = np.asarray(self.run_us)
        utterance = runs + np.asarray(self.setup_us)
        return {
            "count": len(runs),
            "min": float(runs.min()),
            "max": float(runs.max()),
            "avg": float(runs.mean()),
            "std": float(runs.std()),
            "p50": float(np.percentile(runs, 50)),
            "p90": float(np.percentile(runs, 90)),
            "p99": float(np.percentile(runs, 99)),
            "warmup_avg": float(np.mean(self.warmup_us)) if self.warmup_us else float("nan"),
            "setup_avg": float(np.mean(self.setup_us)),
            "setup_p50": float(np.percentile(self.setup_us, 50)),
            "lookup_avg": float(np.mean(self.lookup_us)),
            # Setup + inference of the same run, then the percentiles.
            "utterance_avg": float(utterance.mean()),
            "utterance_p50": float(np.percentile(utterance, 50)),
            "utterance_p90": float(np.percentile(utterance, 90)),
            "utterance_p99": float(np.percentile(utterance, 99)),
        }

    def to_json(self) -> dict:
        return {
            "graph": self.path,
            "use_xnnpack": self.use_xnnpack,
            "model_bytes": self.model_bytes,
            "init_us": self.init_us,
            "first_inference_us": self.first_us,
            "init_rss_bytes": self.init_rss_bytes,
            "overall_rss_bytes": self.overall_rss_bytes,
            "model": self.card.get("model"),
            "precision": self.card.get("precision"),
            **{f"inference_{k}": v for k, v in self.stats().items()},
        }


def run_benchmark(
    graphs: Sequence[str],
    utterances: Sequence[str],
    *,
    num_threads: int = 1,
    num_runs: int = 1000,
    warmup_runs: int = 50,
    without_xnnpack: Sequence[str] = (),
) -> list[Result]:
    """Benchmarks `graphs` interleaved on `utterances` (cycled).

    `without_xnnpack` are more graphs (the same files as in `graphs`, or
    others) run with the runtime's builtin kernels only, no XNNPACK
    delegate, interleaved with the rest. Each model is loaded (init time and memory measured one at a time), run
    once (first inference), `warmup_runs` times, then `num_runs` times; in
    every round each model gets the same utterance, models in a rotating
    order.
    """
    if not graphs and not without_xnnpack:
        raise ValueError("no --graph given")
    if not utterances:
        raise ValueError("no utterances to run")
    load_custom_ops()
    # One throwaway interpreter first: the runtime's one-time setup (its
    # Python modules, XNNPACK) must not count against the first graph.
    specs = [(path, True) for path in graphs] + [(path, False) for path in without_xnnpack]
    _Graph(specs[0][0], num_threads, specs[0][1])
    gc.collect()
    loaded = []
    for path, use_xnnpack in specs:
        graph = _Graph(path, num_threads, use_xnnpack)
        graph.set_inputs(utterances[0])
        graph.first_us = graph.invoke_us()
        graph.overall_rss = rss_bytes() - graph._rss_before
        loaded.append(graph)
    for phase, count in (("warmup", warmup_runs), ("run", num_runs)):
        for i in range(count):
            text = utterances[i % len(utterances)]
            order = loaded[i % len(loaded) :] + loaded[: i % len(loaded)]
            for graph in order:
                lookup, setup = graph.set_inputs(text)
                elapsed = graph.invoke_us()
                if phase == "warmup":
                    graph.warmup_us.append(elapsed)
                else:
                    graph.run_us.append(elapsed)
                    graph.setup_us.append(setup)
                    graph.lookup_us.append(lookup)
    return [
        Result(
            path=g.path,
            model_bytes=g.size,
            init_us=g.init_us,
            first_us=g.first_us,
            warmup_us=g.warmup_us,
            run_us=g.run_us,
            setup_us=g.setup_us,
            lookup_us=g.lookup_us,
            init_rss_bytes=g.init_rss,
            overall_rss_bytes=g.overall_rss,
            card=g.model.card,
            use_xnnpack=g.use_xnnpack,
        )
        for g in loaded
    ]


def format_result(result: Result, num_threads: int) -> str:
    """One model's block, worded as benchmark_model words it."""
    s = result.stats()
    mb = 1024 * 1024
    return "\n".join(
        [
            f"Graph: [{result.path}]",
            f"Use xnnpack: [{int(result.use_xnnpack)}]",
            f"Model: {result.card.get('model')} {result.card.get('precision')} "
            f"(input: {result.card.get('input', {}).get('kind')})",
            f"#threads used for CPU inference: [{num_threads}]",
            f"The input model file size (MB): {result.model_bytes / mb:.6f}",
            f"Initialized session in {result.init_us / 1e3:.3f}ms.",
            f"count={len(result.warmup_us)} first={result.first_us:.0f} "
            f"avg={s['warmup_avg']:.1f} (warm-up)",
            f"count={s['count']} first={result.run_us[0]:.0f} curr={result.run_us[-1]:.0f} "
            f"min={s['min']:.0f} max={s['max']:.0f} avg={s['avg']:.1f} std={s['std']:.1f} "
            f"p50={s['p50']:.1f} p90={s['p90']:.1f} p99={s['p99']:.1f}",
            f"Inference timings in us: Init: {result.init_us:.0f}, "
            f"First inference: {result.first_us:.0f}, Warmup (avg): {s['warmup_avg']:.1f}, "
            f"Inference (avg): {s['avg']:.1f}",
            f"Input setup (not timed above; resize + allocate when the shape changes, set): "
            f"avg={s['setup_avg']:.1f} p50={s['setup_p50']:.1f}",
            f"Per utterance (input setup + inference, the app's word lookup not counted): "
            f"avg={s['utterance_avg']:.1f} p50={s['utterance_p50']:.1f} "
            f"p90={s['utterance_p90']:.1f} p99={s['utterance_p99']:.1f}",
            f"App-side input preparation (Python, not counted): avg={s['lookup_avg']:.1f}",
            f"Memory footprint delta from the start of the tool (MB): "
            f"init={result.init_rss_bytes / mb:.3f} overall={result.overall_rss_bytes / mb:.3f}",
        ]
    )


def format_comparison(results: Sequence[Result]) -> str:
    """A table of every model with ratios to the first."""
    base = results[0].stats()
    lines = [
        f"{'graph':52} {'size KB':>9} {'p50 us':>9} {'avg us':>9} {'p90 us':>9} {'p99 us':>9}"
        f" {'x p50':>7} {'x size':>7} {'utt p50':>9} {'x utt':>7}"
    ]
    for r in results:
        s = r.stats()
        # The last three path parts tell <workdir>/export/model_int8.tflite apart.
        name = "/".join(os.path.normpath(r.path).split(os.sep)[-3:])
        if not r.use_xnnpack:
            name += " (no XNNPACK)"  # as Result.label marks it in the log lines
        lines.append(
            f"{name[-52:]:52} {r.model_bytes / 1024:9.1f} {s['p50']:9.1f} {s['avg']:9.1f} "
            f"{s['p90']:9.1f} {s['p99']:9.1f} {s['p50'] / base['p50']:7.2f} "
            f"{r.model_bytes / results[0].model_bytes:7.2f} {s['utterance_p50']:9.1f} "
            f"{s['utterance_p50'] / base['utterance_p50']:7.2f}"
        )
    lines.append(
        "(x: ratio to the first graph; lower is faster/smaller. utt: per utterance, input "
        "setup + inference)"
    )
    return "\n".join(lines)


def pqrnn_macs_per_token(config: dict, num_intents: int, num_tags: int) -> dict[str, float]:
    """Multiply-accumulates of a pQRNN model (from its training config).

    Returns {"per_token": MACs that scale with the token count,
    "per_utterance": MACs paid once (the intent classifier)}. Counted:
    the bottleneck, every QRNN convolution (both directions), the attention
    score, the slot classifier, the intent classifier. Not counted: the
    projection (hashing, no multiplies), the recurrence and activations
    (elementwise, ~10 ops per state value), the softmax pooling.
    """
    p = config["model"]["pqrnn"]
    directions = 2
    width = p["qrnn_state"] * (2 if p["merge_mode"] == "concat" else 1)
    per_token = p["feature_size"] * p["bottleneck"]
    inputs = p["bottleneck"]
    for _ in range(p["num_layers"]):
        per_token += p["kernel_width"] * inputs * directions * 3 * p["qrnn_state"]
        inputs = width
    per_token += width  # attention score
    per_token += width * num_tags  # slot classifier
    return {"per_token": float(per_token), "per_utterance": float(width * num_intents)}


def peak_matmul(
    rows: int = 256,
    depth: int = 1024,
    columns: int = 1024,
    num_threads: int = 1,
    runs: int = 50,
    int8: bool = True,
) -> dict[str, float]:
    """This machine's matrix throughput through the same runtime.

    Builds a FULLY_CONNECTED [rows, depth] x [depth, columns] model, with
    full-integer quantization when `int8` and in float32 otherwise (imports
    TensorFlow), runs it with `num_threads` threads (XNNPACK, as the
    models) and returns {"macs", "p50_us", "gmacs_per_s"} from the median
    run. The int8 figure against the float32 one is the most an int8 file
    can gain over its float file on this CPU: it depends on the
    instructions XNNPACK finds (8-bit dot products such as AVX-512 VNNI or
    Arm's SDOT make int8 several times faster; with AVX2 alone it is about
    as fast as float32 FMA).
    """
    import tensorflow as tf

    rng = np.random.default_rng(0)
    kernel = tf.constant(rng.standard_normal((depth, columns)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([rows, depth], tf.float32)])
    def matmul(x):
        return tf.matmul(x, kernel)

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [matmul.get_concrete_function()], tf.Module()
    )
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [rng.standard_normal((rows, depth)).astype(np.float32)] for _ in range(4)
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    content = converter.convert()
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content, num_threads=num_threads)
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    if int8:
        value = rng.integers(-128, 127, (rows, depth), dtype=np.int8)
    else:
        value = rng.standard_normal((rows, depth)).astype(np.float32)
    interpreter.set_tensor(index, value)
    times = []
    for _ in range(runs + 5):
        started = time.perf_counter_ns()
        interpreter.invoke()
        times.append((time.perf_counter_ns() - started) / 1e3)
    p50 = float(np.percentile(times[5:], 50))
    macs = float(rows * depth * columns)
    return {"macs": macs, "p50_us": p50, "gmacs_per_s": macs / p50 / 1e3}


_ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_description(cpuinfo: str | None = None) -> str:
    """The CPU's model and the instruction sets that pick XNNPACK's kernels.

    Reads /proc/cpuinfo (Linux) unless `cpuinfo` is given; elsewhere falls
    back to `platform.processor()`. On x86 it lists which of AVX2, FMA,
    AVX-512, VNNI and AMX the CPU has, on Arm whether it has the 8-bit dot
    product (asimddp) and i8mm: the int8 files' speed against float depends
    on them. Latency figures are only comparable with this line beside them.
    """
    import platform

    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return f"{platform.machine()} {platform.processor() or 'unknown CPU'}"
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    model = fields.get("model name") or fields.get("CPU part") or platform.processor() or "unknown"
    if "flags" in fields:  # x86
        have = set(fields["flags"].split())
        shown = [f for f in _ISA_FLAGS if f in have]
        notes = []
        if "avx512f" not in have:
            notes.append("no AVX-512")
        if not {"avx512_vnni", "avx_vnni"} & have:
            notes.append("no VNNI")
        return f"{model}; {' '.join(shown) or 'no AVX2'}" + (
            f" ({', '.join(notes)})" if notes else ""
        )
    if "Features" in fields:  # Arm
        have = set(fields["Features"].split())
        shown = [f for f in ("asimd", "asimddp", "i8mm", "sve") if f in have]
        note = "" if "asimddp" in have else " (no 8-bit dot product)"
        return f"{platform.machine()} {model}; {' '.join(shown)}{note}"
    return model
