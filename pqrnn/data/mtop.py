"""Readers for MTOP: the official v2 eval/test files and the flat train split.

`read_mtop` reads `mtop/<lang>/{eval,test}.txt` (8 columns, no header):
tokens are MTOP's official tokens (`tokens_json`), and each slot of
`slot_string` (UTF-8 byte offsets into the utterance) tags every token whose
byte span overlaps it: the first such token gets "B-<slot>", the others
"I-<slot>". A slot covering only part of a token tags the whole token.

`read_mtop_train_flat` reads `mtop_train_flat/<lang>/train.tsv` (header
`line id v2_status overlap_v0 utterance flat decoupled domain locale`). Its
`flat` column holds the intent and the tokens of each top-level slot, in
MTOP's tokenization, but not the words between slots. Each slot is located
in the utterance (its tokens, in order, separated by optional whitespace);
the slot's tokens are then its flat tokens, and the text between slots is
tokenized with `pqrnn.data.tokenizer.tokenize`, which reproduces MTOP's
tokenization of > 99.8% of eval utterances in en/de/es/fr/hi. (Where the flat
holds every word of the utterance, the tokens are exactly the flat's.)

Labels: the intent is kept as written ("IN:GET_WEATHER"); slot tags drop the
"SL:" prefix ("B-LOCATION").
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from collections.abc import Sequence

from pqrnn.data._files import read_lines
from pqrnn.data.example import (
    FILTERED,
    NORMALIZED,
    OUTSIDE,
    REPAIRED,
    SKIPPED,
    DataFormatError,
    Example,
    IssueLog,
    ReadReport,
)
from pqrnn.data.tokenizer import WHITESPACE_CHARS, is_elision, is_word_char, tokenize

MTOP_COLUMNS = (
    "id",
    "intent",
    "slot_string",
    "utterance",
    "domain",
    "locale",
    "decoupled_form",
    "tokens_json",
)
MTOP_FLAT_COLUMNS = (
    "line",
    "id",
    "v2_status",
    "overlap_v0",
    "utterance",
    "flat",
    "decoupled",
    "domain",
    "locale",
)
V2_STATUSES = ("in_v2", "unchecked_rare_intent", "not_in_v2")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
_WHITESPACE_SET = frozenset(WHITESPACE_CHARS)
_APOSTROPHES = ("'", "\u2019", "\u02bc")
# Backtracking budget of the slot aligner; real rows need a handful of steps.
_MAX_ALIGN_STEPS = 10_000


def _slot_type(label: str) -> str:
    return label[3:] if label.startswith("SL:") else label


def _language(path: str, language: str | None) -> str:
    """The explicit language, else the parent folder's name (mtop/en/eval.txt -> en)."""
    if language:
        return language
    folder = pathlib.Path(path).parent.name.lower()
    if not _LANGUAGE_CODE.match(folder):
        raise ValueError(
            f"{path}: cannot tell the language from the folder name {folder!r} "
            "(expected e.g. mtop/en/eval.txt); pass language="
        )
    return folder


def _check_locale(log: IssueLog, number: int, locale: str, language: str) -> bool:
    """False (after recording a fault) when the row's locale is not `language`."""
    locale_language = locale.split("_")[0].lower()
    if locale and locale_language != language:
        log.fault(
            number,
            SKIPPED,
            "locale_mismatch",
            f"locale {locale!r} does not match the file's language {language!r}",
        )
        return False
    return True


def _token_span_problem(
    tokens: Sequence[str], spans: Sequence[tuple[int, int]], utterance: bytes
) -> str:
    """ "" when each token is exactly the utterance's bytes at its span, else why not."""
    if len(tokens) != len(spans):
        return f"tokens_json has {len(tokens)} tokens but {len(spans)} tokenSpans"
    for i, (token, (start, end)) in enumerate(zip(tokens, spans, strict=True)):
        if not 0 <= start < end <= len(utterance) or utterance[start:end] != token.encode("utf-8"):
            return (
                f"token {i} {token!r} is not the utterance's UTF-8 bytes {start}:{end} "
                f"(the utterance has {len(utterance)} bytes)"
            )
    return ""


