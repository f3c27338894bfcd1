"""Transfer-set augmentation that needs no external model.

Distillation works best when the student sees many more utterances than the
labelled set holds, each labelled by the teacher (Kaliamoorthi et al., 2021,
augment their transfer set the same way). This module makes new utterances
from the training set alone, four ways:

- "substitute": a slot value is replaced by another value of the same slot
  type (and language) seen in training ("flights to [boston]" ->
  "flights to [denver]").
- "dropout": tokens are deleted (each with `dropout_rate`).
- "swap": two adjacent units (a whole slot, or one non-slot token) trade
  places.
- "code_switch": a slot value is replaced by the same slot's value in a
  translation of the same utterance (MTOP and MultiATIS++ ids are shared by
  the translations of one utterance); the partner must have the same
  intent, and the k-th slot of a type is paired with the partner's k-th
  slot of that type.

Every new example keeps valid BIO tags derived from its source (useful as
hard labels, though the teacher's logits are the real signal). The output
is deterministic given the examples (in order) and the seed.
"""

from __future__ import annotations

import collections
import dataclasses
import random
from collections.abc import Sequence

from pqrnn.data.example import OUTSIDE, Example
from pqrnn.metrics import bio_spans

METHODS = ("substitute", "dropout", "swap", "code_switch")


