"""The student's training set: examples joined with their teacher's logits.

`load_transfer_set(config, vocabs, train_examples)` reads the logits files
named by `config.distill`, maps their columns to the student's label
vocabulary, joins them to the training examples by (language, id) (checking
that the teacher saw the same tokens), adds the augmented utterances, and
aligns every slot-logit row with the student's token positions (zero rows at
BOS/EOS, cut at max_seq_len). `TransferSet.make_dataset` then gives the
trainer batches whose features carry the teacher logits.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import ml_collections
import numpy as np
from absl import logging

from pqrnn import decoding
from pqrnn.data.example import OUTSIDE, Example
from pqrnn.data.pipeline import kept_tokens
from pqrnn.data.vocab import UNKNOWN_LABEL, LabelVocabs
from pqrnn.distill import logits_io
from pqrnn.distill.augment import repair_bio
from pqrnn.distill.losses import TEACHER_INTENT, TEACHER_SLOTS
from pqrnn.training import experiment

LOGIT_NORMS = ("none", "standardize")
HARD_LABELS = ("augmentation", "teacher", "teacher_viterbi")


def scale_logits(logits: np.ndarray, scale: float = 1.0, norm: str = "none") -> np.ndarray:
    """Rescales teacher logit vectors (last axis) before distillation.

    norm "standardize" first makes each vector zero-mean, unit-variance
    (Sun et al., 2024, "Logit Standardization in Knowledge Distillation"),
    which removes differences of logit range between teachers; `scale` then
    multiplies (a scale > 1 sharpens the teacher, < 1 softens it, like a
    per-teacher temperature).

    Example:
    >>> scale_logits(np.array([1.0, 3.0]), 2.0, "standardize").tolist()
    [-2.0, 2.0]
    """
    if norm not in LOGIT_NORMS:
        raise ValueError(f"teacher logit norm {norm!r}; expected one of {LOGIT_NORMS}")
    logits = np.asarray(logits, np.float32)
    if norm == "standardize":
        mean = logits.mean(axis=-1, keepdims=True)
        std = logits.std(axis=-1, keepdims=True)
        logits = (logits - mean) / np.maximum(std, 1e-6)
    return (logits * np.float32(scale)).astype(np.float32)


def _scaled(logits: logits_io.TeacherLogits, scale: float, norm: str) -> logits_io.TeacherLogits:
    if scale == 1.0 and norm == "none":
        return logits
    records = [
        dataclasses.replace(
            r,
            intent_logits=scale_logits(r.intent_logits, scale, norm),
            slot_logits=scale_logits(r.slot_logits, scale, norm),
        )
        for r in logits.records
    ]
    return logits_io.TeacherLogits(logits.header, records, logits.path)


def fingerprint(header: logits_io.LogitsHeader, path: str) -> dict:
    """What identifies a logits file's contents: its header but the label
    lists (their counts stand in for them). A student records these of its
    inputs, so that a resumed run notices a file rewritten in between."""
    return json.loads(
        json.dumps(
            {
                "path": path,
                "teacher": header.teacher,
                "num_examples": header.num_examples,
                "compression": header.compression,
                "num_intents": len(header.intents),
                "num_tags": len(header.tags),
                "metadata": header.metadata,
            }
        )
    )


def _read(
    paths: str, vocabs: LabelVocabs, d: ml_collections.ConfigDict, inputs: list[dict]
) -> list[tuple[str, logits_io.TeacherRecord]]:
    """(path, record) of every record of the comma-separated `paths`; adds
    each file's fingerprint to `inputs`."""
    records = []
    for path in filter(None, (p.strip() for p in paths.split(","))):
        logits = logits_io.read_logits(path)
        inputs.append(fingerprint(logits.header, path))
        logits = _scaled(logits, d.teacher_logit_scale, d.teacher_logit_norm)
        remapped = logits.remap(vocabs, d.unknown_teacher_labels)
        logging.info("%s: %d records from %s", path, len(remapped), logits.header.teacher or "?")
        records += [(path, record) for record in remapped.records]
    return records


