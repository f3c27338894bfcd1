"""The teacher logits format: what any teacher writes and `distill` reads.

One logits file is a TFRecord of `tf.train.Example`s, one per utterance, with
a JSON header beside it (`<file>.json`) naming the label columns. Any model
can produce it (a pqrnn teacher, an mBERT fine-tuned elsewhere, an ensemble);
docs/DISTILLATION.md is the specification. In short:

  header <file>.json: {"format": "pqrnn.TeacherLogits", "version": 1,
      "intents": [I labels], "tags": [S BIO tags], "num_examples": N,
      "compression": "" or "GZIP", "teacher": "...", "metadata": {...}}
  record features:
      id            bytes [1]       the example id (MTOP/MultiATIS++ ids)
      language      bytes [1]       e.g. "en"
      tokens        bytes [n]       pqrnn's tokens (Example.tokens), UTF-8
      intent_logits float [I]       columns in header["intents"] order
      slot_logits   float [n * S]   row-major [n, S]: one row per token,
                                    no BOS/EOS row; columns in header["tags"]
      intent        bytes [0 or 1]  optional label (gold, or augmentation's)
      tags          bytes [0 or n]  optional BIO tags
      source_id     bytes [0 or 1]  optional: the example an augmented one
                                    was made from

Logits are raw (pre-softmax, temperature 1). A teacher on subwords gives a
token the logits of its first subword (`first_subword_rows`). A student maps
the columns to its own label vocabulary by name (`remap`): a student label
the teacher lacks gets probability ~0; a teacher label the student lacks is
an error (or dropped, if asked).

The header is written last, after the records are complete and renamed into
place, so a file with a header is a complete file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from pqrnn import io_utils
from pqrnn.data.example import Example
from pqrnn.data.vocab import UNKNOWN_LABEL, LabelVocab, LabelVocabs, UnknownLabelError

FORMAT = "pqrnn.TeacherLogits"
VERSION = 1
HEADER_SUFFIX = ".json"
COMPRESSIONS = ("", "GZIP")
# Logit given to a student label the teacher has no column for: after a
# softmax at any temperature used in practice its probability is 0.
MISSING_LOGIT = -1e4
UNKNOWN_LABEL_POLICIES = ("error", "drop")


class LogitsFormatError(ValueError):
    """A logits file does not follow the format; says which file and record."""

    def __init__(self, path: str | os.PathLike, record: int | None, message: str):
        where = os.fspath(path) if record is None else f"{os.fspath(path)}: record {record}"
        super().__init__(f"{where}: {message}")


def header_path(path: str | os.PathLike) -> str:
    """The JSON header of the logits file `path`."""
    return os.fspath(path) + HEADER_SUFFIX


@dataclasses.dataclass(frozen=True)
class LogitsHeader:
    """What the columns of a logits file mean.

    Attributes:
      intents: intent label of each intent_logits column.
      tags: BIO tag of each slot_logits column ("O", "B-X", "I-X", ...).
      num_examples: records in the file.
      compression: "" or "GZIP" (the TFRecord compression).
      teacher: free text: which model wrote it.
      metadata: free JSON (e.g. the teacher's workdir and step, the split,
        augmentation settings).
    """

    intents: tuple[str, ...]
    tags: tuple[str, ...]
    num_examples: int = 0
    compression: str = ""
    teacher: str = ""
    metadata: dict = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "intents": list(self.intents),
            "tags": list(self.tags),
            "num_examples": self.num_examples,
            "compression": self.compression,
            "teacher": self.teacher,
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, data: dict, path: str = "<header>") -> LogitsHeader:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LogitsFormatError(path, None, f'expected a JSON object with "format": "{FORMAT}"')
        if data.get("version") != VERSION:
            raise LogitsFormatError(
                path, None, f"version {data.get('version')!r}; this pqrnn reads version {VERSION}"
            )
        for key in ("intents", "tags"):
            labels = data.get(key)
            if (
                not isinstance(labels, list)
                or not labels
                or not all(isinstance(x, str) for x in labels)
            ):
                raise LogitsFormatError(path, None, f'"{key}" must be a non-empty list of strings')
            if len(set(labels)) != len(labels):
                raise LogitsFormatError(path, None, f'"{key}" has duplicate labels')
        compression = data.get("compression", "")
        if compression not in COMPRESSIONS:
            raise LogitsFormatError(
                path, None, f"compression {compression!r}; expected one of {COMPRESSIONS}"
            )
        return cls(
            intents=tuple(data["intents"]),
            tags=tuple(data["tags"]),
            num_examples=int(data.get("num_examples", 0)),
            compression=compression,
            teacher=str(data.get("teacher", "")),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class TeacherRecord:
    """One utterance with its teacher logits.

    Attributes:
      id, language, tokens: the utterance (pqrnn's tokenization).
      intent_logits: float32 [I].
      slot_logits: float32 [len(tokens), S], one row per token.
      intent, tags: its labels when the file has them (else None).
      source_id: for augmented utterances, the id they were made from ("").
    """

    id: str
    language: str
    tokens: tuple[str, ...]
    intent_logits: np.ndarray
    slot_logits: np.ndarray
    intent: str | None = None
    tags: tuple[str, ...] | None = None
    source_id: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """(language, id): ids repeat across languages in parallel data."""
        return self.language, self.id

    @property
    def has_labels(self) -> bool:
        return self.intent is not None and self.tags is not None

    def to_example(self) -> Example:
        """The record as an Example (needs labels)."""
        if not self.has_labels:
            raise ValueError(f"record {self.key} has no intent/tags labels")
        return Example(self.id, self.language, self.tokens, self.tags, self.intent)


@dataclasses.dataclass
class TeacherLogits:
    """A logits file in memory: its header and records (in file order)."""

    header: LogitsHeader
    records: list[TeacherRecord]
    path: str = ""

    def __len__(self) -> int:
        return len(self.records)

    def by_key(self) -> dict[tuple[str, str], list[TeacherRecord]]:
        """Records by (language, id), in file order."""
        index: dict[tuple[str, str], list[TeacherRecord]] = {}
        for record in self.records:
            index.setdefault(record.key, []).append(record)
        return index

    def remap(self, vocabs: LabelVocabs, unknown_labels: str = "error") -> TeacherLogits:
        """The same logits with columns in `vocabs`' order, matched by label name.

        A student label the teacher has no column for gets MISSING_LOGIT
        (probability ~0); the teacher's "<unk>" column, if any, maps to the
        student's "<unk>".

        Args:
          vocabs: the student's label vocabularies.
          unknown_labels: what to do with a teacher label the student does not
            know: "error" (UnknownLabelError naming them) or "drop" (its
            probability mass is removed and the rest renormalized by softmax).
        """
        intents = _column_map(self.header.intents, vocabs.intents, unknown_labels, self.path)
        tags = _column_map(self.header.tags, vocabs.tags, unknown_labels, self.path)
        records = [
            dataclasses.replace(
                r,
                intent_logits=_take(r.intent_logits, intents),
                slot_logits=_take(r.slot_logits, tags),
            )
            for r in self.records
        ]
        header = dataclasses.replace(
            self.header, intents=vocabs.intents.labels, tags=vocabs.tags.labels
        )
        return TeacherLogits(header, records, self.path)


def _column_map(
    teacher_labels: Sequence[str], student: LabelVocab, policy: str, path: str
) -> np.ndarray:
    """For each student id, the teacher column holding it (-1: none)."""
    if policy not in UNKNOWN_LABEL_POLICIES:
        raise ValueError(f"unknown_labels={policy!r}; expected one of {UNKNOWN_LABEL_POLICIES}")
    unknown = [label for label in teacher_labels if label != UNKNOWN_LABEL and label not in student]
    if unknown and policy == "error":
        shown = ", ".join(map(repr, unknown[:10])) + (", ..." if len(unknown) > 10 else "")
        raise UnknownLabelError(
            f"{path or 'teacher logits'}: {len(unknown)} teacher {student.name} unknown to the "
            f"student's vocabulary: {shown}. Labels are matched by name: write the teacher's "
            "labels with pqrnn's spelling (docs/DISTILLATION.md), or drop them with "
            "--config.distill.unknown_teacher_labels=drop"
        )
    column = {label: i for i, label in enumerate(teacher_labels)}
    return np.array([column.get(label, -1) for label in student.labels], dtype=np.int64)


def _take(logits: np.ndarray, columns: np.ndarray) -> np.ndarray:
    out = np.take(logits, np.maximum(columns, 0), axis=-1)
    return np.where(columns >= 0, out, np.float32(MISSING_LOGIT)).astype(np.float32)


def first_subword_rows(
    subword_logits: np.ndarray, word_ids: Sequence[int | None], num_words: int
) -> tuple[np.ndarray, int]:
    """Per-word rows from per-subword rows: each word takes its first subword's.

    This is how a subword teacher (BERT's WordPiece, SentencePiece) is
    aligned to pqrnn's tokens: tokenize each pqrnn token separately, note
    which token every subword came from (`word_ids`, None for [CLS], [SEP]
    and padding, as Hugging Face's `BatchEncoding.word_ids()` gives), and
    keep the row of the first subword of each token.

    Args:
      subword_logits: [P, S] logits per subword position.
      word_ids: P entries, the token index of each position or None.
      num_words: tokens in the utterance.

    Returns:
      ([num_words, S] rows, number of words that had no subword, e.g. cut
      by a maximum sequence length: their rows are 0, a uniform distribution).

    Example:
    >>> rows, missing = first_subword_rows(
    ...     np.array([[0.0], [1.0], [2.0], [3.0], [9.0]]), [None, 0, 0, 1, None], 2)
    >>> rows.ravel().tolist(), missing
    ([1.0, 3.0], 0)
    """
    subword_logits = np.asarray(subword_logits)
    if len(word_ids) != len(subword_logits):
        raise ValueError(f"{len(word_ids)} word ids for {len(subword_logits)} subword rows")
    rows = np.zeros((num_words, subword_logits.shape[-1]), np.float32)
    seen = np.zeros(num_words, bool)
    for position, word in enumerate(word_ids):
        if word is None or word < 0:
            continue
        if word >= num_words:
            raise ValueError(f"word id {word} at position {position} >= {num_words} words")
        if not seen[word]:
            rows[word] = subword_logits[position]
            seen[word] = True
    return rows, int(num_words - seen.sum())


def _bytes(values: Iterable[str]) -> tf.train.Feature:
    return tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[v.encode("utf-8") for v in values])
    )


def _floats(values: np.ndarray) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(values).tolist()))


class LogitsWriter:
    """Writes a logits file: records to a temporary file, then header last.

    Use as a context manager; nothing appears at `path` unless the block ends
    without an exception.

    Args:
      path: the TFRecord file to write (the header goes to `path + ".json"`).
      intents: intent label of each intent logit column.
      tags: BIO tag of each slot logit column.
      teacher: free text naming the model.
      metadata: free JSON stored in the header.
      compression: "" or "GZIP".

    Example:
    >>> with LogitsWriter("doc.tfrecord", ["a", "b"], ["O", "B-x", "I-x"]) as writer:
    ...     writer.write("1", "en", ["hi"], [0.5, -1.0], [[2.0, 0.0, 0.0]])
    >>> read_logits("doc.tfrecord").records[0].slot_logits.shape
    (1, 3)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        intents: Sequence[str],
        tags: Sequence[str],
        *,
        teacher: str = "",
        metadata: dict | None = None,
        compression: str = "",
    ):
        self.path = os.fspath(path)
        self.header = LogitsHeader.from_json(
            LogitsHeader(
                tuple(intents), tuple(tags), 0, compression, teacher, dict(metadata or {})
            ).to_json(),
            header_path(self.path),
        )
        self._keys: set[tuple[str, str]] = set()
        self._count = 0
        self._writer = None
        self._tmp = ""

    def __enter__(self) -> LogitsWriter:
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        # A file being replaced loses its header first: the records are
        # renamed into place before the new header is written, and an old
        # header beside new records (after a crash in between) would claim
        # a complete file with maybe other columns.
        if os.path.exists(header_path(self.path)):
            os.unlink(header_path(self.path))
        self._tmp = io_utils.temporary_beside(self.path)
        self._writer = tf.io.TFRecordWriter(
            self._tmp, tf.io.TFRecordOptions(compression_type=self.header.compression)
        )
        return self

    def write(
        self,
        id: str,
        language: str,
        tokens: Sequence[str],
        intent_logits,
        slot_logits,
        *,
        intent: str | None = None,
        tags: Sequence[str] | None = None,
        source_id: str = "",
    ) -> None:
        """Writes one record; checks shapes, finiteness and (language, id) uniqueness."""
        if self._writer is None:
            raise RuntimeError("LogitsWriter.write outside its `with` block")
        key = (language, id)
        if key in self._keys:
            raise ValueError(f"{self.path}: duplicate example (language, id) = {key}")
        intent_logits = np.asarray(intent_logits, np.float32)
        slot_logits = np.asarray(slot_logits, np.float32)
        expected = (len(tokens), len(self.header.tags))
        if intent_logits.shape != (len(self.header.intents),) or slot_logits.shape != expected:
            raise ValueError(
                f"{self.path}: example {key}: expected intent logits [{len(self.header.intents)}] "
                f"and slot logits {list(expected)}, got {list(intent_logits.shape)} and "
                f"{list(slot_logits.shape)}"
            )
        if not (np.isfinite(intent_logits).all() and np.isfinite(slot_logits).all()):
            raise ValueError(f"{self.path}: example {key}: logits hold NaN or infinity")
        if tags is not None and len(tags) != len(tokens):
            raise ValueError(
                f"{self.path}: example {key}: {len(tags)} tags for {len(tokens)} tokens"
            )
        features = {
            "id": _bytes([id]),
            "language": _bytes([language]),
            "tokens": _bytes(tokens),
            "intent_logits": _floats(intent_logits),
            "slot_logits": _floats(slot_logits),
            "intent": _bytes([] if intent is None else [intent]),
            "tags": _bytes([] if tags is None else tags),
            "source_id": _bytes([source_id] if source_id else []),
        }
        record = tf.train.Example(features=tf.train.Features(feature=features))
        self._writer.write(record.SerializeToString())
        self._keys.add(key)
        self._count += 1

    def write_example(
        self,
        example: Example,
        intent_logits,
        slot_logits,
        *,
        with_labels: bool = True,
        source_id: str = "",
    ) -> None:
        """Writes `example` (with its labels unless with_labels=False)."""
        self.write(
            example.id,
            example.language,
            example.tokens,
            intent_logits,
            slot_logits,
            intent=example.intent if with_labels else None,
            tags=example.tags if with_labels else None,
            source_id=source_id,
        )

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.close()
        self._writer = None
        if exc_type is not None:
            os.unlink(self._tmp)
            return
        with open(self._tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(self._tmp, self.path)
        header = dataclasses.replace(self.header, num_examples=self._count)
        io_utils.atomic_write_json(header_path(self.path), header.to_json())


def _strings(example: tf.train.Example, name: str) -> list[str]:
    return [v.decode("utf-8") for v in example.features.feature[name].bytes_list.value]


def _serialized_records(path: str, compression: str) -> Iterator[bytes]:
    """The file's records; a truncated or wrongly compressed file is a
    LogitsFormatError that names the file and the record."""
    iterator = tf.data.TFRecordDataset(path, compression_type=compression).as_numpy_iterator()
    index = 0
    while True:
        try:
            serialized = next(iterator)
        except StopIteration:
            return
        except tf.errors.OpError as e:
            raise LogitsFormatError(
                path,
                index,
                f"unreadable TFRecord ({e.message.strip()}): the file is truncated or corrupt, "
                f"or its compression is not the header's {compression or 'none'!r}",
            ) from e
        yield serialized
        index += 1


def iter_records(path: str | os.PathLike, header: LogitsHeader) -> Iterator[TeacherRecord]:
    """The records of `path`, validated against `header`."""
    path = os.fspath(path)
    num_intents, num_tags = len(header.intents), len(header.tags)
    for index, serialized in enumerate(_serialized_records(path, header.compression)):
        try:
            example = tf.train.Example.FromString(serialized)
        except Exception as e:  # protobuf's DecodeError
            raise LogitsFormatError(path, index, f"not a tf.train.Example ({e})") from e
        feature = example.features.feature
        missing = [
            k
            for k in ("id", "language", "tokens", "intent_logits", "slot_logits")
            if k not in feature
        ]
        if missing:
            raise LogitsFormatError(path, index, f"missing feature(s) {missing}")
        ids, languages = _strings(example, "id"), _strings(example, "language")
        if len(ids) != 1 or len(languages) != 1:
            raise LogitsFormatError(path, index, "id and language must hold one string each")
        tokens = tuple(_strings(example, "tokens"))
        where = f"example ({languages[0]!r}, {ids[0]!r})"
        intent_logits = np.array(feature["intent_logits"].float_list.value, np.float32)
        slot_logits = np.array(feature["slot_logits"].float_list.value, np.float32)
        if intent_logits.shape != (num_intents,):
            raise LogitsFormatError(
                path,
                index,
                f"{where}: {intent_logits.size} intent logits, header has {num_intents} intents",
            )
        if slot_logits.size != len(tokens) * num_tags:
            raise LogitsFormatError(
                path,
                index,
                f"{where}: {slot_logits.size} slot logits for {len(tokens)} tokens x {num_tags} "
                "tags (one row per token, no BOS/EOS row)",
            )
        if not (np.isfinite(intent_logits).all() and np.isfinite(slot_logits).all()):
            raise LogitsFormatError(path, index, f"{where}: logits hold NaN or infinity")
        intents = _strings(example, "intent") if "intent" in feature else []
        tags = _strings(example, "tags") if "tags" in feature else []
        if len(intents) > 1 or (intents and len(tags) != len(tokens)) or (tags and not intents):
            raise LogitsFormatError(
                path,
                index,
                f"{where}: labels are optional, but when present: one intent and one tag per "
                f"token (got {len(intents)} intents, {len(tags)} tags, {len(tokens)} tokens)",
            )
        source = _strings(example, "source_id") if "source_id" in feature else []
        yield TeacherRecord(
            id=ids[0],
            language=languages[0],
            tokens=tokens,
            intent_logits=intent_logits,
            slot_logits=slot_logits.reshape(len(tokens), num_tags),
            intent=intents[0] if intents else None,
            tags=tuple(tags) if intents else None,
            source_id=source[0] if source else "",
        )


def read_header(path: str | os.PathLike) -> LogitsHeader:
    """The header of the logits file `path`."""
    hpath = header_path(path)
    if not os.path.exists(hpath):
        raise FileNotFoundError(
            f"{hpath} not found: a logits file needs its JSON header beside it (it is written "
            "last, so a missing header can also mean an unfinished file)"
        )
    return LogitsHeader.from_json(io_utils.read_json(hpath), hpath)


def read_logits(path: str | os.PathLike) -> TeacherLogits:
    """Reads and validates a whole logits file."""
    path = os.fspath(path)
    header = read_header(path)
    records = list(iter_records(path, header))
    if len(records) != header.num_examples:
        raise LogitsFormatError(
            path, None, f"{len(records)} records, but the header says {header.num_examples}"
        )
    keys = set()
    for index, record in enumerate(records):
        if record.key in keys:
            raise LogitsFormatError(path, index, f"duplicate (language, id) {record.key}")
        keys.add(record.key)
    return TeacherLogits(header, records, path)
