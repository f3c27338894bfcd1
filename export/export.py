r"""Exports a trained run: int8 and float32 `.tflite` files and a SavedModel.

    python export/export.py --workdir=workdirs/multiatis_pqrnn
    python export/export.py --workdir=workdirs/mtop_bilstm --output_dir=/tmp/bilstm

Writes, atomically, into --output_dir (default <workdir>/export):
model_int8.tflite, model_float32.tflite, saved_model/ and
export_report.json. Each `.tflite` carries its model card (labels,
projection, config; `pqrnn.export.read_model_card`). Before anything is
written, every file is checked: its op list, and its predictions on the dev
split against the Keras model (float32: identical on >= 99.5% of
utterances; int8: exact match within 0.5 points; a PTQ file that fails is
calibrated again on the next draws, --calibration_draws). A file that fails
is not written unless --force. Int8 follows <workdir>/quantization.json (written
by export/quantize.py), else post-training calibration. docs/EXPORT.md.
"""

from __future__ import annotations

from absl import app, flags, logging

import pqrnn  # noqa: F401
from pqrnn import decoding
from pqrnn.export import exporter

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to export.", required=True)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Output folder (default <workdir>/export).")
_QUANTIZATION = flags.DEFINE_enum(
    "quantization",
    "auto",
    list(exporter.QUANTIZATION_CHOICES),
    "int8 method: qat, ptq, or auto (what export/quantize.py chose, else ptq).",
)
_POOLING = flags.DEFINE_enum(
    "pooling",
    "op",
    ["op", "builtin"],
    "pQRNN QRNN recurrence: the PQRNN>QRNNPooling kernel, or builtin ops (WHILE loop).",
)
_NUM_CALIBRATION = flags.DEFINE_integer(
    "num_calibration", exporter.DEFAULT_NUM_CALIBRATION, "Training utterances for int8 calibration."
)
_CALIBRATION_SEED = flags.DEFINE_integer(
    "calibration_seed", 0, "Seed of the shuffle that draws the calibration utterances."
)
_CALIBRATION_DRAWS = flags.DEFINE_integer(
    "calibration_draws",
    exporter.DEFAULT_CALIBRATION_DRAWS,
    "PTQ: when the int8 file fails its dev check, calibrate again on the next seeds, up to "
    "this many draws in all; the first that passes ships, every draw is in the report "
    "(1: no retries).",
)
_CHECK_EXAMPLES = flags.DEFINE_integer(
    "check_examples",
    0,
    "Dev utterances the checks run on (0: the whole split; else round-robin over languages).",
)
_GATE_CLIP = flags.DEFINE_float(
    "gate_clip",
    exporter.DEFAULT_GATE_CLIP,
    "pQRNN int8 (PTQ) files: clip the QRNN gate pre-activations to [-c, c] so that "
    "int8 resolves that range, e.g. 8 (0: off; docs/EXPORT.md).",
)
_FLOAT_LOGITS = flags.DEFINE_bool(
    "float_logits",
    exporter.DEFAULT_FLOAT_LOGITS,
    "int8 (PTQ) files: the classifiers compute in float (float16 weights) and write float32 "
    "logits instead of int8 ones; --nofloat_logits for all-int8 (docs/EXPORT.md).",
)
_SLOT_DECODING = flags.DEFINE_enum(
    "slot_decoding",
    decoding.DEFAULT,
    list(decoding.MODES),
    "How apps read the slot logits, recorded in the card and used by the checks: "
    "viterbi (the best valid BIO sequence) or argmax (docs/EXPORT.md, 'Decoding slots').",
)
_FORCE = flags.DEFINE_bool("force", False, "Write the files even if a check fails.")
_SAVED_MODEL = flags.DEFINE_bool("saved_model", True, "Also write the float SavedModel.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    options = exporter.ExportOptions(
        output_dir=_OUTPUT_DIR.value,
        quantization=_QUANTIZATION.value,
        gate_clip=_GATE_CLIP.value,
        float_logits=_FLOAT_LOGITS.value,
        pooling=_POOLING.value,
        num_calibration=_NUM_CALIBRATION.value,
        calibration_seed=_CALIBRATION_SEED.value,
        calibration_draws=_CALIBRATION_DRAWS.value,
        check_examples=_CHECK_EXAMPLES.value,
        force=_FORCE.value,
        saved_model=_SAVED_MODEL.value,
        slot_decoding=_SLOT_DECODING.value,
    )
    try:
        report = exporter.export(_WORKDIR.value, options)
    except exporter.ArtifactCheckError as e:
        logging.error("%s", e)
        raise SystemExit(1) from e
    print(exporter.format_report(report))


if __name__ == "__main__":
    app.run(main)
