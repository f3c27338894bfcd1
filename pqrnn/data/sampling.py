"""Language-balanced training sets: the smaller languages' examples repeated.

Multilingual data is rarely balanced: MultiATIS++ has about 4,480
training utterances in each of seven languages, 1,490 in Hindi and 626 in
Turkish, while its figure of merit is the plain average over languages.
Trained on the natural mix, a model spends 1.9% of its updates on
Turkish, which weighs 1/9 of the score. Multilingual models (mBERT, XLM, XLM-R) sample language
L with probability q_L ∝ n_L^α instead of n_L (α = 1: the natural mix;
α = 0: every language equally); α = 0.5 to 0.7 is the usual choice.

`balance_languages` gets close to that without a sampler: each example of
language L appears r_L = round((n_max / n_L)^(1 − α)) times per epoch
(at least once), so q_L ∝ n_L · r_L ≈ n_max^(1−α) · n_L^α. Whole repeats
keep what the trainer relies on: an epoch is a fixed list, shuffled with a
seed of its own, so a resumed run sees the same batches, and every example
is still seen every epoch. The copies of an example differ only by the
projection's distortion, drawn from a stream that advances with every
token; the unseen-word noise (pqrnn.data.word_noise) is keyed by the
utterance and the epoch, so the copies of one epoch share it.

α = 1 returns the list unchanged; the epoch grows with the repeats (the
trainer counts steps from the balanced list).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping, Sequence

from pqrnn.data.example import Example


def check_exponent(exponent: float) -> None:
    """Raises ValueError unless 0 <= exponent <= 1 (NaN included)."""
    if not (isinstance(exponent, (int, float)) and 0.0 <= exponent <= 1.0):
        raise ValueError(
            f"train.language_sampling_exponent must be in [0, 1] (1 = the natural mix, "
            f"0 = every language equally), got {exponent!r}"
        )


def language_repeats(counts: Mapping[str, int], exponent: float) -> dict[str, int]:
    """How many times each language's examples appear per epoch.

    >>> language_repeats({"en": 4488, "hi": 1490, "tr": 626}, 0.5)
    {'en': 1, 'hi': 2, 'tr': 3}
    >>> language_repeats({"en": 4478, "tr": 578}, 1.0)
    {'en': 1, 'tr': 1}
    """
    check_exponent(exponent)
    if not counts:
        return {}
    if any(n <= 0 for n in counts.values()):
        raise ValueError(f"language counts must be positive, got {dict(counts)}")
    largest = max(counts.values())
    return {
        language: max(1, round((largest / n) ** (1.0 - exponent)))
        for language, n in sorted(counts.items())
    }


def balance_languages(examples: Sequence[Example], exponent: float) -> list[Example]:
    """`examples` followed by the extra copies of the smaller languages'.

    The first len(examples) items are `examples` in their order; then, for
    r = 2, 3, ..., each example whose language repeats r or more times, in
    the same order. Deterministic: no random draw.
    """
    counts = collections.Counter(e.language for e in examples)
    repeats = language_repeats(counts, exponent)
    out = list(examples)
    most = max(repeats.values(), default=1)
    for r in range(2, most + 1):
        out.extend(e for e in examples if repeats[e.language] >= r)
    return out


def describe(examples: Sequence[Example], exponent: float) -> str:
    """One line for the training log: per language, examples and repeats."""
    counts = collections.Counter(e.language for e in examples)
    repeats = language_repeats(counts, exponent)
    total = sum(counts[k] * repeats[k] for k in counts) or 1
    parts = [
        f"{k} {counts[k]}x{repeats[k]} ({100.0 * counts[k] * repeats[k] / total:.1f}%)"
        for k in sorted(counts)
    ]
    alpha = "" if math.isclose(exponent, 1.0) else f" (exponent {exponent:g})"
    return f"languages per epoch{alpha}: " + ", ".join(parts)
