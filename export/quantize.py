r"""Quantizes a trained pQRNN run for int8 export: QAT fine-tuning or PTQ.

    python export/quantize.py --workdir=workdirs/multiatis_pqrnn --method=qat
    python export/quantize.py --workdir=workdirs/multiatis_pqrnn --method=ptq

--method=qat fine-tunes the run's float model with quantization-aware
training (tensorflow-model-optimization; fake-quant on the weights, the
bottleneck, the QRNN gates and the heads) and writes the weights to
<workdir>/qat/. --method=ptq prepares full-integer post-training
quantization with a representative dataset (calibration utterances from the
training split). Both convert to int8 and evaluate it on the dev split, and
record the choice in <workdir>/quantization.json, which export/export.py
then follows (its --quantization=auto). Details: docs/EXPORT.md.
"""

from __future__ import annotations

import os

from absl import app, flags, logging

import pqrnn  # noqa: F401
from pqrnn.export import exporter, quantize_run

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to quantize.", required=True)
_METHOD = flags.DEFINE_enum(
    "method",
    "qat",
    ["qat", "ptq"],
    "qat: quantization-aware fine-tuning; ptq: post-training calibration only.",
)
_EPOCHS = flags.DEFINE_float("qat_epochs", 2.0, "QAT fine-tuning passes over the training split.")
_LEARNING_RATE = flags.DEFINE_float(
    "qat_learning_rate", 0.0, "QAT AdamW learning rate (0: a tenth of the run's peak rate)."
)
_NUM_CALIBRATION = flags.DEFINE_integer(
    "num_calibration",
    exporter.DEFAULT_NUM_CALIBRATION,
    "Training utterances in the representative dataset.",
)
_CHECK_EXAMPLES = flags.DEFINE_integer(
    "check_examples",
    0,
    "Dev utterances to evaluate on (0: the whole split; else round-robin over languages).",
)
_POOLING = flags.DEFINE_enum(
    "pooling", "op", ["op", "builtin"], "QRNN recurrence: the custom kernel or the builtin scan."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    summary = quantize_run.quantize(
        _WORKDIR.value,
        method=_METHOD.value,
        qat_epochs=_EPOCHS.value,
        qat_learning_rate=_LEARNING_RATE.value or None,
        num_calibration=_NUM_CALIBRATION.value,
        check_examples=_CHECK_EXAMPLES.value,
        pooling=_POOLING.value,
    )
    print(quantize_run.format_summary(summary))
    logging.info("wrote %s", os.path.join(_WORKDIR.value, "quantization.json"))


if __name__ == "__main__":
    app.run(main)