def _tags_from_byte_spans(
    token_spans: Sequence[tuple[int, int]], slots: Sequence[tuple[int, int, str]]
) -> tuple[list[str], list[str], bool]:
    """BIO tags from slots given as byte ranges over tokens given as byte ranges.

    Returns (tags, problems, partial): problems describe slots that were dropped
    (covering no token, or overlapping an earlier slot); partial is True when a
    slot covered only part of some token.
    """
    tags = [OUTSIDE] * len(token_spans)
    problems: list[str] = []
    partial = False
    for start, end, name in sorted(slots):
        covered = [i for i, (ts, te) in enumerate(token_spans) if ts < end and te > start]
        if not covered:
            problems.append(f"slot {name} at bytes {start}:{end} covers no token; dropped")
            continue
        if any(tags[i] != OUTSIDE for i in covered):
            problems.append(f"slot {name} at bytes {start}:{end} overlaps an earlier slot; dropped")
            continue
        for k, i in enumerate(covered):
            tags[i] = ("B-" if k == 0 else "I-") + name
            ts, te = token_spans[i]
            partial |= ts < start or te > end
    return tags, problems, partial


def read_mtop(
    path: str | os.PathLike, *, language: str | None = None, strict: bool = False
) -> tuple[list[Example], ReadReport]:
    """Reads one official MTOP v2 file (`mtop/<lang>/{eval,test}.txt`).

    Faults (skipped with a warning, or DataFormatError when strict): a wrong
    column count, invalid UTF-8, unparsable `tokens_json`, token spans that do
    not match the utterance's bytes, an unparsable `slot_string` or offsets
    outside the utterance, a locale of another language, no tokens. Repaired
    faults (row kept, slot dropped, warning; DataFormatError when strict): a
    slot that covers no token or overlaps an earlier slot. Normalized (counted
    only): a slot covering part of a token; tokens holding whitespace.

    Args:
      path: the file.
      language: language code; default: the parent folder's name.
      strict: raise on the first fault instead of skipping or repairing.

    Returns:
      (examples in file order, report).
    """
    path = os.fspath(path)
    language = _language(path, language)
    report = ReadReport(paths=[path])
    log = IssueLog(report, path, strict)
    examples: list[Example] = []
    for number, text, error in read_lines(path):
        report.rows_read += 1
        columns = log.columns(
            number, text, error, len(MTOP_COLUMNS), f" ({', '.join(MTOP_COLUMNS)})"
        )
        if columns is None:
            continue
        row = dict(zip(MTOP_COLUMNS, columns, strict=True))
        if not _check_locale(log, number, row["locale"], language):
            continue
        utterance = row["utterance"].encode("utf-8")
        try:
            parsed = json.loads(row["tokens_json"])
            tokens = [str(t) for t in parsed["tokens"]]
            spans = [
                (int(s["start"]), int(s["start"]) + int(s["length"])) for s in parsed["tokenSpans"]
            ]
        except (ValueError, KeyError, TypeError) as e:
            log.fault(
                number,
                SKIPPED,
                "bad_tokens_json",
                f'expected tokens_json {{"tokens": [...], "tokenSpans": [{{"start", "length"}}]}}: {e}',
            )
            continue
        span_problem = _token_span_problem(tokens, spans, utterance)
        if span_problem:
            log.fault(number, SKIPPED, "token_span_mismatch", span_problem)
            continue
        slots: list[tuple[int, int, str]] = []
        try:
            for item in filter(None, row["slot_string"].split(",")):
                start, end, label = item.split(":", 2)
                slots.append((int(start), int(end), _slot_type(label)))
        except ValueError:
            log.fault(
                number,
                SKIPPED,
                "bad_slot_string",
                f"expected slot_string as comma-separated start:end:SL:NAME, got {row['slot_string']!r}",
            )
            continue
        bad_slot = next(
            (s for s in slots if not 0 <= s[0] < s[1] <= len(utterance) or not s[2]), None
        )
        if bad_slot is not None:
            log.fault(
                number,
                SKIPPED,
                "bad_slot_offsets",
                f"slot {bad_slot[2]!r} has byte offsets {bad_slot[0]}:{bad_slot[1]}; expected "
                f"0 <= start < end <= {len(utterance)} (the utterance's UTF-8 length)",
            )
            continue
        if not row["intent"]:
            log.fault(number, SKIPPED, "empty_intent", "expected an intent label, got ''")
            continue
        tags, problems, partial = _tags_from_byte_spans(spans, slots)
        normalized = log.normalized(number, tokens, tags)
        if normalized is None:
            continue
        if problems:  # One issue per row, after the row is known to be kept.
            log.fault(number, REPAIRED, "slot_dropped", "; ".join(problems))
        if partial:
            log.note(number, NORMALIZED, "slot_partial_token", "a slot covers part of a token")
        tokens_n, tags_n = normalized
        examples.append(
            Example(row["id"], language, tokens_n, tags_n, row["intent"], f"{path}:{number}")
        )
        report.rows_kept += 1
    log.finish()
    return examples, report


