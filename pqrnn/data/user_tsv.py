"""pqrnn's plain TSV format for your own intent + slot data.

A UTF-8 file, tab-separated, no quoting, with a header row naming the
columns (in any order):

  tokens    required  tokens separated by single spaces
  tags      required  one BIO tag per token ("O", "B-<slot>", "I-<slot>"),
                      separated by single spaces
  intent    required  the intent label (any text without tabs)
  id        optional  default "<file name>:<line>"
  language  optional  default: the reader's `language` argument

Other columns are ignored. Example:

  id	language	tokens	tags	intent
  1	en	wake me at 7 am	O O O B-time I-time	set_alarm
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable

from pqrnn.data._files import read_lines
from pqrnn.data.example import (
    SKIPPED,
    DataFormatError,
    Example,
    IssueLog,
    ReadReport,
    is_valid_tag,
)
from pqrnn.data.tokenizer import WHITESPACE_RE

REQUIRED_COLUMNS = ("tokens", "tags", "intent")
OPTIONAL_COLUMNS = ("id", "language")
UNDETERMINED_LANGUAGE = "und"  # ISO 639-2 code for "undetermined"


def read_tsv(
    path: str | os.PathLike, *, language: str | None = None, strict: bool = False
) -> tuple[list[Example], ReadReport]:
    """Reads a file in pqrnn's plain TSV format (see the module docstring).

    Faults (skipped with a warning, or DataFormatError when strict): a wrong
    number of columns, invalid UTF-8, a token count different from the tag
    count, a malformed tag, an empty intent or language, no tokens.

    Args:
      path: the file.
      language: language of rows without a `language` column; default "und".
      strict: raise on the first faulty row.

    Returns:
      (examples in file order, report).

    Raises:
      DataFormatError: no header, a header missing a required column or
        naming a column twice (in either mode), or a faulty row when strict.
    """
    path = os.fspath(path)
    report = ReadReport(paths=[path])
    log = IssueLog(report, path, strict)
    lines = read_lines(path)
    header = next(lines, None)
    if header is None or header[1] is None:
        raise DataFormatError(path, 1, f"expected a header row naming {REQUIRED_COLUMNS}")
    names = header[1].split("\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing or len(set(names)) != len(names):
        raise DataFormatError(
            path,
            1,
            f"expected a header naming each of {REQUIRED_COLUMNS} once (optional: "
            f"{OPTIONAL_COLUMNS}), got {names}",
        )
    index = {name: i for i, name in enumerate(names)}
    name = pathlib.Path(path).name
    examples: list[Example] = []
    for number, text, error in lines:
        report.rows_read += 1
        columns = log.columns(number, text, error, len(names), " as in the header")
        if columns is None:
            continue
        if log.blank(number, columns[index["tokens"]]):
            continue
        tokens = columns[index["tokens"]].split(" ")
        tags = columns[index["tags"]].split(" ")
        intent = columns[index["intent"]]
        row_language = columns[index["language"]] if "language" in index else language
        row_language = (
            row_language.strip().lower() if row_language is not None else UNDETERMINED_LANGUAGE
        )
        row_id = columns[index["id"]] if "id" in index else ""
        if len(tokens) != len(tags):
            log.fault(
                number,
                SKIPPED,
                "token_tag_count_mismatch",
                f"{len(tokens)} space-separated tokens but {len(tags)} tags (expected one tag per token)",
            )
            continue
        bad = next((t for t in tags if not is_valid_tag(t)), None)
        if bad is not None:
            log.fault(
                number, SKIPPED, "bad_tag", f"tag {bad!r} is not 'O', 'B-<slot>' or 'I-<slot>'"
            )
            continue
        if not intent.strip():
            log.fault(number, SKIPPED, "empty_intent", f"expected an intent label, got {intent!r}")
            continue
        if not row_language:
            log.fault(number, SKIPPED, "empty_language", "expected a language code, got ''")
            continue
        normalized = log.normalized(number, tokens, tags)
        if normalized is None:
            continue
        tokens_n, tags_n = normalized
        examples.append(
            Example(
                row_id or f"{name}:{number}",
                row_language,
                tokens_n,
                tags_n,
                intent,
                f"{path}:{number}",
            )
        )
        report.rows_kept += 1
    log.finish()
    return examples, report


def write_tsv(path: str | os.PathLike, examples: Iterable[Example]) -> int:
    """Writes `examples` in pqrnn's TSV format (columns id, language, tokens,
    tags, intent); `read_tsv` reads them back unchanged.

    Returns:
      The number of rows written.

    Raises:
      ValueError: a field holds a tab or newline, or a token or tag is empty or
        holds whitespace.
    """
    rows = ["id\tlanguage\ttokens\ttags\tintent"]
    for example in examples:
        for field in (example.id, example.language, example.intent, *example.tags):
            if "\t" in field or "\n" in field or "\r" in field:
                raise ValueError(f"Example {example.id!r}: {field!r} holds a tab or newline")
        if any(not t or WHITESPACE_RE.search(t) for t in (*example.tokens, *example.tags)):
            raise ValueError(f"Example {example.id!r}: a token or tag is empty or holds whitespace")
        rows.append(
            "\t".join(
                (
                    example.id,
                    example.language,
                    " ".join(example.tokens),
                    " ".join(example.tags),
                    example.intent,
                )
            )
        )
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    return len(rows) - 1
