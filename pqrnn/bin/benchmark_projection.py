r"""Throughput of the projection op: TF eager, tf.function and TFLite, beside a
NumPy reference implementation of the same contract, on real utterances.

    python -m pqrnn.bin.benchmark_projection                    # all defaults
    python -m pqrnn.bin.benchmark_projection --feature_sizes=512 --repeats=9
    python -m pqrnn.bin.benchmark_projection --feature_sizes=2048 --char_ngram_size=3

Every implementation runs over the same batches; implementations take turns
within each repeat (so a noisy neighbour slows all of them alike), and the
table reports the median tokens/second over repeats and the ratio to the
NumPy reference. The outputs of all four are checked to be identical first.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from pqrnn import ops, reference_projection, tflite
from pqrnn.data import catalog

FLAGS = flags.FLAGS
flags.DEFINE_list("feature_sizes", ["256", "512", "1024"], "Projection widths F to measure.")
flags.DEFINE_list(
    "batch_sizes",
    ["1", "64"],
    "Utterances per op call: 1 is the on-device case; larger batches are formed from "
    "length-sorted utterances, as a bucketing input pipeline would.",
)
flags.DEFINE_integer(
    "num_utterances", 4096, "Utterances measured (drawn evenly from every language's test split)."
)
flags.DEFINE_integer("repeats", 5, "Timed passes per implementation (median reported).")
flags.DEFINE_string(
    "data_root", None, "Real-data folder (default: $PQRNN_SHARED_DATA or ../shared/data)."
)
flags.DEFINE_integer(
    "char_ngram_size", 0, "The op's char_ngram_size for every implementation (0 = off)."
)
flags.DEFINE_string("output_json", None, "Also write the figures here.")
flags.DEFINE_string(
    "core_benchmark",
    None,
    "Path of build/projection_benchmark (`make build/projection_benchmark`): adds a row for "
    "the C++ core alone, without TensorFlow or TFLite around it.",
)


def load_utterances(num: int, data_root: str | None) -> list[str]:
    """`num` test utterances, round-robin over MTOP and MultiATIS++ languages."""
    root = catalog.find_data_root(data_root)
    if root is None:
        raise app.UsageError(
            "no real data found: set --data_root or $PQRNN_SHARED_DATA (see docs/DATA.md)"
        )
    per_language = []
    for dataset, languages in (
        ("mtop", catalog.MTOP_LANGUAGES),
        ("multiatis", catalog.MULTIATIS_LANGUAGES),
    ):
        for language in languages:
            examples, _ = catalog.load_split(dataset, language, "test", root=root)
            per_language.append([" ".join(e.tokens) for e in examples])
    return catalog.round_robin(per_language)[:num]


def attrs(feature_size: int) -> dict:
    """The op attributes measured: F and the --char_ngram_size flag."""
    return dict(feature_size=feature_size, char_ngram_size=FLAGS.char_ngram_size)


def tflite_projection(feature_size: int):
    """A TFLite interpreter holding only the projection custom op."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def project(text):
        return ops.sequence_string_projection(text, **attrs(feature_size))

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [project.get_concrete_function()], project
    )
    converter.allow_custom_ops = True
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(converter.convert())
        f.flush()
        return tflite.Interpreter(model_path=f.name, num_threads=1)


