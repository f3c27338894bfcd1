r"""Predicts intent and slots for utterances: JSON lines out.

    python -m pqrnn.bin.predict --workdir=/tmp/smoke --text="wake me up at 7 am"
    printf 'call mom\nplay some adele\n' | python -m pqrnn.bin.predict --workdir=/tmp/smoke

Raw text is tokenized with pqrnn.data.tokenize (MTOP-style rules); pass
--pretokenized when tokens are already separated by spaces (MultiATIS++ style).
"""

from __future__ import annotations

import json
import sys

import numpy as np
from absl import app, flags

from pqrnn import decoding
from pqrnn.data import tokenize
from pqrnn.data.example import Example, normalize_tokens
from pqrnn.metrics import bio_spans

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir of the model.", required=True)
_TEXT = flags.DEFINE_multi_string("text", [], "Utterance(s); default: one per line on stdin.")
_LANGUAGE = flags.DEFINE_string("language", "", "Language code recorded with each prediction.")
_PRETOKENIZED = flags.DEFINE_bool(
    "pretokenized", False, "Split on whitespace only instead of pqrnn.data.tokenize."
)


_SLOT_DECODING = flags.DEFINE_enum(
    "slot_decoding",
    decoding.DEFAULT,
    list(decoding.MODES),
    "viterbi (the best valid BIO sequence), viterbi_intent_types (also only slot types the "
    "training set has with the predicted intent) or argmax (each token's best tag).",
)


def to_example(i: int, text: str, language: str, pretokenized: bool) -> Example:
    tokens = text.split() if pretokenized else tokenize(text, language or None)
    tokens, tags, _ = normalize_tokens(tokens, ["O"] * len(tokens))
    return Example(f"input-{i}", language, tuple(tokens), tuple(tags), "")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from pqrnn.training import predictor

    texts = _TEXT.value or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    examples = [to_example(i, t, _LANGUAGE.value, _PRETOKENIZED.value) for i, t in enumerate(texts)]
    trained = predictor.TrainedModel.restore(_WORKDIR.value)
    predictions, logits = predictor.predict_examples(
        trained.config,
        trained.model,
        trained.vocabs,
        examples,
        return_logits=True,
        slot_decoding=_SLOT_DECODING.value,
        types_by_intent=(
            trained.slot_types_by_intent() if decoding.needs_types(_SLOT_DECODING.value) else None
        ),
    )
    for text, example, (intent, tags), (intent_logits, _) in zip(
        texts, examples, predictions, logits, strict=True
    ):
        probabilities = np.exp(intent_logits - intent_logits.max())
        probabilities /= probabilities.sum()
        slots = [
            {"type": kind, "text": " ".join(example.tokens[start:end]), "tokens": [start, end]}
            for kind, start, end in bio_spans(tags)
        ]
        print(
            json.dumps(
                {
                    "text": text,
                    "tokens": list(example.tokens),
                    "intent": intent,
                    "intent_probability": round(float(probabilities.max()), 4),
                    "tags": list(tags),
                    "slots": slots,
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    app.run(main)
