"""The in-memory example type shared by every reader, and the read report.

An `Example` is one utterance with its intent and one BIO slot tag per token.
Readers return `(examples, ReadReport)`: the report counts every row read and
says, with file:line, why any row was filtered, skipped or changed, so no row
is ever dropped silently.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Iterable, Sequence

from absl import logging

from pqrnn.data.tokenizer import WHITESPACE_RE

OUTSIDE = "O"


class DataFormatError(ValueError):
    """A data file does not have the expected format.

    The message names the file, the 1-based line number (0 for a problem with
    the file as a whole) and what was expected.
    """

    def __init__(self, path: str | os.PathLike, line: int, message: str):
        self.path = os.fspath(path)
        self.line = line
        self.reason_message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclasses.dataclass(frozen=True)
class Example:
    """One utterance: tokens, one BIO tag per token, and an intent.

    Attributes:
      id: identifier, unique within its file (MTOP ids are shared by the
        translations of one utterance across languages).
      language: lowercase ISO 639-1 code, e.g. "en".
      tokens: the words; none is empty or contains whitespace, so
        `" ".join(tokens)` is split back into exactly these tokens by the
        projection op (readers guarantee this with `normalize_tokens`).
      tags: one tag per token: "O", "B-<slot>" or "I-<slot>".
      intent: the intent label, as written in the source (MultiATIS++
        multi-intent labels such as "atis_flight#atis_airfare" stay one label).
      source: where the example was read, "path:line" ("" when it was not
        read from a file); for messages only, not part of equality.
    """

    id: str
    language: str
    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    intent: str
    source: str = dataclasses.field(default="", compare=False, repr=False)

    def __post_init__(self):
        if len(self.tokens) != len(self.tags):
            raise ValueError(
                f"Example {self.id!r}: {len(self.tokens)} tokens but {len(self.tags)} tags"
            )

    @property
    def text(self) -> str:
        """The tokens joined by single spaces: the string fed to the projection op."""
        return " ".join(self.tokens)


def is_valid_tag(tag: str) -> bool:
    """True for "O", "B-<type>" and "I-<type>" with a non-empty type."""
    return tag == OUTSIDE or (len(tag) > 2 and tag[:2] in ("B-", "I-"))


def normalize_tokens(
    tokens: Sequence[str], tags: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """Makes tokens safe for the projection op, which splits on Unicode whitespace.

    A token holding whitespace is split into its parts; every part after the
    first continues the token's slot ("B-X" becomes "I-X" for the later parts).
    Empty tokens (and tokens of only whitespace) are dropped; when a dropped
    token began a slot ("B-X") and the next kept token continues it ("I-X"),
    that token becomes "B-X", so the slot keeps its start.

    Args:
      tokens: the tokens as read.
      tags: one tag per token.

    Returns:
      (tokens, tags, changed): the normalized sequences and whether anything
      changed.
    """
    out_tokens: list[str] = []
    out_tags: list[str] = []
    pending_begin: str | None = None  # slot type of a dropped B- token
    for token, tag in zip(tokens, tags, strict=True):
        parts = [p for p in WHITESPACE_RE.split(token) if p]
        if not parts:
            if tag.startswith("B-"):
                pending_begin = tag[2:]
            continue
        if pending_begin is not None and tag == f"I-{pending_begin}":
            tag = f"B-{pending_begin}"
        pending_begin = None
        out_tokens.append(parts[0])
        out_tags.append(tag)
        continuation = f"I-{tag[2:]}" if tag != OUTSIDE else OUTSIDE
        for part in parts[1:]:
            out_tokens.append(part)
            out_tags.append(continuation)
    changed = tuple(out_tokens) != tuple(tokens)
    return tuple(out_tokens), tuple(out_tags), changed


# Issue kinds. Faults make `strict` readers raise; normalizations never do.
SKIPPED = "skipped"  # fault: row dropped
REPAIRED = "repaired"  # fault: row kept with a label changed (e.g. an overlapping slot dropped)
# not a fault: row kept, tokens re-split for the projection op or its id made unique
NORMALIZED = "normalized"
FILTERED = "filtered"  # not a fault: row dropped on purpose (a reader flag)


@dataclasses.dataclass(frozen=True)
class Issue:
    """One thing a reader did to one row, with where and why."""

    path: str
    line: int
    kind: str  # SKIPPED, REPAIRED, NORMALIZED or FILTERED
    reason: str  # short machine-readable tag, e.g. "token_tag_count_mismatch"
    message: str  # what was expected, for a human

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} ({self.reason}): {self.message}"


@dataclasses.dataclass
class ReadReport:
    """What a reader did with every row of one or more files.

    Invariant: `rows_read == rows_kept + sum(filtered.values()) +
    sum(skipped.values())`. `repaired` and `normalized` count kept rows.

    Attributes:
      paths: the files read.
      rows_read: data rows seen (header excluded).
      rows_kept: rows returned as Examples.
      filtered: rows dropped on purpose by a reader flag, by reason.
      skipped: rows dropped because they are malformed, by reason.
      repaired: kept rows whose labels a reader had to change, by reason.
      normalized: kept rows whose tokens were re-split, by reason.
      issues: one Issue per filtered, skipped, repaired or normalized row.
    """

    paths: list[str] = dataclasses.field(default_factory=list)
    rows_read: int = 0
    rows_kept: int = 0
    filtered: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    repaired: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    normalized: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    issues: list[Issue] = dataclasses.field(default_factory=list)

    def add(self, issue: Issue) -> None:
        """Records `issue` in `issues` and in the counter of its kind."""
        counter = {
            SKIPPED: self.skipped,
            REPAIRED: self.repaired,
            NORMALIZED: self.normalized,
            FILTERED: self.filtered,
        }[issue.kind]
        counter[issue.reason] += 1
        self.issues.append(issue)

    def merge(self, other: ReadReport) -> ReadReport:
        """Adds `other`'s counts and issues to this report; returns self."""
        self.paths.extend(other.paths)
        self.rows_read += other.rows_read
        self.rows_kept += other.rows_kept
        self.filtered.update(other.filtered)
        self.skipped.update(other.skipped)
        self.repaired.update(other.repaired)
        self.normalized.update(other.normalized)
        self.issues.extend(other.issues)
        return self

    @classmethod
    def combine(cls, reports: Iterable[ReadReport]) -> ReadReport:
        """One report summing `reports`."""
        total = cls()
        for report in reports:
            total.merge(report)
        return total

    def summary(self) -> str:
        """One line: rows read/kept and the non-zero counters."""
        parts = [f"read {self.rows_read}", f"kept {self.rows_kept}"]
        for name in ("filtered", "skipped", "repaired", "normalized"):
            counter = getattr(self, name)
            if counter:
                detail = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
                parts.append(f"{name} {sum(counter.values())} ({detail})")
        return f"{', '.join(self.paths)}: " + "; ".join(parts)


