"""Intent and slot metrics, per language and macro-averaged.

Pure Python and NumPy (no Keras), so the same code scores a Keras model, a
.tflite model or any other system: give it, per example, the predicted
intent and one predicted tag per reference token (`pqrnn.data.pipeline.
predictions_from_ids` produces that from a model's argmax outputs).

Definitions:

- intent accuracy: predicted intent == reference intent.
- slot precision/recall/F1: span level, CoNLL (conlleval) semantics. A span
  starts at "B-X", at "I-X" after "O" or after a tag of another type, and
  at "I-X" at position 0; it ends before "O", "B-*" or a tag of another
  type. A span is (type, start, end), end exclusive; a predicted span is
  correct when all three equal a reference span. Tags that are not BIO
  (e.g. "<unk>") count as "O". Counts are summed over a language's
  examples (micro), then P = correct/predicted, R = correct/reference,
  F1 = 2PR/(P+R), each 0 when its denominator is 0 (as conlleval).
- exact match: the intent is correct AND the multiset of top-level
  (slot type, slot text) pairs equals the reference's, slot text being the
  span's tokens joined by spaces (MTOP/pQRNN's exact match; a multiset, so a
  slot predicted once where the reference has it twice is not a match).

`evaluate` returns {"per_language": {lang: metrics}, "macro": metrics}, the
macro average being the unweighted mean over languages; `format_table`
prints it. `paired_bootstrap` says how sure a difference in macro exact
match between two systems on the same utterances is.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Sequence
from typing import Protocol

import numpy as np

METRIC_NAMES = ("intent_accuracy", "slot_precision", "slot_recall", "slot_f1", "exact_match")


class _ExampleLike(Protocol):
    id: str
    language: str
    tokens: Sequence[str]
    tags: Sequence[str]
    intent: str


Span = tuple[str, int, int]


def split_tag(tag: str) -> tuple[str, str]:
    """("B"|"I"|"O", type); anything not "B-X"/"I-X" is ("O", "")."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        return tag[0], tag[2:]
    return "O", ""


def bio_spans(tags: Sequence[str]) -> list[Span]:
    """Spans (type, start, end exclusive) of a BIO tag sequence, conlleval-style.

    Example:
      >>> bio_spans(["I-A", "I-B", "O", "B-A", "I-A"])
      [('A', 0, 1), ('B', 1, 2), ('A', 3, 5)]
    """
    spans: list[Span] = []
    start, current = -1, ""
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        continues = prefix == "I" and kind == current and start >= 0
        if continues:
            continue
        if start >= 0:
            spans.append((current, start, i))
            start, current = -1, ""
        if prefix != "O":
            start, current = i, kind
    if start >= 0:
        spans.append((current, start, len(tags)))
    return spans


def slot_pairs(tokens: Sequence[str], tags: Sequence[str]) -> collections.Counter:
    """Multiset of (slot type, slot text) of the top-level spans of `tags`."""
    return collections.Counter(
        (kind, " ".join(tokens[start:end])) for kind, start, end in bio_spans(tags)
    )


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def is_exact_match(pred_intent: str, pred_tags: Sequence[str], example: _ExampleLike) -> bool:
    """The intent is right and the (slot type, slot text) multisets are equal."""
    return pred_intent == example.intent and slot_pairs(example.tokens, pred_tags) == slot_pairs(
        example.tokens, example.tags
    )


def prediction_rows(
    predictions: Sequence[tuple[str, Sequence[str]]], examples: Sequence[_ExampleLike]
) -> list[dict]:
    """One record per utterance: language, id, predicted intent and tags, and
    whether it is an exact match. `pqrnn.bin.evaluate --predictions_output`
    and the teacher write these as JSON lines; `pqrnn.bin.compare` pairs two
    such files."""
    return [
        {
            "language": e.language,
            "id": e.id,
            "intent": intent,
            "tags": list(tags),
            "exact_match": is_exact_match(intent, tags, e),
        }
        for (intent, tags), e in zip(predictions, examples, strict=True)
    ]