class FlatParseError(ValueError):
    """A `flat` string is not `[IN:X [SL:A tok ... ] ... ]`."""


def parse_flat(flat: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Parses MTOP's flat form into (intent, [(slot type, slot tokens), ...]).

    Example:
      >>> parse_flat("[IN:GET_WEATHER [SL:LOCATION New York ] ]")
      ('IN:GET_WEATHER', [('LOCATION', ['New', 'York'])])

    Raises:
      FlatParseError: nested brackets, words outside a slot, unbalanced
        brackets, or a missing intent.
    """
    words = [w for w in flat.split(" ") if w]
    if len(words) < 2 or not words[0].startswith("[IN:") or len(words[0]) == 4 or words[-1] != "]":
        raise FlatParseError("expected '[IN:<intent> ... ]'")
    intent = words[0][1:]
    slots: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for word in words[1:-1]:
        if word.startswith("[SL:"):
            if current is not None:
                raise FlatParseError(f"nested slot {word!r} inside {current[0]!r}")
            if len(word) == 4:
                raise FlatParseError("slot without a name")
            current = (word[4:], [])
        elif word.startswith("[IN:"):
            raise FlatParseError(f"nested intent {word!r}")
        elif word == "]":
            if current is None:
                raise FlatParseError("']' closes no slot")
            slots.append(current)
            current = None
        elif current is None:
            raise FlatParseError(f"word {word!r} outside any slot")
        else:
            current[1].append(word)
    if current is not None:
        raise FlatParseError(f"slot {current[0]!r} is not closed")
    return intent, slots


def _match_at(utterance: str, tokens: Sequence[str], start: int) -> int:
    """End of `tokens` matched at `start` (whitespace allowed between them), or -1."""
    position = start
    for k, token in enumerate(tokens):
        if k:
            while position < len(utterance) and utterance[position] in _WHITESPACE_SET:
                position += 1
        if not utterance.startswith(token, position):
            return -1
        position += len(token)
    return position


def _token_boundaries(utterance: str, language: str | None) -> set[int]:
    """Character offsets where a token of tokenize(utterance) starts or ends."""
    boundaries = {0, len(utterance)}
    position = 0
    for token in tokenize(utterance, language):
        start = utterance.find(token, position)
        if start < 0:  # Not a substring in order (never seen); no boundary then.
            continue
        position = start + len(token)
        boundaries.update((start, position))
    return boundaries


def _occurrences(
    utterance: str, tokens: Sequence[str], boundaries: set[int]
) -> list[tuple[int, int]]:
    """Every (start, end) in `utterance` where `tokens` occur in order with only
    whitespace, or nothing, between them: first those whose both ends are
    token boundaries of the utterance (`boundaries`), then those inside a
    word, each group left to right. So "me" of "did i message me" is the last
    word, not the start of "message"; "me" of "Recuérdame que me" is still
    the first, as tokenize splits "Recuérda" "me"."""
    found = []
    start = utterance.find(tokens[0])
    while start != -1:
        end = _match_at(utterance, tokens, start)
        if end != -1:
            found.append((start, end))
        start = utterance.find(tokens[0], start + 1)
    return sorted(found, key=lambda span: not (span[0] in boundaries and span[1] in boundaries))


def _search(
    candidates: Sequence[Sequence[tuple[int, int]]], in_order: bool
) -> list[tuple[int, int]] | None:
    """Depth-first search for one non-overlapping occurrence per slot, trying
    occurrences left to right; with in_order, slot k+1 must start after slot
    k ends. None when there is none (or the step budget runs out)."""
    chosen: list[tuple[int, int]] = []
    steps = 0

    def place(k: int) -> bool:
        nonlocal steps
        if k == len(candidates):
            return True
        for start, end in candidates[k]:
            steps += 1
            if steps > _MAX_ALIGN_STEPS:
                return False
            if in_order and chosen and start < chosen[-1][1]:
                continue
            if any(start < e and end > s for s, e in chosen):
                continue
            chosen.append((start, end))
            if place(k + 1):
                return True
            chosen.pop()
        return False

    return chosen if place(0) else None


def align_flat_slots(
    utterance: str, slots: Sequence[tuple[str, Sequence[str]]], language: str | None = None
) -> tuple[list[tuple[int, int] | None], list[str]]:
    """Finds each slot's character span in `utterance`.

    A slot's occurrences on token boundaries (of `tokenize(utterance,
    language)`) come before those inside a word. Tries, in turn: slots in
    flat order and non-overlapping; any order, non-overlapping; then
    greedily, each slot at its first occurrence that overlaps no slot placed
    before it, dropping slots that cannot be placed.

    Returns:
      (spans, problems): one (start, end) per slot, None for a dropped slot,
      and a message per dropped slot.
    """
    boundaries = _token_boundaries(utterance, language)
    candidates = [
        _occurrences(utterance, tokens, boundaries) if tokens else [] for _, tokens in slots
    ]
    if all(candidates):
        for in_order in (True, False):
            found = _search(candidates, in_order)
            if found is not None:
                return list(found), []
    spans: list[tuple[int, int] | None] = []
    problems: list[str] = []
    for (name, tokens), options in zip(slots, candidates, strict=True):
        placed = [s for s in spans if s is not None]
        free = [(s, e) for s, e in options if not any(s < pe and e > ps for ps, pe in placed)]
        if free:
            spans.append(free[0])
            continue
        spans.append(None)
        text = " ".join(tokens)
        if not tokens:
            problems.append(f"slot {name} is empty; dropped")
        elif not options:
            problems.append(f"slot {name} {text!r} not found in the utterance; dropped")
        else:
            problems.append(f"slot {name} {text!r} overlaps another slot; dropped")
    return spans, problems


def tokens_and_tags_from_flat(
    utterance: str,
    slots: Sequence[tuple[str, Sequence[str]]],
    spans: Sequence[tuple[int, int] | None],
    language: str | None = None,
) -> tuple[list[str], list[str]]:
    """Tokens and BIO tags of `utterance` given each slot's span.

    A slot's tokens are its flat tokens; text between slots is tokenized with
    `tokenize(text, language)` and tagged "O" (a "'s" right after a slot stays
    one token, as MTOP tokenizes "Anna's" -> "Anna" "'s").
    """
    tokens: list[str] = []
    tags: list[str] = []
    position = 0
    placed = sorted(
        (span, name, slot_tokens)
        for (name, slot_tokens), span in zip(slots, spans, strict=True)
        if span is not None
    )
    for (start, end), name, slot_tokens in placed:
        outside = _tokenize_after(utterance, position, start, language)
        tokens.extend(outside)
        tags.extend([OUTSIDE] * len(outside))
        tokens.extend(slot_tokens)
        tags.extend(["B-" + name] + ["I-" + name] * (len(slot_tokens) - 1))
        position = end
    outside = _tokenize_after(utterance, position, len(utterance), language)
    tokens.extend(outside)
    tags.extend([OUTSIDE] * len(outside))
    return tokens, tags


def _tokenize_after(utterance: str, start: int, end: int, language: str | None) -> list[str]:
    """tokenize(utterance[start:end]), keeping together what a slot boundary
    cut off its word as MTOP tokenizes it: a possessive "'s" right after a
    slot ("[Anna]'s" -> "'s", as "Anna's" -> "Anna" "'s") and a French
    elision right before one ("d'[amis]" -> "d'", as "d'amis" -> "d'" "amis")."""
    tokens = tokenize(utterance[start:end], language)
    glued = start > 0 and utterance[start - 1] not in _WHITESPACE_SET
    if glued and len(tokens) >= 2 and tokens[0] in _APOSTROPHES and tokens[1] in ("s", "S"):
        if utterance[start : start + 2] == tokens[0] + tokens[1]:
            tokens = [tokens[0] + tokens[1], *tokens[2:]]
    glued = end < len(utterance) and is_word_char(utterance[end])
    if glued and len(tokens) >= 2 and tokens[-1] in _APOSTROPHES:
        elision = tokens[-2] + tokens[-1]
        if is_elision(elision) and utterance[end - len(elision) : end] == elision:
            tokens = [*tokens[:-2], elision]
    return tokens


def read_mtop_train_flat(
    path: str | os.PathLike,
    *,
    language: str | None = None,
    drop_overlap: bool = False,
    strict: bool = False,
) -> tuple[list[Example], ReadReport]:
    """Reads MTOP's flat train split (`mtop_train_flat/<lang>/train.tsv`).

    Rows with v2_status "not_in_v2" are always filtered (MTOP v2 removed
    them). With the default drop_overlap=False the examples are exactly the
    published train counts (docs/DATA.md); rows flagged overlap_v0=1 (slots
    overlapping in the utterance, an old annotation error) are kept, and a
    slot that cannot be placed without overlapping another is dropped as a
    repaired fault. drop_overlap=True filters overlap_v0=1 rows, as the data's
    README recommends for training.

    Faults (skipped with a warning, or DataFormatError when strict): a wrong
    column count, invalid UTF-8, an unknown v2_status or overlap_v0, an
    unparsable `flat`, a locale of another language, no tokens. Repaired
    faults: a slot dropped because it is empty, not found in the utterance
    or overlaps another slot.

    Args:
      path: the train.tsv file.
      language: language code; default: the parent folder's name.
      drop_overlap: filter rows with overlap_v0 == 1.
      strict: raise on the first fault.

    Returns:
      (examples in file order, report). Examples without an MTOP id
      (v2_status "unchecked_rare_intent") get the id "train:<line column>".

    Raises:
      DataFormatError: the header is not the expected one (in either mode),
        or a faulty row when strict.
    """
    path = os.fspath(path)
    language = _language(path, language)
    report = ReadReport(paths=[path])
    log = IssueLog(report, path, strict)
    examples: list[Example] = []
    lines = read_lines(path)
    header = next(lines, None)
    if header is None or header[1] is None or tuple(header[1].split("\t")) != MTOP_FLAT_COLUMNS:
        got = "an empty file" if header is None else repr(header[1])
        raise DataFormatError(
            path, 1, f"expected the header {chr(9).join(MTOP_FLAT_COLUMNS)!r}, got {got}"
        )
    for number, text, error in lines:
        report.rows_read += 1
        columns = log.columns(number, text, error, len(MTOP_FLAT_COLUMNS))
        if columns is None:
            continue
        row = dict(zip(MTOP_FLAT_COLUMNS, columns, strict=True))
        if row["v2_status"] not in V2_STATUSES:
            log.fault(
                number,
                SKIPPED,
                "bad_v2_status",
                f"expected v2_status in {V2_STATUSES}, got {row['v2_status']!r}",
            )
            continue
        if row["overlap_v0"] not in ("0", "1"):
            log.fault(
                number,
                SKIPPED,
                "bad_overlap_v0",
                f"expected overlap_v0 0 or 1, got {row['overlap_v0']!r}",
            )
            continue
        if row["v2_status"] == "not_in_v2":
            log.note(number, FILTERED, "not_in_v2", "v2_status is not_in_v2")
            continue
        if drop_overlap and row["overlap_v0"] == "1":
            log.note(number, FILTERED, "overlap_v0", "overlap_v0 is 1 and drop_overlap is set")
            continue
        if not _check_locale(log, number, row["locale"], language):
            continue
        try:
            intent, slots = parse_flat(row["flat"])
        except FlatParseError as e:
            log.fault(number, SKIPPED, "bad_flat", f"cannot parse flat {row['flat']!r}: {e}")
            continue
        spans, problems = align_flat_slots(row["utterance"], slots, language)
        tokens, tags = tokens_and_tags_from_flat(row["utterance"], slots, spans, language)
        normalized = log.normalized(number, tokens, tags)
        if normalized is None:
            continue
        if problems:  # One issue per row, after the row is known to be kept.
            log.fault(number, REPAIRED, "slot_dropped", "; ".join(problems))
        tokens_n, tags_n = normalized
        row_id = row["id"] or f"train:{row['line'] or number}"
        examples.append(Example(row_id, language, tokens_n, tags_n, intent, f"{path}:{number}"))
        report.rows_kept += 1
    log.finish()
    return examples, report
