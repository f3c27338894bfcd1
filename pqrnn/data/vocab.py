"""Label vocabularies: intent and slot-tag strings <-> integer ids.

Built from training examples only, deterministically:

- intents: sorted;
- tags: "O" first (id 0), then for each slot type seen, in sorted order,
  "B-<type>" and "I-<type>" (both, even if the training data only shows one,
  so a valid tag of a known slot is never unknown).

Every vocabulary ends with one reserved label, "<unk>" (id `size - 1`). A
label not seen in training (possible in eval data, e.g. MultiATIS++'s rare
multi-intent labels) maps to it when strict=False, so it always counts as an
error and never crashes a run; strict=True raises UnknownLabelError instead.
Models never see "<unk>" in training, so they learn not to predict it; a
predicted "<unk>" tag is read as "O" by the metrics.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
from collections.abc import Iterable, Sequence

from absl import logging

from pqrnn.data.example import OUTSIDE, Example

UNKNOWN_LABEL = "<unk>"
_FORMAT = "pqrnn.LabelVocab"
_VERSION = 1


class UnknownLabelError(KeyError):
    """A label is not in a LabelVocab (raised when strict)."""


class LabelVocab:
    """A fixed list of labels; ids are positions in it, "<unk>" last.

    Args:
      labels: the known labels in id order, without "<unk>"; no duplicates.
      name: what the labels are ("intents", "tags"), used in messages.

    Example:
      >>> vocab = LabelVocab(["IN:A", "IN:B"], name="intents")
      >>> vocab.encode(["IN:B", "IN:NEW"]), vocab.size
      ([1, 2], 3)
    """

    def __init__(self, labels: Sequence[str], name: str = "labels"):
        labels = tuple(labels)
        if len(set(labels)) != len(labels):
            raise ValueError(f"{name} vocabulary has duplicate labels")
        if UNKNOWN_LABEL in labels:
            raise ValueError(f"{name} vocabulary must not contain the reserved {UNKNOWN_LABEL!r}")
        self.name = name
        self.labels: tuple[str, ...] = (*labels, UNKNOWN_LABEL)
        self._ids = {label: i for i, label in enumerate(self.labels)}

    @property
    def size(self) -> int:
        """Number of ids, "<unk>" included: the model's number of classes."""
        return len(self.labels)

    def __len__(self) -> int:
        return self.size

    @property
    def unknown_id(self) -> int:
        """Id of the reserved "<unk>" label."""
        return self.size - 1

    def __contains__(self, label: str) -> bool:
        return label in self._ids and label != UNKNOWN_LABEL

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelVocab) and (self.name, self.labels) == (
            other.name,
            other.labels,
        )

    def __repr__(self) -> str:
        return f"LabelVocab(name={self.name!r}, size={self.size})"

    def id(self, label: str, *, strict: bool = False) -> int:
        """The id of `label`; unknown labels -> `unknown_id`, or raise when strict."""
        found = self._ids.get(label)
        if found is None or label == UNKNOWN_LABEL:
            if strict:
                raise UnknownLabelError(f"{label!r} is not in the {self.name} vocabulary")
            return self.unknown_id
        return found

    def label(self, label_id: int) -> str:
        """The label of `label_id`."""
        return self.labels[label_id]

    def encode(self, labels: Iterable[str], *, strict: bool = False) -> list[int]:
        """Ids of `labels` (see `id`)."""
        return [self.id(label, strict=strict) for label in labels]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Labels of `ids`."""
        return [self.labels[int(i)] for i in ids]

    def to_json(self) -> dict:
        """A JSON-serializable dict; `from_json` reads it back."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "name": self.name,
            "labels": list(self.labels[:-1]),
            "unknown": UNKNOWN_LABEL,
        }

    @classmethod
    def from_json(cls, data: dict) -> LabelVocab:
        """Reads a dict written by `to_json`."""
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise ValueError(
                f"expected a {_FORMAT} version {_VERSION} dict, got format "
                f"{data.get('format')!r} version {data.get('version')!r}"
            )
        return cls(data["labels"], name=data.get("name", "labels"))

    def save(self, path: str | os.PathLike) -> None:
        """Writes the vocabulary as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> LabelVocab:
        """Reads a vocabulary written by `save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_json(json.load(f))

    @classmethod
    def intents_from(cls, examples: Iterable[Example]) -> LabelVocab:
        """Sorted intents of `examples`."""
        return cls(sorted({e.intent for e in examples}), name="intents")

    @classmethod
    def tags_from(cls, examples: Iterable[Example]) -> LabelVocab:
        """ "O", then "B-X", "I-X" for each slot type X of `examples`, sorted by X."""
        types = sorted({tag[2:] for e in examples for tag in e.tags if tag != OUTSIDE})
        return cls([OUTSIDE, *(f"{p}-{t}" for t in types for p in "BI")], name="tags")


@dataclasses.dataclass(frozen=True)
class LabelVocabs:
    """The intent and tag vocabularies of one model."""

    intents: LabelVocab
    tags: LabelVocab

    @classmethod
    def build(cls, examples: Sequence[Example]) -> LabelVocabs:
        """Both vocabularies from training examples."""
        return cls(LabelVocab.intents_from(examples), LabelVocab.tags_from(examples))

    def count_unknown(
        self, examples: Iterable[Example], *, strict: bool = False
    ) -> collections.Counter:
        """Counts the examples whose labels these vocabularies do not know.

        Such labels (e.g. in evaluation data) map to "<unk>" and are always
        scored as wrong; this makes them visible. Each such example is logged
        as a warning naming its source (file:line) or id.

        Returns:
          Counter with "unknown_intent" (examples whose intent is unknown)
          and "unknown_tag" (examples with at least one unknown tag); empty
          when every label is known.

        Raises:
          UnknownLabelError: the first such example, when strict.
        """
        counts: collections.Counter = collections.Counter()
        for example in examples:
            problems = []
            if example.intent not in self.intents:
                counts["unknown_intent"] += 1
                problems.append(f"intent {example.intent!r}")
            unknown_tags = sorted({t for t in example.tags if t not in self.tags})
            if unknown_tags:
                counts["unknown_tag"] += 1
                problems.append(f"tag(s) {', '.join(map(repr, unknown_tags))}")
            if problems:
                where = example.source or f"example {example.id!r}"
                message = (
                    f"{where}: {' and '.join(problems)} not in the training vocabularies "
                    "(scored as wrong)"
                )
                if strict:
                    raise UnknownLabelError(message)
                logging.warning("%s", message)
        return counts

    def save(self, path: str | os.PathLike) -> None:
        """Writes both vocabularies to one JSON file."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(
                {"intents": self.intents.to_json(), "tags": self.tags.to_json()},
                f,
                ensure_ascii=False,
                indent=1,
            )
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> LabelVocabs:
        """Reads a file written by `save`."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return cls(LabelVocab.from_json(data["intents"]), LabelVocab.from_json(data["tags"]))