def read_hits(path: str) -> dict[tuple[str, str], bool]:
    """{(language, id): exact_match} of a predictions file.

    Raises:
      ValueError: naming the file and line, for a line that is not a JSON
        object with "language", "id" and a boolean "exact_match", or a
        (language, id) seen twice.
    """
    hits: dict[tuple[str, str], bool] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                key = (str(row["language"]), str(row["id"]))
                hit = row["exact_match"]
                if not isinstance(hit, bool):
                    raise TypeError(f"exact_match is {hit!r}, not true/false")
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{number}: not a prediction line ({e!r})") from e
            if key in hits:
                raise ValueError(f"{path}:{number}: utterance {key} appears twice")
            hits[key] = hit
    if not hits:
        raise ValueError(f"{path}: no predictions")
    return hits


def score(
    predictions: Sequence[tuple[str, Sequence[str]]], examples: Sequence[_ExampleLike]
) -> dict[str, float]:
    """Metrics of `predictions` against `examples` (one language or any mix).

    Args:
      predictions: (predicted intent, predicted tags), one per example, with
        one tag per reference token.
      examples: the references (pqrnn.data.Example or anything with id,
        tokens, tags and intent).

    Returns:
      {"intent_accuracy", "slot_precision", "slot_recall", "slot_f1",
       "exact_match": float in [0, 1], "num_examples": int,
       "num_gold_slots", "num_predicted_slots", "num_correct_slots": int}.

    Raises:
      ValueError: different numbers of predictions and examples, or a
        prediction with a tag count different from its example's tokens.
    """
    if len(predictions) != len(examples):
        raise ValueError(f"{len(predictions)} predictions for {len(examples)} examples")
    intent_hits = exact_hits = gold_total = pred_total = correct_total = 0
    for (pred_intent, pred_tags), example in zip(predictions, examples, strict=True):
        if len(pred_tags) != len(example.tokens):
            raise ValueError(
                f"example {example.id!r}: {len(pred_tags)} predicted tags for "
                f"{len(example.tokens)} tokens"
            )
        gold = set(bio_spans(example.tags))
        pred = set(bio_spans(pred_tags))
        gold_total += len(gold)
        pred_total += len(pred)
        correct_total += len(gold & pred)
        intent_hits += pred_intent == example.intent
        exact_hits += is_exact_match(pred_intent, pred_tags, example)
    n = len(examples)
    precision = _safe_div(correct_total, pred_total)
    recall = _safe_div(correct_total, gold_total)
    return {
        "intent_accuracy": _safe_div(intent_hits, n),
        "slot_precision": precision,
        "slot_recall": recall,
        "slot_f1": _safe_div(2 * precision * recall, precision + recall),
        "exact_match": _safe_div(exact_hits, n),
        "num_examples": n,
        "num_gold_slots": gold_total,
        "num_predicted_slots": pred_total,
        "num_correct_slots": correct_total,
    }


def evaluate(
    predictions: Sequence[tuple[str, Sequence[str]]], examples: Sequence[_ExampleLike]
) -> dict:
    """Metrics per language (by `example.language`) and their macro average.

    Returns:
      {"per_language": {language: score(...)} in sorted language order,
       "macro": {metric: unweighted mean over languages, "num_languages",
                 "num_examples": total}}.
    """
    if len(predictions) != len(examples):
        raise ValueError(f"{len(predictions)} predictions for {len(examples)} examples")
    by_language: dict[str, list[int]] = collections.defaultdict(list)
    for i, example in enumerate(examples):
        by_language[example.language].append(i)
    per_language = {
        language: score([predictions[i] for i in rows], [examples[i] for i in rows])
        for language, rows in sorted(by_language.items())
    }
    macro: dict[str, float | int] = {
        name: float(np.mean([m[name] for m in per_language.values()])) if per_language else 0.0
        for name in METRIC_NAMES
    }
    macro["num_languages"] = len(per_language)
    macro["num_examples"] = len(examples)
    return {"per_language": per_language, "macro": macro}


