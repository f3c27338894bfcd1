r"""Is model A's exact match really different from model B's? A paired bootstrap.

    python -m pqrnn.bin.evaluate --tflite=workdirs/distill_multiatis/export/model_int8.tflite \
        --split=test --predictions_output=/tmp/a.jsonl
    python -m pqrnn.bin.evaluate --workdir=workdirs/multiatis_bilstm --split=test \
        --predictions_output=/tmp/b.jsonl
    python -m pqrnn.bin.compare --a=/tmp/a.jsonl --b=/tmp/b.jsonl

Reads two files of per-utterance predictions (`evaluate --predictions_output`)
on the same utterances, pairs them by (language, id), and prints each
language's exact match for A and B and the macro-averaged difference A - B
with its bootstrap confidence interval and p-value
(`pqrnn.metrics.paired_bootstrap`: utterances resampled within each
language). An interval that contains 0 means the test set cannot tell the
two apart at that confidence.
"""

from __future__ import annotations

from absl import app, flags

from pqrnn import io_utils, metrics

_A = flags.DEFINE_string("a", None, "Predictions of model A (JSON lines).", required=True)
_B = flags.DEFINE_string("b", None, "Predictions of model B (JSON lines).", required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 10000, "Bootstrap resamples.")
_SEED = flags.DEFINE_integer("seed", 0, "Resampling seed.")
_CONFIDENCE = flags.DEFINE_float("confidence", 0.95, "Of the two-sided interval.")
_OUTPUT = flags.DEFINE_string("output_json", None, "Also write the result here.")


def format_result(result: dict, name_a: str, name_b: str) -> str:
    lines = [f"A: {name_a}", f"B: {name_b}", "lang      n     EM A    EM B   A - B"]
    for language, row in result["per_language"].items():
        a, b = 100 * row["exact_match_a"], 100 * row["exact_match_b"]
        lines.append(f"{language:<5}{row['num_examples']:>6}  {a:7.2f} {b:7.2f} {a - b:+7.2f}")
    level = round(100 * result["confidence"])
    lines.append(
        f"macro A - B: {100 * result['delta']:+.2f} points, {level}% interval "
        f"[{100 * result['ci_low']:+.2f}, {100 * result['ci_high']:+.2f}], "
        f"p = {result['p_value']:.3g} ({result['num_samples']} paired bootstrap resamples)"
    )
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        result = metrics.compare_hits(
            metrics.read_hits(_A.value),
            metrics.read_hits(_B.value),
            num_samples=_NUM_SAMPLES.value,
            seed=_SEED.value,
            confidence=_CONFIDENCE.value,
        )
    except ValueError as e:
        raise app.UsageError(str(e)) from e
    print(format_result(result, _A.value, _B.value))
    if _OUTPUT.value:
        io_utils.atomic_write_json(_OUTPUT.value, {"a": _A.value, "b": _B.value, **result})


if __name__ == "__main__":
    app.run(main)