def _first_difference(a: Sequence[str], b: Sequence[str]) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _teacher_labels(
    record: logits_io.TeacherRecord, vocabs: LabelVocabs, decoder: decoding.BioDecoder | None = None
) -> Example:
    """The record with the teacher's predictions as its labels: its intent
    argmax and, with `decoder`, the tags it decodes; without one, the
    per-token argmax made valid BIO by `repair_bio`."""
    intent = vocabs.intents.label(int(np.argmax(record.intent_logits)))
    if decoder is not None:
        tags = tuple(vocabs.tags.label(int(i)) for i in decoder.decode(record.slot_logits))
    else:
        tags = [vocabs.tags.label(int(i)) for i in np.argmax(record.slot_logits, axis=-1)]
        tags = repair_bio([OUTSIDE if t == UNKNOWN_LABEL else t for t in tags])
    return Example(record.id, record.language, record.tokens, tags, intent)


@dataclasses.dataclass
class TransferSet:
    """Examples and their teacher logits in the student's column order.

    Attributes:
      examples: the training examples (original, then augmented).
      intent_logits: (language, id) -> float16 [I].
      slot_logits: (language, id) -> float16 [positions, S], one row per
        student position (zero rows at BOS/EOS).
      num_original, num_augmented: how many examples of each kind.
      inputs: `fingerprint` of every logits file read.
    """

    config: ml_collections.ConfigDict
    examples: list[Example]
    intent_logits: dict
    slot_logits: dict
    num_original: int = 0
    num_augmented: int = 0
    inputs: list[dict] = dataclasses.field(default_factory=list)

    def make_dataset(self, examples: Sequence[Example], vocabs: LabelVocabs, epoch: int):
        """Training batches of `examples` (a subset of self.examples) with
        features "teacher_intent_logits" [B, I] and "teacher_slot_logits"
        [B, T, S]; the trainer's `make_train_dataset`."""
        keys = [(e.language, e.id) for e in examples]
        return experiment.make_dataset(
            self.config,
            examples,
            vocabs,
            training=True,
            epoch=epoch,
            extra_columns={
                TEACHER_INTENT: [self.intent_logits[k] for k in keys],
                TEACHER_SLOTS: [self.slot_logits[k] for k in keys],
            },
        )


def _aligned(rows: np.ndarray, config: ml_collections.ConfigDict) -> np.ndarray:
    """Teacher rows at the student's positions: [BOS] tokens[:k] [EOS]."""
    p = config.projection
    tokens_model = experiment.uses_tokens(config)
    bos = int(p.add_bos_tag and not tokens_model)
    eos = int(p.add_eos_tag and not tokens_model)
    k = kept_tokens(len(rows), p.max_seq_len)
    zero = np.zeros((1, rows.shape[1]), np.float16)
    return np.concatenate([zero] * bos + [rows[:k].astype(np.float16)] + [zero] * eos)


