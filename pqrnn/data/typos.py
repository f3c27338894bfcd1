"""Typos in evaluation data: how a model reads words it has never seen.

A vocabulary-free model meets an unseen word as the hash of its string: a
vector no training example showed it. Test sets hold such words (31.8% of
MultiATIS++ test utterances have one, 15.2% of its dev utterances,
docs/RESULTS.md "Where the student loses to its teacher"), and a phone
keyboard makes more. `with_typos` gives each token, with a probability, one
random character edit of the kinds the projection's training-time
distortion makes (a character deleted, moved or duplicated), so any split
can be scored as if its words were new (`pqrnn.bin.evaluate
--typo_probability`). Slot tags, intents and ids are unchanged: a typo
does not change what the user meant.

The edits are seeded per utterance (seed, language, id), not by position in
a list, so two models scored with the same seed see the same typos (their
predictions pair for `pqrnn.bin.compare`), and a subset of a split gets the
same typos as the whole. Edits work on Unicode code points, so every
token stays valid text, non-empty and free of whitespace.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

from pqrnn.data.example import Example

EDITS = ("delete", "move", "duplicate")


@dataclasses.dataclass
class TypoReport:
    """What `with_typos` changed."""

    probability: float
    seed: int
    tokens: int = 0
    tokens_edited: int = 0
    utterances_edited: int = 0

    def summary(self) -> dict:
        return dataclasses.asdict(self)


def edit_token(token: str, rng: random.Random) -> str:
    """One random edit of `token`: delete, move or duplicate one character.

    A one-character token is never deleted (it would vanish); it is
    duplicated instead.
    """
    chars = list(token)
    if not chars:
        raise ValueError("cannot edit an empty token")
    edit = rng.choice(EDITS) if len(chars) > 1 else "duplicate"
    i = rng.randrange(len(chars))
    if edit == "delete":
        del chars[i]
    elif edit == "duplicate":
        chars.insert(i, chars[i])
    else:  # move: take one character out and put it back elsewhere
        c = chars.pop(i)
        j = rng.randrange(len(chars))
        chars.insert(j if j < i else j + 1, c)
    return "".join(chars)


def with_typos(
    examples: Sequence[Example], probability: float, seed: int = 0
) -> tuple[list[Example], TypoReport]:
    """Copies of `examples` whose tokens each get one edit with `probability`.

    Raises:
      ValueError: `probability` is not in [0, 1].
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"typo probability {probability} must be in [0, 1]")
    report = TypoReport(probability=probability, seed=seed)
    out = []
    for example in examples:
        # A string seed is hashed with SHA-512: the same stream on every
        # platform and Python version.
        rng = random.Random(f"{seed}\t{example.language}\t{example.id}")
        tokens = []
        for token in example.tokens:
            if probability > 0 and rng.random() < probability:
                token = edit_token(token, rng)
                report.tokens_edited += 1
            tokens.append(token)
        report.tokens += len(tokens)
        tokens = tuple(tokens)
        if tokens != example.tokens:
            report.utterances_edited += 1
            example = dataclasses.replace(example, tokens=tokens)
        out.append(example)
    return out, report