def format_table(results: dict, *, digits: int = 2) -> str:
    """A plain-text table of `evaluate`'s results, in percent: one row per
    language and an "avg" row (the macro average).

    Example:
      lang      n  intent_acc  slot_f1  exact_match
      de      100       95.00    80.12        60.00
      en      120       97.50    85.00        70.83
      avg     220       96.25    82.56        65.42
    """
    header = ("lang", "n", "intent_acc", "slot_f1", "exact_match")
    rows = [
        (
            language,
            str(m["num_examples"]),
            *(f"{100 * m[k]:.{digits}f}" for k in ("intent_accuracy", "slot_f1", "exact_match")),
        )
        for language, m in results["per_language"].items()
    ]
    macro = results["macro"]
    rows.append(
        (
            "avg",
            str(macro["num_examples"]),
            *(
                f"{100 * macro[k]:.{digits}f}"
                for k in ("intent_accuracy", "slot_f1", "exact_match")
            ),
        )
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def paired_bootstrap(
    hits_a: Sequence[bool],
    hits_b: Sequence[bool],
    languages: Sequence[str],
    *,
    num_samples: int = 10000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict:
    """Paired bootstrap of the macro-averaged difference a - b in a 0/1 metric.

    Both systems are scored on the same utterances; the test set is
    resampled with replacement within each language (the macro average
    weighs languages equally, so each keeps its size), and the difference
    of the two systems' macro averages is taken on every resample (Koehn,
    2004; Berg-Kirkpatrick et al., 2012). Per language, resampling n
    utterances whose paired differences are -1, 0 or +1 draws their counts
    from a multinomial with the observed shares, which is what is sampled.

    Args:
      hits_a, hits_b: per utterance, whether each system got it right (e.g.
        `is_exact_match`), in the same order.
      languages: per utterance, its language.
      num_samples: bootstrap resamples.
      seed: the resampling's seed.
      confidence: of the two-sided interval.

    Returns:
      {"delta": observed a - b (macro, as a fraction), "ci_low", "ci_high":
      the percentile interval, "p_value": two-sided, twice the smaller
      share of resamples on either side of zero (at least 1 / num_samples),
      "num_samples", "confidence"}.

    Raises:
      ValueError: the three sequences differ in length, or are empty.
    """
    a = np.asarray(hits_a, dtype=np.int8)
    b = np.asarray(hits_b, dtype=np.int8)
    if not (len(a) == len(b) == len(languages)) or len(a) == 0:
        raise ValueError(
            f"paired_bootstrap needs equally long, non-empty inputs: {len(a)} and {len(b)} "
            f"hits for {len(languages)} languages"
        )
    if not 0 < confidence < 1 or num_samples < 1:
        raise ValueError(
            f"confidence={confidence} must be in (0, 1), num_samples={num_samples} >= 1"
        )
    rng = np.random.default_rng(seed)
    diff = a - b
    langs = np.asarray(languages)
    deltas, observed = [], []
    for language in sorted(set(languages)):
        d = diff[langs == language]
        shares = np.array([np.mean(d == -1), np.mean(d == 0), np.mean(d == 1)])
        counts = rng.multinomial(len(d), shares / shares.sum(), size=num_samples)
        deltas.append((counts[:, 2] - counts[:, 0]) / len(d))
        observed.append(d.mean())
    samples = np.mean(deltas, axis=0)
    tail = (1 - confidence) / 2
    below, above = np.mean(samples <= 0), np.mean(samples >= 0)
    return {
        "delta": float(np.mean(observed)),
        "ci_low": float(np.quantile(samples, tail)),
        "ci_high": float(np.quantile(samples, 1 - tail)),
        "p_value": float(min(1.0, max(2 * min(below, above), 1 / num_samples))),
        "num_samples": num_samples,
        "confidence": confidence,
    }


def compare_hits(a: dict, b: dict, **bootstrap) -> dict:
    """Per-language exact match of two systems and the paired bootstrap of A - B.

    Args:
      a, b: {(language, utterance id): hit (bool)} of each system.
      **bootstrap: `paired_bootstrap`'s keyword arguments.

    Returns:
      `paired_bootstrap`'s result plus "per_language": {language:
      {"num_examples", "exact_match_a", "exact_match_b"}}.

    Raises:
      ValueError: `a` and `b` do not hold the same utterances.
    """
    if a.keys() != b.keys():
        only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        raise ValueError(
            f"the two hold different utterances: {len(only_a)} only in A "
            f"(e.g. {only_a[:3]}), {len(only_b)} only in B (e.g. {only_b[:3]})"
        )
    keys = sorted(a)
    by_language = collections.defaultdict(lambda: [0, 0, 0])
    for key in keys:
        counts = by_language[key[0]]
        counts[0] += 1
        counts[1] += a[key]
        counts[2] += b[key]
    result = paired_bootstrap(
        [a[k] for k in keys], [b[k] for k in keys], [k[0] for k in keys], **bootstrap
    )
    result["per_language"] = {
        language: {"num_examples": n, "exact_match_a": ha / n, "exact_match_b": hb / n}
        for language, (n, ha, hb) in sorted(by_language.items())
    }
    return result


def unseen_words(
    train: Sequence[_ExampleLike], examples: Sequence[_ExampleLike], lowercase: bool = True
) -> dict[tuple[str, str], tuple[str, ...]]:
    """{(language, id): the utterance's words that its language's training
    examples never have, in order of first appearance} (words compared
    lowercased when `lowercase`, as the projection reads them; empty when it
    has none). `bool` of each value groups utterances for `gap_by_group`."""
    norm = str.lower if lowercase else str
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for e in train:
        seen[e.language].update(norm(t) for t in e.tokens)
    return {
        (e.language, e.id): tuple(
            dict.fromkeys(w for w in map(norm, e.tokens) if w not in seen[e.language])
        )
        for e in examples
    }


def gap_by_group(
    reference: dict[tuple[str, str], bool],
    other: dict[tuple[str, str], bool],
    groups: dict[tuple[str, str], bool],
) -> dict:
    """Splits the macro-averaged exact-match gap `other - reference` by group.

    Args:
      reference, other: {(language, id): hit} of two systems.
      groups: {(language, id): in the group}, e.g. whether `unseen_words`
        found any.

    Returns:
      {"per_language": {language: {"num_examples", "in_group",
      "reference"/"other": {"all", "in", "out"} exact match in %}},
      "gap", "gap_in", "gap_out"}: the macro gap and its two parts, each
      group's gap weighted by its share of the language's utterances and
      averaged over languages, so gap_in + gap_out == gap.

    Raises:
      ValueError: the three do not hold the same utterances.
    """
    if not reference.keys() == other.keys() == groups.keys():
        raise ValueError("reference, other and groups must hold the same utterances")
    keys_by_language = collections.defaultdict(list)
    for key in groups:
        keys_by_language[key[0]].append(key)
    per_language = {}
    for language, keys in sorted(keys_by_language.items()):
        inside = [k for k in keys if groups[k]]
        outside = [k for k in keys if not groups[k]]

        def rate(hits, subset):
            return 100.0 * sum(hits[k] for k in subset) / len(subset) if subset else 0.0

        per_language[language] = {
            "num_examples": len(keys),
            "in_group": len(inside),
            **{
                name: {"all": rate(h, keys), "in": rate(h, inside), "out": rate(h, outside)}
                for name, h in (("reference", reference), ("other", other))
            },
        }
    parts = {"in": 0.0, "out": 0.0}
    total = 0.0
    for row in per_language.values():
        share = row["in_group"] / row["num_examples"]
        for part, weight in (("in", share), ("out", 1.0 - share)):
            parts[part] += weight * (row["other"][part] - row["reference"][part])
        total += row["other"]["all"] - row["reference"]["all"]
    n = len(per_language)
    return {
        "per_language": per_language,
        "gap": total / n,
        "gap_in": parts["in"] / n,
        "gap_out": parts["out"] / n,
    }
