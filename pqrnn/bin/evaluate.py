r"""Evaluates a trained model on a split: per-language table, written as JSON.

    python -m pqrnn.bin.evaluate --workdir=workdirs/multiatis_pqrnn --split=test
    python -m pqrnn.bin.evaluate --tflite=workdirs/multiatis_pqrnn/export/model_int8.tflite \
        --split=test

With --tflite, the exported file is evaluated as an app runs it: labels,
input format and projection come from its model card, the data settings
(dataset, languages) from the training config the card records.

With --predictions_output, each utterance's prediction is written too, for
`pqrnn.bin.compare` (is one model's lead over another more than chance?).

With --typo_probability=p, each token of the split gets one random
character edit (deleted, moved or duplicated) with probability p before the
model reads it (`pqrnn.data.typos`): how the model reads words it has never
seen. The typos are seeded per utterance (--typo_seed), so two models
scored with the same seed see the same ones and their predictions pair.
The metrics file gets a `typos` entry, and its default name a
`_typos<p>_seed<s>` suffix, so the clean figures are never overwritten.

Slot tags are the best valid BIO sequence under the model's per-token
log-probabilities (`pqrnn.decoding`, --slot_decoding=viterbi) unless
--slot_decoding=argmax; figures in docs/RESULTS.md dated before 2026-12-06
(session 13) were argmax-decoded.

Metrics (pqrnn.metrics): intent accuracy, slot F1 (span level, CoNLL
semantics) and exact match (intent and every top-level slot correct), per
language and macro-averaged over languages.
"""

from __future__ import annotations

import os

from absl import app, flags, logging

from pqrnn import decoding, io_utils, metrics
from pqrnn.data import typos
from pqrnn.training import experiment, predictor

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to evaluate.")
_TFLITE = flags.DEFINE_string(
    "tflite", None, "An exported .tflite model to evaluate instead of a workdir."
)
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
    "output_json",
    None,
    "Where to write the metrics (default: <workdir>/metrics_<split>.json, or "
    "<model>.metrics_<split>.json beside a --tflite file).",
)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 256, "Examples per inference batch.")
_SLOT_DECODING = flags.DEFINE_enum(
    "slot_decoding",
    None,
    list(decoding.MODES),
    "How slot logits become tags (pqrnn.decoding): viterbi (the best valid BIO sequence), "
    "viterbi_intent_types (also only slot types the training set has with the predicted "
    "intent) or argmax. Default: viterbi for a workdir; for --tflite, what its model card says "
    "(argmax for files exported before the card recorded it).",
)
_TYPO_PROBABILITY = flags.DEFINE_float(
    "typo_probability",
    0.0,
    "Give each token one random character edit with this probability before the model "
    "reads it (pqrnn.data.typos); 0 scores the split as it is.",
)
_TYPO_SEED = flags.DEFINE_integer("typo_seed", 0, "Seed of the typos (per utterance).")
_PREDICTIONS = flags.DEFINE_string(
    "predictions_output",
    None,
    "Also write one JSON line per utterance (language, id, predicted intent and tags, "
    "exact_match) here: what pqrnn.bin.compare reads.",
)


def _load(config):
    with config.unlocked():
        if _LANGUAGES.value:
            config.data.languages = _LANGUAGES.value
        if _DATA_ROOT.value:
            config.data.root = _DATA_ROOT.value
        config.data.strict = _STRICT.value
    examples, report = experiment.load_examples(config, _SPLIT.value)
    typo_summary = None
    if _TYPO_PROBABILITY.value:
        examples, typo_report = typos.with_typos(
            examples, _TYPO_PROBABILITY.value, seed=_TYPO_SEED.value
        )
        typo_summary = typo_report.summary()
        logging.info("typos: %s", typo_summary)
    return examples, report, typo_summary


def _default_name(split: str) -> str:
    """metrics_<split>.json, with a suffix naming the typos if any."""
    if not _TYPO_PROBABILITY.value:
        return f"metrics_{split}.json"
    return f"metrics_{split}_typos{_TYPO_PROBABILITY.value:g}_seed{_TYPO_SEED.value}.json"


def _report(results: dict, title: str, output: str, predictions, examples, typo_summary) -> None:
    if typo_summary:
        results["typos"] = typo_summary
        title += f", typos in {typo_summary['tokens_edited']} of {typo_summary['tokens']} tokens"
    print(f"\n{title}, split {_SPLIT.value}:")
    print(metrics.format_table(results))
    io_utils.atomic_write_json(output, results)
    logging.info("wrote %s", output)
    if _PREDICTIONS.value:
        io_utils.atomic_write_json_lines(
            _PREDICTIONS.value, metrics.prediction_rows(predictions, examples)
        )
        logging.info("wrote %s", _PREDICTIONS.value)


def main_tflite(path: str) -> None:
    import ml_collections

    from pqrnn.export import model_card, runner

    model = runner.TFLiteNLUModel(path)
    card = model.card
    examples, report, typo_summary = _load(ml_collections.ConfigDict(card["training_config"]))
    unknown = model_card.label_vocabs(card).count_unknown(examples, strict=_STRICT.value)
    slot_decoding = _SLOT_DECODING.value or model.slot_decoding
    predictions = model.predict(examples, batch_size=_BATCH_SIZE.value, slot_decoding=slot_decoding)
    results = metrics.evaluate(predictions, examples)
    results.update(
        split=_SPLIT.value,
        slot_decoding=slot_decoding,
        step=card.get("training_step"),
        model=card["model"],
        tflite=path,
        precision=card["precision"],
        quantization=card.get("quantization"),
        read_report=report.summary(),
        unknown_labels=dict(unknown),
    )
    output = _OUTPUT.value or f"{os.path.splitext(path)[0]}.{_default_name(_SPLIT.value)}"
    title = f"{card['model']} {card['precision']} ({os.path.basename(path)})"
    _report(results, title, output, predictions, examples, typo_summary)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if (_WORKDIR.value is None) == (_TFLITE.value is None):
        raise app.UsageError("give exactly one of --workdir and --tflite")
    if not 0.0 <= _TYPO_PROBABILITY.value <= 1.0:
        raise app.UsageError(f"--typo_probability={_TYPO_PROBABILITY.value} must be in [0, 1]")
    if _TFLITE.value:
        main_tflite(_TFLITE.value)
        return
    trained = predictor.TrainedModel.restore(_WORKDIR.value, _CHECKPOINT.value)
    config = trained.config
    examples, report, typo_summary = _load(config)
    # Labels the model never saw cannot be predicted: count and name them
    # (with --strict, the first one is an error).
    unknown = trained.vocabs.count_unknown(examples, strict=_STRICT.value)
    slot_decoding = _SLOT_DECODING.value or decoding.DEFAULT
    predictions = trained.predict(
        examples, batch_size=_BATCH_SIZE.value, slot_decoding=slot_decoding
    )
    results = metrics.evaluate(predictions, examples)
    results["split"] = _SPLIT.value
    results["slot_decoding"] = slot_decoding
    results["step"] = trained.step
    results["model"] = config.model.name
    results["read_report"] = report.summary()
    results["unknown_labels"] = dict(unknown)
    output = _OUTPUT.value or os.path.join(_WORKDIR.value, _default_name(_SPLIT.value))
    title = f"{config.model.name} at step {trained.step}"
    _report(results, title, output, predictions, examples, typo_summary)


if __name__ == "__main__":
    app.run(main)
