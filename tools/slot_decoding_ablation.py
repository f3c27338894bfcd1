r"""Exact match of trained workdirs under each slot decoding (pqrnn.decoding).

For each --workdir: the model's logits on a split, then the slots read four
ways: argmax or Viterbi over valid BIO sequences, each with and without the
slot types restricted to those the training set has with the predicted
intent (`pqrnn.decoding.types_by_intent`). The logits are computed once.
"invalid" counts utterances whose tags are not a valid BIO sequence (an
"I-X" not after "B-X"/"I-X"); "slot errors" those with the right intent and
wrong slots.

    python tools/slot_decoding_ablation.py --split=test \
        --workdir=workdirs/teacher_mtop --workdir=workdirs/distill_mtop_4x_cng2_sqrt
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

import pqrnn  # noqa: F401
from pqrnn import metrics
from pqrnn.data.example import OUTSIDE
from pqrnn.data.vocab import UNKNOWN_LABEL
from pqrnn.decoding import ARGMAX, VITERBI, BioDecoder, is_valid_bio, types_by_intent

_WORKDIRS = flags.DEFINE_multi_string("workdir", [], "Training workdirs (same dataset).")
_SPLIT = flags.DEFINE_string("split", "validation", "Split to score.")
_OUTPUT = flags.DEFINE_string("output_json", None, "Also write the figures here.")


def main(argv):
    del argv
    from pqrnn.distill.labelling import PqrnnTeacher
    from pqrnn.training import experiment

    rows = []
    for workdir in _WORKDIRS.value:
        model = PqrnnTeacher([workdir])
        config = model.members[0].config
        train, _ = experiment.load_examples(config, "train")
        examples, _ = experiment.load_examples(config, _SPLIT.value)
        table = types_by_intent(train)
        logits = model.logits(examples)
        for mode in (ARGMAX, VITERBI):
            for use_types in (False, True):
                decoder = BioDecoder(model.tags, mode, types_by_intent=table if use_types else None)
                predictions = []
                for intent_logits, slot_logits in logits:
                    intent = model.intents[int(np.argmax(intent_logits))]
                    ids = decoder.decode(slot_logits, intent if use_types else None)
                    tags = tuple(
                        OUTSIDE if model.tags[i] == UNKNOWN_LABEL else model.tags[i] for i in ids
                    )
                    predictions.append((intent, tags))
                macro = metrics.evaluate(predictions, examples)["macro"]
                slot_errors = [
                    tags
                    for (intent, tags), e in zip(predictions, examples, strict=True)
                    if intent == e.intent and not metrics.is_exact_match(intent, tags, e)
                ]
                row = {
                    "workdir": workdir,
                    "decoding": mode,
                    "types_by_intent": use_types,
                    **{k: round(100 * macro[k], 2) for k in metrics.METRIC_NAMES},
                    "utterances": len(examples),
                    "invalid": sum(not is_valid_bio(tags) for _, tags in predictions),
                    "slot_errors": len(slot_errors),
                    "slot_errors_invalid": sum(not is_valid_bio(tags) for tags in slot_errors),
                }
                rows.append(row)
                print(
                    f"{workdir:45s} {mode:8s} types={use_types!s:5s} "
                    f"intent {row['intent_accuracy']:6.2f}  slot F1 {row['slot_f1']:6.2f}  "
                    f"EM {row['exact_match']:6.2f}  invalid {row['invalid']}  slot errors "
                    f"{row['slot_errors']} (invalid {row['slot_errors_invalid']})",
                    flush=True,
                )
    if _OUTPUT.value:
        with open(_OUTPUT.value, "w", encoding="utf-8") as f:
            json.dump({"split": _SPLIT.value, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    app.run(main)