def implementations(feature_size: int, batch_size: int):
    """name -> function(batch of str) -> (projection, lengths) as NumPy."""
    project = tf.function(
        lambda t: ops.sequence_string_projection(t, **attrs(feature_size)),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    interpreter = tflite_projection(feature_size)  # One per (F, batch): fixed input shape.
    input_index = interpreter.get_input_details()[0]["index"]
    outputs = sorted(interpreter.get_output_details(), key=lambda d: len(d["shape"]))
    interpreter.resize_tensor_input(input_index, [batch_size])
    interpreter.allocate_tensors()

    def run_tflite(batch):
        interpreter.set_tensor(input_index, np.array([t.encode() for t in batch], dtype=object))
        interpreter.invoke()
        return (
            interpreter.get_tensor(outputs[1]["index"]),
            interpreter.get_tensor(outputs[0]["index"]),
        )

    def run_eager(batch):
        p, n = ops.sequence_string_projection(tf.constant(batch), **attrs(feature_size))
        return p.numpy(), n.numpy()

    def run_function(batch):
        p, n = project(tf.constant(batch))
        return p.numpy(), n.numpy()

    return {
        "numpy_reference": lambda b: reference_projection.sequence_string_projection(
            b, **attrs(feature_size)
        ),
        "tf_eager": run_eager,
        "tf_function": run_function,
        "tflite": run_tflite,
    }


def make_batches(utterances: list[str], batch_size: int) -> list[list[str]]:
    """Full batches; for batch_size > 1 of length-sorted utterances (bucketing)."""
    if batch_size > 1:
        utterances = sorted(utterances, key=lambda t: len(t.split()))
    return [
        utterances[i : i + batch_size]
        for i in range(0, len(utterances) - batch_size + 1, batch_size)
    ]


def measure(impls, batches, repeats: int) -> dict[str, float]:
    """Median seconds per pass over `batches`, implementations interleaved."""
    seconds = {name: [] for name in impls}
    names = list(impls)
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            start = time.perf_counter()
            for batch in batches:
                impls[name](batch)
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in seconds.items()}


def check_identical(impls, batches, feature_size: int) -> None:
    for batch in batches[:8]:
        want_p, want_n = impls["numpy_reference"](batch)
        for name, fn in impls.items():
            got_p, got_n = fn(batch)
            if not (np.array_equal(got_n, want_n) and np.array_equal(got_p, want_p)):
                raise AssertionError(
                    f"{name} disagrees with the NumPy reference at F={feature_size}"
                )


def core_seconds(binary: str, batches, feature_size: int, repeats: int) -> float:
    """Median seconds per pass of the C++ core alone (its own timing loop)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(t for b in batches for t in b) + "\n")
    try:
        out = subprocess.run(
            [
                binary,
                f.name,
                str(feature_size),
                str(len(batches[0])),
                str(repeats),
                str(FLAGS.char_ngram_size),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(f.name)
    return float(out.stdout)


def main(argv):
    del argv
    utterances = load_utterances(FLAGS.num_utterances, FLAGS.data_root)
    num_tokens = sum(len(t.split()) for t in utterances)
    print(
        f"\nProjection throughput on {len(utterances)} real test utterances "
        f"({num_tokens} tokens; MTOP 6 + MultiATIS++ 9 languages), "
        f"char_ngram_size {FLAGS.char_ngram_size}, TFLite on 1 thread, "
        f"median of {FLAGS.repeats} interleaved passes.\n"
    )
    print(
        f"{'F':>5} {'batch':>5} {'implementation':<16} {'tokens/s':>12} "
        f"{'µs/utterance':>13} {'× reference':>12}"
    )
    results = {}
    for feature_size in map(int, FLAGS.feature_sizes):
        for batch_size in map(int, FLAGS.batch_sizes):
            impls = implementations(feature_size, batch_size)
            batches = make_batches(utterances, batch_size)
            check_identical(impls, batches, feature_size)
            measured_utterances = sum(map(len, batches))
            measured_tokens = sum(len(t.split()) for b in batches for t in b)
            medians = measure(impls, batches, FLAGS.repeats)
            if FLAGS.core_benchmark:
                medians["cpp_core_alone"] = core_seconds(
                    FLAGS.core_benchmark, batches, feature_size, FLAGS.repeats
                )
            for name, median in medians.items():
                r = results[f"F{feature_size}/B{batch_size}/{name}"] = {
                    "tokens_per_second": measured_tokens / median,
                    "us_per_utterance": 1e6 * median / measured_utterances,
                    "speedup_vs_reference": medians["numpy_reference"] / median,
                }
                print(
                    f"{feature_size:>5} {batch_size:>5} {name:<16} {r['tokens_per_second']:>12,.0f} "
                    f"{r['us_per_utterance']:>13.1f} {r['speedup_vs_reference']:>11.1f}×"
                )
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
