r"""Benchmarks `.tflite` models on real utterances, as TFLite's benchmark_model would.

    python export/benchmark.py --graph=export/model_int8.tflite \
        --graph=export/model_float32.tflite --num_threads=1 --num_runs=2000

Prints, per model: model size, init time, first inference, warm-up
average, inference average/std and p50/p90/p99 in microseconds, and the
memory footprint; then one table with ratios to the first --graph. Models
run interleaved, one utterance per invoke (inputs set before the clock
starts). pqrnn's custom ops are registered here. Inputs: --input_file (one
utterance per line), --dataset=multiatis|mtop --split=test (real data from
../shared/data), or by default pqrnn's generated dev set (no data files
needed). --graph_without_xnnpack runs a model with the runtime's builtin
kernels only (benchmark_model's --use_xnnpack=false), interleaved with the
others; repeat a --graph there to compare both. --peak_int8_matmul also
measures this machine's int8 and float32 matrix throughput through the same
runtime. The CPU's model and instruction sets are printed first: int8's gain
over float depends on them (docs/EXPORT.md, "Speed depends on the CPU").
"""

from __future__ import annotations

from absl import app, flags

from pqrnn.export import benchmark

_GRAPHS = flags.DEFINE_multi_string("graph", [], "A .tflite model; repeat to compare models.")
_NO_XNNPACK_GRAPHS = flags.DEFINE_multi_string(
    "graph_without_xnnpack",
    [],
    "A .tflite model run with the runtime's builtin kernels only (as benchmark_model "
    "--use_xnnpack=false); may repeat a --graph to compare both in one interleaved run.",
)
_NUM_THREADS = flags.DEFINE_integer("num_threads", 1, "Interpreter CPU threads.")
_NUM_RUNS = flags.DEFINE_integer("num_runs", 1000, "Timed invokes per model.")
_WARMUP_RUNS = flags.DEFINE_integer("warmup_runs", 50, "Untimed invokes per model first.")
_INPUT_FILE = flags.DEFINE_string(
    "input_file", None, "Utterances, one per line (default: pqrnn's generated dev set)."
)
_DATASET = flags.DEFINE_enum(
    "dataset",
    None,
    ["multiatis", "mtop"],
    "Use this real dataset's --split (all languages, shuffled) as inputs (reads ../shared/data).",
)
_SPLIT = flags.DEFINE_string("split", "test", "Split of --dataset.")
_DATA_ROOT = flags.DEFINE_string("data_root", None, "Real-data folder (default ../shared/data).")
_NUM_INPUTS = flags.DEFINE_integer("num_inputs", 0, "Use only the first N utterances (0: all).")
_OUTPUT_JSON = flags.DEFINE_string("output_json", None, "Also write the figures here.")
_PEAK = flags.DEFINE_bool(
    "peak_int8_matmul",
    False,
    "Measure the int8 matrix throughput (a 256x1024x1024 FULLY_CONNECTED), the float32 one "
    "beside it (their ratio bounds what int8 can gain over float on this CPU) and, for pQRNN "
    "graphs, the share of the int8 one they reach (imports TensorFlow after the benchmark).",
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not _GRAPHS.value and not _NO_XNNPACK_GRAPHS.value:
        raise app.UsageError("give at least one --graph=model.tflite")
    if _INPUT_FILE.value:
        texts = benchmark.read_utterances(_INPUT_FILE.value, _NUM_INPUTS.value)
        source = _INPUT_FILE.value
    elif _DATASET.value:
        texts = benchmark.dataset_utterances(
            _DATASET.value, _SPLIT.value, _DATA_ROOT.value, _NUM_INPUTS.value
        )
        source = f"{_DATASET.value} {_SPLIT.value} (all languages, shuffled)"
    else:
        texts = benchmark.default_utterances(_NUM_INPUTS.value)
        source = "pqrnn.data.synthetic dev set"
    print("STARTING!")
    print(
        f"Num runs: [{_NUM_RUNS.value}]  Warm-up runs: [{_WARMUP_RUNS.value}]  "
        f"Num threads: [{_NUM_THREADS.value}]"
    )
    mean_tokens = sum(len(t.split()) for t in texts) / len(texts)
    print(f"Inputs: {len(texts)} utterances from {source} (mean {mean_tokens:.2f} tokens)")
    cpu = benchmark.cpu_description()
    print(f"CPU: {cpu}")
    results = benchmark.run_benchmark(
        _GRAPHS.value,
        texts,
        num_threads=_NUM_THREADS.value,
        num_runs=_NUM_RUNS.value,
        warmup_runs=_WARMUP_RUNS.value,
        without_xnnpack=_NO_XNNPACK_GRAPHS.value,
    )
    for result in results:
        print()
        print(benchmark.format_result(result, _NUM_THREADS.value))
    print()
    print(
        f"pqrnn custom-op library load (MB): {benchmark.load_custom_ops() / 2**20:.1f} "
        "(before any graph; links libtensorflow_cc.so.2 on this machine)"
    )
    print(
        f"Overall peak memory footprint (MB): {benchmark.peak_rss_bytes() / 2**20:.1f} "
        "(the whole process: Python, the op library, all graphs)"
    )
    print()
    print(benchmark.format_comparison(results))
    figures = {
        "num_threads": _NUM_THREADS.value,
        "num_runs": _NUM_RUNS.value,
        "inputs": source,
        "num_inputs": len(texts),
        "cpu": cpu,
        "mean_tokens": mean_tokens,
        "peak_rss_bytes": benchmark.peak_rss_bytes(),
        "custom_op_library_rss_bytes": benchmark.load_custom_ops(),
        "graphs": [r.to_json() for r in results],
    }
    if _PEAK.value:
        peak = benchmark.peak_matmul(num_threads=_NUM_THREADS.value, int8=True)
        peak_float = benchmark.peak_matmul(num_threads=_NUM_THREADS.value, int8=False)
        figures["peak_int8_matmul"] = peak
        figures["peak_float32_matmul"] = peak_float
        print()
        for name, p in (("int8", peak), ("float32", peak_float)):
            print(
                f"{name} matrix throughput (FULLY_CONNECTED 256x1024x1024, {_NUM_THREADS.value} "
                f"thread(s)): p50 {p['p50_us']:.0f} us = {p['gmacs_per_s']:.1f} GMAC/s"
            )
        print(
            f"int8 / float32 matrix throughput on this CPU: "
            f"{peak['gmacs_per_s'] / peak_float['gmacs_per_s']:.2f}x"
        )
        for r in results:
            if r.card.get("model") != "pqrnn":
                continue
            card = r.card
            macs = benchmark.pqrnn_macs_per_token(
                card["training_config"], len(card["intent_labels"]), len(card["slot_tags"])
            )
            per_utterance = macs["per_token"] * mean_tokens + macs["per_utterance"]
            achieved = per_utterance / r.stats()["p50"] / 1e3
            share = achieved / peak["gmacs_per_s"]
            figures.setdefault("pqrnn_macs", {})[r.label] = {
                "per_token": macs["per_token"],
                "per_utterance_at_mean_tokens": per_utterance,
                "achieved_gmacs_per_s": achieved,
                "share_of_peak": share,
            }
            print(
                f"{r.label}: {per_utterance / 1e6:.2f}M MACs per utterance "
                f"({macs['per_token'] / 1e3:.0f}K per token x {mean_tokens:.2f} tokens "
                f"+ {macs['per_utterance'] / 1e3:.0f}K) -> {achieved:.2f} GMAC/s at p50 = "
                f"{100 * share:.1f}% of the int8 matrix throughput"
            )
    if _OUTPUT_JSON.value:
        from pqrnn import io_utils

        io_utils.atomic_write_json(_OUTPUT_JSON.value, figures)
        print(f"\nwrote {_OUTPUT_JSON.value}")


if __name__ == "__main__":
    app.run(main)
