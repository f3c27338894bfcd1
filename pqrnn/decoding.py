"""Slot decoding: per-token argmax, or the best valid BIO sequence.

A tagger that scores each token on its own (pQRNN's slot head, the
baselines', the teacher's) can output sequences that BIO does not allow:
"I-X" after "O" or after a tag of another type, or at the start.
`pqrnn.metrics` reads those leniently (conlleval), but a fragment of a slot
is still a wrong slot. `viterbi` instead picks the sequence with the highest
sum of per-token log-probabilities among the sequences in which every "I-X"
follows "B-X" or "I-X" (the constraint of a BIO-constrained CRF, without
learned transition scores), so no retraining is needed and any model's
logits can be decoded.

Mode "viterbi_intent_types" also restricts the slot types to those the
training data has with the predicted intent (`types_by_intent`; the table
travels in the model card): MTOP's slot types belong to domains, and a type
never seen with an intent is almost always an error. On data with few
examples per intent the table can miss a valid pair, so it is an option, not
the default.

Pure NumPy: apps decode the same way from a .tflite file's outputs
(docs/EXPORT.md, "Decoding slots").

Example:
    >>> import numpy as np
    >>> tags = ("O", "B-A", "I-A", "B-B", "I-B")
    >>> logits = np.log(np.array([[0.1, 0.5, 0.1, 0.2, 0.1],
    ...                           [0.1, 0.1, 0.2, 0.1, 0.5]]))
    >>> [tags[i] for i in logits.argmax(-1)]         # B-A then I-B: two fragments
    ['B-A', 'I-B']
    >>> [tags[i] for i in BioDecoder(tags).decode(logits)]
    ['B-A', 'I-A']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from pqrnn.metrics import split_tag

ARGMAX = "argmax"
VITERBI = "viterbi"
INTENT_TYPES = "viterbi_intent_types"  # viterbi, slot types of the predicted intent only
MODES = (ARGMAX, VITERBI, INTENT_TYPES)
DEFAULT = VITERBI


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log_softmax over the last axis, in float64."""
    x = np.asarray(x, np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class BioDecoder:
    """Decodes per-token slot logits [n, K] into tag ids [n].

    Args:
      tags: the K tag labels, in the model's output order.
      mode: "argmax" (each token's best tag), "viterbi" (the best valid BIO
        sequence) or "viterbi_intent_types" (viterbi with `types_by_intent`,
        which it requires).
      unknown: a label never to output under "viterbi" (the vocabulary's
        "<unk>" class, which no training example uses).
      types_by_intent: optional {intent: slot types allowed with it}; with it,
        `decode(..., intent=...)` never outputs a type outside the intent's
        set (an intent missing from the mapping allows every type).
    """

    def __init__(
        self,
        tags: Sequence[str],
        mode: str = VITERBI,
        *,
        unknown: str | None = "<unk>",
        types_by_intent: Mapping[str, Iterable[str]] | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"slot decoding {mode!r}: expected one of {MODES}")
        if mode == INTENT_TYPES and types_by_intent is None:
            raise ValueError(f"slot decoding {mode!r} needs the slot types of each intent")
        self.tags = tuple(tags)
        self.mode = mode
        if not self.tags:
            raise ValueError("no tags")
        parts = [split_tag(t) for t in self.tags]
        usable = np.array([t != unknown for t in self.tags])
        prefix = np.array([p for p, _ in parts])
        kind = np.array([x for _, x in parts], dtype=object)
        # "O" and "B-X" may start and may follow any tag; "I-X" may only
        # follow "B-X" or "I-X". So each step needs the best tag overall and,
        # per "I-X", the better of "B-X" and "I-X": O(K) per token, not O(K^2).
        self._usable = np.where(usable, 0.0, -np.inf)
        self._start = np.where((prefix != "I") & usable, 0.0, -np.inf)
        self._inside = np.flatnonzero((prefix == "I") & usable)
        begin = {x: i for i, (p, x) in enumerate(parts) if p == "B" and usable[i]}
        self._begin_of_inside = np.array(
            [begin.get(kind[j], -1) for j in self._inside], dtype=np.int64
        )
        self._kind = kind
        self._types_by_intent = (
            {i: frozenset(ts) for i, ts in types_by_intent.items()} if types_by_intent else {}
        )
        self._type_masks: dict[str, np.ndarray] = {}

    def _type_mask(self, intent: str | None) -> np.ndarray | None:
        if intent is None or intent not in self._types_by_intent:
            return None
        mask = self._type_masks.get(intent)
        if mask is None:
            types = self._types_by_intent[intent]
            ok = np.array([k == "" or k in types for k in self._kind])
            mask = self._type_masks[intent] = np.where(ok, 0.0, -np.inf)
        return mask

    def decode(self, logits: np.ndarray, intent: str | None = None) -> np.ndarray:
        """Tag ids [n] for one utterance's slot logits [n, K] (logits or
        log-probabilities; each row is log-softmaxed here)."""
        logits = np.asarray(logits)
        if logits.ndim != 2 or logits.shape[1] != len(self.tags):
            raise ValueError(f"slot logits of shape {logits.shape}: expected [n, {len(self.tags)}]")
        n = logits.shape[0]
        if n == 0:
            return np.zeros(0, np.int64)
        scores = log_softmax(logits)
        mask = self._type_mask(intent)
        if mask is not None:
            scores = scores + mask
        if self.mode == ARGMAX:
            return np.argmax(scores if mask is not None else logits, axis=-1)
        # Viterbi. "O" is always allowed, so a valid path always exists.
        scores = scores + self._usable
        best = scores[0] + self._start
        back = np.zeros((n, len(self.tags)), np.int64)
        inside, begin = self._inside, self._begin_of_inside
        for t in range(1, n):
            top = int(np.argmax(best))
            previous = np.full(len(self.tags), best[top])
            back[t] = top
            from_begin = np.where(begin >= 0, best[np.maximum(begin, 0)], -np.inf)
            from_inside = best[inside]
            stay = from_inside >= from_begin
            previous[inside] = np.where(stay, from_inside, from_begin)
            back[t, inside] = np.where(stay, inside, begin)
            best = previous + scores[t]
        path = np.zeros(n, np.int64)
        path[-1] = int(np.argmax(best))
        for t in range(n - 1, 0, -1):
            path[t - 1] = back[t, path[t]]
        return path


def decode_positions(
    decoder: BioDecoder,
    logits: np.ndarray,
    bos: int = 0,
    eos: int = 0,
    intent: str | None = None,
) -> np.ndarray:
    """Tag ids [n] for a model's [n, K] slot logits whose first `bos` and
    last `eos` positions are BOS/EOS markers, not tokens: the tokens between
    are decoded by `decoder` (given the predicted `intent`), the markers
    (which the metrics drop) by argmax."""
    logits = np.asarray(logits)
    ids = np.argmax(logits, axis=-1) if len(logits) else np.zeros(0, np.int64)
    stop = len(logits) - eos
    if stop > bos:
        ids[bos:stop] = decoder.decode(logits[bos:stop], intent)
    return ids


def is_valid_bio(tags: Iterable[str]) -> bool:
    """Every "I-X" follows "B-X" or "I-X" (what `BioDecoder` in a viterbi mode
    always outputs).

    Example:
      >>> is_valid_bio(["B-A", "I-A", "O"]), is_valid_bio(["O", "I-A"]), is_valid_bio(["B-A", "I-B"])
      (True, False, False)
    """
    previous = ""
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "I" and previous != kind:
            return False
        previous = kind if prefix != "O" else ""
    return True


def needs_types(mode: str) -> bool:
    """Whether `mode` needs the table of slot types per intent."""
    return mode == INTENT_TYPES


def types_by_intent(examples: Iterable) -> dict[str, list[str]]:
    """{intent: the sorted slot types of its examples' tags}, e.g. from a
    training set (anything with `intent` and `tags`); JSON-ready."""
    out: dict[str, set[str]] = {}
    for example in examples:
        types = out.setdefault(example.intent, set())
        for tag in example.tags:
            prefix, kind = split_tag(tag)
            if prefix != "O":
                types.add(kind)
    return {intent: sorted(types) for intent, types in sorted(out.items())}