@dataclasses.dataclass(frozen=True)
class Augmented:
    """One augmented example, the method that made it and its source example."""

    example: Example
    method: str
    source: Example


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """How much and which augmentation.

    Fields:
      amount: augmented examples to make per input example (a float: 0.5
        makes half as many as the input, 3 three times as many).
      methods: which of METHODS to use; each new example tries them in a
        random order and keeps the first that changes its source.
      dropout_rate: per-token deletion probability of "dropout".
      replace_rate: per-slot replacement probability of "substitute" and
        "code_switch" (at least one slot is always replaced).
      seed: the random seed.
    """

    amount: float = 1.0
    methods: tuple[str, ...] = METHODS
    dropout_rate: float = 0.15
    replace_rate: float = 0.5
    seed: int = 0

    def __post_init__(self):
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown or not self.methods:
            raise ValueError(
                f"augmentation methods {unknown or '(none)'}; expected some of {METHODS}"
            )
        if self.amount < 0:
            raise ValueError(f"augmentation amount must be >= 0, got {self.amount}")
        for name in ("dropout_rate", "replace_rate"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")


def repair_bio(tags: Sequence[str]) -> tuple[str, ...]:
    """Makes a tag sequence valid BIO: an "I-X" that does not continue an X
    slot becomes "B-X".

    Example:
    >>> repair_bio(["I-a", "O", "I-b", "I-b", "B-c", "I-a"])
    ('B-a', 'O', 'B-b', 'I-b', 'B-c', 'B-a')
    """
    out: list[str] = []
    previous = OUTSIDE
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        previous = tag
    return tuple(out)


def _span_tags(kind: str, length: int) -> list[str]:
    return [f"B-{kind}"] + [f"I-{kind}"] * (length - 1)


def _replace_spans(
    example: Example, replacements: dict[int, tuple[str, tuple[str, ...]]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Tokens and tags of `example` with the spans starting at the given
    positions replaced by (type, tokens)."""
    spans = {start: end for _, start, end in bio_spans(example.tags)}
    tokens: list[str] = []
    tags: list[str] = []
    i = 0
    while i < len(example.tokens):
        if i in replacements:
            kind, value = replacements[i]
            tokens += value
            tags += _span_tags(kind, len(value))
            i = spans[i]
        else:
            tokens.append(example.tokens[i])
            tags.append(example.tags[i])
            i += 1
    return tuple(tokens), tuple(tags)


def _choose(items: list, rate: float, rnd: random.Random) -> list:
    """Each item with probability `rate`, at least one (items non-empty)."""
    chosen = [item for item in items if rnd.random() < rate]
    return chosen or [rnd.choice(items)]


class Augmenter:
    """Makes augmented examples from a training set (see the module docstring).

    Args:
      examples: the training examples (the source of slot values and of
        translations for code-switching).
      config: AugmentConfig.

    Example:
    >>> train = [Example("1", "en", ("to", "paris"), ("O", "B-city"), "fly"),
    ...          Example("2", "en", ("to", "rome"), ("O", "B-city"), "fly")]
    >>> out = Augmenter(train, AugmentConfig(amount=1, methods=("substitute",))).augment()
    >>> [a.example.tokens for a in out]
    [('to', 'paris'), ('to', 'rome')]
    """

    def __init__(self, examples: Sequence[Example], config: AugmentConfig = AugmentConfig()):
        self.examples = list(examples)
        self.config = config
        values: dict[tuple[str, str], set[tuple[str, ...]]] = collections.defaultdict(set)
        self.translations: dict[str, dict[str, Example]] = collections.defaultdict(dict)
        for example in self.examples:
            for kind, start, end in bio_spans(example.tags):
                values[example.language, kind].add(example.tokens[start:end])
            self.translations[example.id][example.language] = example
        # Sorted, so the choice does not depend on set iteration order.
        self.values = {key: sorted(found) for key, found in values.items()}

    def augment(self) -> list[Augmented]:
        """round(amount * len(examples)) new examples (fewer if some source
        cannot be changed by any method), deterministic for the seed."""
        config = self.config
        wanted = round(config.amount * len(self.examples))
        if not self.examples or not wanted:
            return []
        order_rnd = random.Random(f"{config.seed}/order")
        order: list[int] = []
        out: list[Augmented] = []
        for j in range(wanted):
            if j % len(self.examples) == 0:
                order = list(range(len(self.examples)))
                order_rnd.shuffle(order)
            source = self.examples[order[j % len(self.examples)]]
            rnd = random.Random(f"{config.seed}/{j}")
            methods = list(config.methods)
            rnd.shuffle(methods)
            for method in methods:
                made = getattr(self, f"_{method}")(source, rnd)
                if made is not None and made != (source.tokens, source.tags):
                    tokens, tags = made
                    example = Example(
                        id=f"{source.id}~aug{j}-{method}",
                        language=source.language,
                        tokens=tokens,
                        tags=tags,
                        intent=source.intent,
                        source=f"augment:{method}:{source.id}",
                    )
                    out.append(Augmented(example, method, source))
                    break
        return out

    def _substitute(self, example: Example, rnd: random.Random):
        candidates = []
        for kind, start, end in bio_spans(example.tags):
            others = [
                v
                for v in self.values.get((example.language, kind), ())
                if v != example.tokens[start:end]
            ]
            if others:
                candidates.append((start, kind, others))
        if not candidates:
            return None
        replacements = {
            start: (kind, rnd.choice(others))
            for start, kind, others in _choose(candidates, self.config.replace_rate, rnd)
        }
        return _replace_spans(example, replacements)

    def _dropout(self, example: Example, rnd: random.Random):
        n = len(example.tokens)
        if n < 2:
            return None
        keep = [rnd.random() >= self.config.dropout_rate for _ in range(n)]
        if all(keep):
            keep[rnd.randrange(n)] = False
        if not any(keep):
            keep[rnd.randrange(n)] = True
        tokens = tuple(t for t, k in zip(example.tokens, keep, strict=True) if k)
        # Tags from each token's slot, so that two slots of one type that
        # become adjacent stay two ("B-a I-a B-a I-a" minus the third token is
        # "B-a I-a B-a", not one slot "B-a I-a I-a").
        span_of = [-1] * n
        for index, (_, start, end) in enumerate(bio_spans(example.tags)):
            span_of[start:end] = [index] * (end - start)
        tags, previous = [], -1
        for i in range(n):
            if keep[i]:
                tag = example.tags[i]
                if span_of[i] >= 0:
                    tag = ("I-" if span_of[i] == previous else "B-") + tag[2:]
                tags.append(tag)
                previous = span_of[i]
        return tokens, tuple(tags)

    def _swap(self, example: Example, rnd: random.Random):
        spans = {start: end for _, start, end in bio_spans(example.tags)}
        units: list[tuple[int, int]] = []
        i = 0
        while i < len(example.tokens):
            end = spans.get(i, i + 1)
            units.append((i, end))
            i = end
        pairs = [
            k
            for k in range(len(units) - 1)
            if example.tokens[slice(*units[k])] != example.tokens[slice(*units[k + 1])]
        ]
        if not pairs:
            return None
        k = rnd.choice(pairs)
        units[k], units[k + 1] = units[k + 1], units[k]
        tokens = tuple(t for s, e in units for t in example.tokens[s:e])
        kinds = {start: kind for kind, start, _ in bio_spans(example.tags)}
        tags = tuple(
            t
            for s, e in units
            for t in (_span_tags(kinds[s], e - s) if s in kinds else example.tags[s:e])
        )
        return tokens, tags

    def _code_switch(self, example: Example, rnd: random.Random):
        partners = [
            other
            for language, other in sorted(self.translations.get(example.id, {}).items())
            if language != example.language and other.intent == example.intent
        ]
        if not partners:
            return None
        partner = rnd.choice(partners)
        theirs: dict[str, list[tuple[str, ...]]] = collections.defaultdict(list)
        for kind, start, end in bio_spans(partner.tags):
            theirs[kind].append(partner.tokens[start:end])
        seen: collections.Counter = collections.Counter()
        candidates = []
        for kind, start, end in bio_spans(example.tags):
            k = seen[kind]
            seen[kind] += 1
            if k < len(theirs[kind]) and theirs[kind][k] != example.tokens[start:end]:
                candidates.append((start, kind, theirs[kind][k]))
        if not candidates:
            return None
        replacements = {
            start: (kind, value)
            for start, kind, value in _choose(candidates, self.config.replace_rate, rnd)
        }
        return _replace_spans(example, replacements)


def augment(
    examples: Sequence[Example], config: AugmentConfig = AugmentConfig()
) -> list[Augmented]:
    """`Augmenter(examples, config).augment()`."""
    return Augmenter(examples, config).augment()
