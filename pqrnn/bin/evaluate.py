r"""Evaluates a trained model on a split: per-language table, written as JSON.

    python -m pqrnn.bin.evaluate --workdir=workdirs/multiatis_pqrnn --split=test

Metrics (pqrnn.metrics): intent accuracy, slot F1 (span level, CoNLL
semantics) and exact match (intent and every top-level slot correct), per
language and macro-averaged over languages.
"""

from __future__ import annotations

import os

from absl import app, flags, logging

import pqrnn  # noqa: F401
from pqrnn import io_utils, metrics
from pqrnn.training import experiment, predictor

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to evaluate.", required=True)
_SPLIT = flags.DEFINE_enum(
    "split", "test", ["train", "validation", "test", "dev", "eval"], "Split to evaluate."
)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "A checkpoint path (default: the latest).")
_LANGUAGES = flags.DEFINE_string(
    "languages", None, "Comma list of languages (default: the training config's)."
)
_DATA_ROOT = flags.DEFINE_string("data_root", None, "Real-data folder (default: the config's).")
_STRICT = flags.DEFINE_bool(
    "strict", False, "Fail on the first malformed row instead of warning and counting it."
)
_OUTPUT = flags.DEFINE_string(
    "output_json", None, "Where to write the metrics (default: <workdir>/metrics_<split>.json)."
)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 256, "Examples per inference batch.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    trained = predictor.TrainedModel.restore(_WORKDIR.value, _CHECKPOINT.value)
    config = trained.config
    with config.unlocked():
        if _LANGUAGES.value:
            config.data.languages = _LANGUAGES.value
        if _DATA_ROOT.value:
            config.data.root = _DATA_ROOT.value
        config.data.strict = _STRICT.value
    examples, report = experiment.load_examples(config, _SPLIT.value)
    # Labels the model never saw cannot be predicted: count and name them
    # (with --strict, the first one is an error).
    unknown = trained.vocabs.count_unknown(examples, strict=_STRICT.value)
    predictions = trained.predict(examples, batch_size=_BATCH_SIZE.value)
    results = metrics.evaluate(predictions, examples)
    results["split"] = _SPLIT.value
    results["step"] = trained.step
    results["model"] = config.model.name
    results["read_report"] = report.summary()
    results["unknown_labels"] = dict(unknown)
    print(f"\n{config.model.name} at step {trained.step}, split {_SPLIT.value}:")
    print(metrics.format_table(results))
    output = _OUTPUT.value or os.path.join(_WORKDIR.value, f"metrics_{_SPLIT.value}.json")
    io_utils.atomic_write_json(output, results)
    logging.info("wrote %s", output)


if __name__ == "__main__":
    app.run(main)