class IssueLog:
    """Applies the strictness policy while a reader fills a ReadReport.

    Faults (SKIPPED, REPAIRED) raise DataFormatError when `strict`, and are
    logged one warning per row otherwise. NORMALIZED and FILTERED rows are
    counted and summarized in one log line per reason at `finish()`.
    """

    def __init__(self, report: ReadReport, path: str | os.PathLike, strict: bool):
        self.report = report
        self.path = os.fspath(path)
        self.strict = strict

    def fault(self, line: int, kind: str, reason: str, message: str) -> None:
        """Records a SKIPPED or REPAIRED row; raises when strict."""
        if self.strict:
            raise DataFormatError(self.path, line, message)
        logging.warning("%s:%d: %s row (%s): %s", self.path, line, kind, reason, message)
        self.report.add(Issue(self.path, line, kind, reason, message))

    def note(self, line: int, kind: str, reason: str, message: str) -> None:
        """Records a NORMALIZED or FILTERED row (never raises)."""
        self.report.add(Issue(self.path, line, kind, reason, message))

    def columns(
        self, line: int, text: str | None, error: str, expected: int, detail: str = ""
    ) -> list[str] | None:
        """The tab-separated columns of a row from `read_lines`, or None after
        recording why the row is skipped (invalid UTF-8, wrong column count;
        `detail` follows "expected N tab-separated columns" in the message)."""
        if text is None:
            self.fault(line, SKIPPED, "invalid_utf8", error)
            return None
        columns = text.split("\t")
        if len(columns) != expected:
            self.fault(
                line,
                SKIPPED,
                "column_count",
                f"expected {expected} tab-separated columns{detail}, got {len(columns)}",
            )
            return None
        return columns

    def blank(self, line: int, utterance: str) -> bool:
        """Whether `utterance` holds nothing but whitespace, recording the row
        as skipped (`empty_utterance`, the reason `normalized` gives when no
        token is left) before its tags are judged against no tokens."""
        if WHITESPACE_RE.sub("", utterance):
            return False
        self.fault(line, SKIPPED, "empty_utterance", "expected at least one token")
        return True

    def normalized(
        self, line: int, tokens: Sequence[str], tags: Sequence[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """`normalize_tokens` of a row, recording a re-split as NORMALIZED; None
        (row skipped) when no token is left."""
        tokens_n, tags_n, changed = normalize_tokens(tokens, tags)
        if not tokens_n:
            self.fault(line, SKIPPED, "empty_utterance", "expected at least one token")
            return None
        if changed:
            self.note(
                line,
                NORMALIZED,
                "whitespace_in_token",
                "empty tokens dropped or tokens holding whitespace split",
            )
        return tokens_n, tags_n

    def finish(self) -> None:
        """Logs one summary line per reason for normalized and filtered rows.

        A file with no data rows at all (empty, or a header only) is a fault
        of the file as a whole (line 0): DataFormatError when strict, else a
        warning; the report then reads "read 0".
        """
        if self.report.rows_read == 0:
            message = "no data rows (an empty file, or a header only)"
            if self.strict:
                raise DataFormatError(self.path, 0, message)
            logging.warning("%s: %s", self.path, message)
        for kind in (NORMALIZED, FILTERED):
            by_reason: dict[str, list[int]] = collections.defaultdict(list)
            for issue in self.report.issues:
                if issue.kind == kind and issue.path == self.path:
                    by_reason[issue.reason].append(issue.line)
            for reason, lines in sorted(by_reason.items()):
                shown = ", ".join(str(n) for n in lines[:5])
                more = ", ..." if len(lines) > 5 else ""
                logging.info(
                    "%s: %s %d rows (%s), lines %s%s",
                    self.path,
                    kind,
                    len(lines),
                    reason,
                    shown,
                    more,
                )
