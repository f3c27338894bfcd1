"""Reader for MultiATIS++ TSV files (`multiatis/{train,dev,test}_XX.tsv`).

Format: UTF-8, tab-separated, no quoting, header `id utterance slot_labels
intent`. `utterance` holds tokens separated by single ASCII spaces and
`slot_labels` one BIO tag per token, separated the same way. Multi-intent
labels are joined with "#" (e.g. "atis_flight#atis_airfare") and are kept as
one label string.
"""

from __future__ import annotations

import os
import pathlib
import re

from pqrnn.data._files import read_lines
from pqrnn.data.example import (
    NORMALIZED,
    SKIPPED,
    DataFormatError,
    Example,
    IssueLog,
    ReadReport,
    is_valid_tag,
)

MULTIATIS_COLUMNS = ("id", "utterance", "slot_labels", "intent")
_LANGUAGE_FROM_NAME = re.compile(r"_([A-Za-z]{2})\.tsv$")


def language_from_filename(path: str | os.PathLike) -> str:
    """The language of a MultiATIS++ file from its name: train_EN.tsv -> "en".

    Raises:
      ValueError: the name does not end in `_XX.tsv`.
    """
    m = _LANGUAGE_FROM_NAME.search(os.fspath(path))
    if not m:
        raise ValueError(
            f"{path}: cannot tell the language from the file name (expected "
            "<split>_XX.tsv, e.g. train_EN.tsv); pass language="
        )
    return m.group(1).lower()


def read_multiatis(
    path: str | os.PathLike, *, language: str | None = None, strict: bool = False
) -> tuple[list[Example], ReadReport]:
    """Reads one MultiATIS++ TSV file.

    Rows whose token count differs from their tag count, rows with a tag that
    is not "O"/"B-X"/"I-X", rows with a wrong number of columns, an empty
    intent or no tokens are faults: skipped with a warning naming file:line
    (strict=False) or raised as DataFormatError (strict=True). An id that
    repeats an earlier row's (HI has alternative translations under one id)
    becomes `<id>@<line>` and is counted as normalized. Tokens holding
    non-ASCII whitespace (e.g. U+00A0 in "D.\u00a0C.") are split for the
    projection op (see `normalize_tokens`) and counted as normalized.

    Args:
      path: a `<split>_XX.tsv` file.
      language: language code for every example; default: from the file name.
      strict: raise on the first faulty row instead of skipping it.

    Returns:
      (examples in file order, report).

    Raises:
      DataFormatError: the header is not `id utterance slot_labels intent`
        (in either mode: no row can be read), or a faulty row when strict.
      FileNotFoundError: `path` does not exist.
    """
    path = os.fspath(path)
    language = language or language_from_filename(path)
    report = ReadReport(paths=[path])
    log = IssueLog(report, path, strict)
    examples: list[Example] = []
    lines = read_lines(path)
    header = next(lines, None)
    if header is None or header[1] is None or tuple(header[1].split("\t")) != MULTIATIS_COLUMNS:
        got = "an empty file" if header is None else repr(header[1])
        raise DataFormatError(
            path, 1, f"expected the header {chr(9).join(MULTIATIS_COLUMNS)!r}, got {got}"
        )
    name = pathlib.Path(path).name
    seen_ids: set[str] = set()
    for number, text, error in lines:
        report.rows_read += 1
        columns = log.columns(number, text, error, len(MULTIATIS_COLUMNS))
        if columns is None:
            continue
        row_id, utterance, slot_labels, intent = columns
        if log.blank(number, utterance):
            continue
        tokens = utterance.split(" ")
        tags = slot_labels.split(" ")
        if len(tokens) != len(tags):
            log.fault(
                number,
                SKIPPED,
                "token_tag_count_mismatch",
                f"utterance has {len(tokens)} space-separated tokens but slot_labels has "
                f"{len(tags)} tags (expected one tag per token)",
            )
            continue
        bad = next((t for t in tags if not is_valid_tag(t)), None)
        if bad is not None:
            log.fault(
                number, SKIPPED, "bad_tag", f"tag {bad!r} is not 'O', 'B-<slot>' or 'I-<slot>'"
            )
            continue
        if not intent.strip():
            log.fault(number, SKIPPED, "empty_intent", "expected an intent label, got ''")
            continue
        normalized = log.normalized(number, tokens, tags)
        if normalized is None:
            continue
        tokens_n, tags_n = normalized
        example_id = row_id or f"{name}:{number}"
        if example_id in seen_ids:
            # MultiATIS++ HI repeats ids for alternative translations; a
            # (language, id) pair must name one utterance (teacher logits are
            # keyed by it), so a repeat gets its line number.
            log.note(
                number,
                NORMALIZED,
                "duplicate_id",
                f"id {example_id!r} repeats an earlier row's; renamed {example_id}@{number}",
            )
            example_id = f"{example_id}@{number}"
        seen_ids.add(example_id)
        examples.append(
            Example(
                id=example_id,
                language=language,
                tokens=tokens_n,
                tags=tags_n,
                intent=intent,
                source=f"{path}:{number}",
            )
        )
        report.rows_kept += 1
    log.finish()
    return examples, report