def load_transfer_set(
    config: ml_collections.ConfigDict, vocabs: LabelVocabs, train_examples: Sequence[Example]
) -> TransferSet:
    """Builds the student's training set from `config.distill` (pqrnn/configs/distill.py).

    Raises:
      ValueError: a training example has no teacher logits, or the teacher
        saw other tokens for it; or no example is left.
      logits_io.LogitsFormatError, UnknownLabelError: see logits_io.
    """
    d = config.distill
    if d.hard_labels not in HARD_LABELS:
        raise ValueError(f"distill.hard_labels={d.hard_labels!r}; expected one of {HARD_LABELS}")
    examples: list[Example] = []
    inputs: list[dict] = []
    intent_logits: dict = {}
    slot_logits: dict = {}
    if not d.augmented_only:
        if not d.teacher_logits:
            raise ValueError(
                "set --config.distill.teacher_logits to the teacher's logits of the training set "
                "(or --config.distill.augmented_only=True with augmented_logits)"
            )
        by_key, source = {}, {}
        for path, record in _read(d.teacher_logits, vocabs, d, inputs):
            if record.key in by_key:
                raise ValueError(
                    f"teacher logits for {record.key} are in both {source[record.key]} and {path}"
                )
            by_key[record.key], source[record.key] = record, path
        missing = []
        for example in train_examples:
            record = by_key.get((example.language, example.id))
            if record is None:
                missing.append((example.language, example.id))
                continue
            if record.tokens != example.tokens:
                at = _first_difference(record.tokens, example.tokens)
                raise ValueError(
                    f"teacher logits for ({example.language!r}, {example.id!r}) in "
                    f"{source[record.key]} were computed on other tokens (first difference at "
                    f"token {at}): {list(record.tokens)} vs the data's {list(example.tokens)}: "
                    "the teacher must use pqrnn's tokenization (docs/DISTILLATION.md)"
                )
            examples.append(example)
            intent_logits[record.key] = record.intent_logits.astype(np.float16)
            slot_logits[record.key] = _aligned(record.slot_logits, config)
        if missing:
            raise ValueError(
                f"{len(missing)} of {len(train_examples)} training examples have no teacher logits "
                f"in {d.teacher_logits} (e.g. (language, id) {missing[:5]}): label the same "
                "training set the student trains on"
            )
    num_original = len(examples)
    num_augmented = 0
    if d.augmented_logits:
        records = _read(d.augmented_logits, vocabs, d, inputs)
        # A student trained on some languages (config.data.languages) uses
        # only the augmented utterances of those languages.
        languages = {e.language for e in train_examples}
        kept = [(p, r) for p, r in records if r.language in languages]
        if len(kept) < len(records):
            logging.info(
                "augmented logits: %d of %d records are in the training languages %s",
                len(kept),
                len(records),
                sorted(languages),
            )
        records = kept
        if d.augmented_amount >= 0:
            wanted = round(d.augmented_amount * len(train_examples))
            if wanted > len(records):
                logging.warning(
                    "distill.augmented_amount=%s asks for %d augmented examples; the files hold %d",
                    d.augmented_amount,
                    wanted,
                    len(records),
                )
            records = records[:wanted]
        augmented_source: dict = {}
        decoder = None
        if d.hard_labels == "teacher_viterbi":
            decoder = decoding.BioDecoder(
                vocabs.tags.labels, decoding.VITERBI, unknown=UNKNOWN_LABEL
            )
        for path, record in records:
            if record.key in augmented_source:
                raise ValueError(
                    f"augmented example {record.key} is in both {augmented_source[record.key]} "
                    f"and {path}"
                )
            if record.key in intent_logits:
                raise ValueError(
                    f"augmented example {record.key} in {path} repeats a training example's "
                    "(language, id)"
                )
            augmented_source[record.key] = path
            if d.hard_labels != "augmentation" or not record.has_labels:
                example = _teacher_labels(record, vocabs, decoder)
            else:
                example = record.to_example()
            examples.append(example)
            intent_logits[record.key] = record.intent_logits.astype(np.float16)
            slot_logits[record.key] = _aligned(record.slot_logits, config)
            num_augmented += 1
    if not examples:
        raise ValueError("the transfer set is empty: check the distill.* logits paths and flags")
    teachers = sorted({i["teacher"] for i in inputs})
    if len(teachers) > 1:
        logging.warning(
            "the logits files come from %d different teachers: %s (rerun the teacher if this "
            "is not deliberate)",
            len(teachers),
            teachers,
        )
    logging.info("transfer set: %d original + %d augmented examples", num_original, num_augmented)
    return TransferSet(
        config, examples, intent_logits, slot_logits, num_original, num_augmented, inputs
    )
