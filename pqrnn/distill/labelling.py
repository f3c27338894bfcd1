"""Runs a teacher over examples: logits files, predictions and metrics.

A teacher is anything with `intents`, `tags` (its label columns), a
`description`, and `logits(examples) -> [(intent [I], slots [n, S])]` with one
slot row per token of each example (no BOS/EOS row). `PqrnnTeacher` wraps
one or more pqrnn training workdirs (several = an ensemble);
`pqrnn.distill.bert_teacher.BertTeacher` is the other implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from absl import logging

from pqrnn import decoding, metrics
from pqrnn.data.example import OUTSIDE, Example
from pqrnn.data.pipeline import kept_tokens
from pqrnn.data.vocab import UNKNOWN_LABEL
from pqrnn.distill import logits_io
from pqrnn.distill.augment import Augmented

Logits = tuple[np.ndarray, np.ndarray]


class Teacher(Protocol):
    intents: tuple[str, ...]
    tags: tuple[str, ...]
    description: str

    def logits(self, examples: Sequence[Example]) -> list[Logits]: ...


def log_softmax(x: np.ndarray) -> np.ndarray:
    """`pqrnn.decoding.log_softmax` in float32 (what logits files store)."""
    return decoding.log_softmax(x).astype(np.float32)


class PqrnnTeacher:
    """A model trained by pqrnn (any model name, e.g. char_bilstm), or an
    ensemble of them: members' log-probabilities are averaged (the log of the
    geometric mean of their distributions), which is a valid logit vector.

    Args:
      workdirs: training workdirs; all must share one label vocabulary.
      batch_size: examples per inference batch.
    """

    def __init__(self, workdirs: Sequence[str], batch_size: int = 256):
        from pqrnn.training.predictor import TrainedModel

        if not workdirs:
            raise ValueError("PqrnnTeacher needs at least one workdir")
        self.members = [TrainedModel.restore(w) for w in workdirs]
        vocabs = self.members[0].vocabs
        for workdir, member in zip(workdirs, self.members, strict=True):
            if member.vocabs != vocabs:
                raise ValueError(f"{workdir}: label vocabularies differ from {workdirs[0]}'s")
        self.intents = vocabs.intents.labels
        self.tags = vocabs.tags.labels
        self.batch_size = batch_size
        names = ", ".join(
            f"{w} (step {m.step})" for w, m in zip(workdirs, self.members, strict=True)
        )
        model = self.members[0].config.model.name
        self.description = f"pqrnn {model} x{len(workdirs)}: {names}"

    def _member_logits(self, member, examples: Sequence[Example]) -> list[Logits]:
        from pqrnn.training import experiment, predictor

        config = member.config
        _, raw = predictor.predict_examples(
            config,
            member.model,
            member.vocabs,
            examples,
            self.batch_size,
            return_logits=True,
            slot_decoding="argmax",  # only the logits are used: skip the decoding
        )
        bos = int(config.projection.add_bos_tag and not experiment.uses_tokens(config))
        out = []
        for example, (intent, rows) in zip(examples, raw, strict=True):
            n = len(example.tokens)
            k = kept_tokens(n, config.projection.max_seq_len)
            slots = np.zeros((n, len(self.tags)), np.float32)  # Cut tokens: uniform.
            slots[:k] = rows[bos : bos + k]
            out.append((np.asarray(intent, np.float32), slots))
        return out

    def logits(self, examples: Sequence[Example]) -> list[Logits]:
        per_member = [self._member_logits(m, examples) for m in self.members]
        if len(per_member) == 1:
            return per_member[0]
        return [
            (
                np.mean([log_softmax(m[i][0]) for m in per_member], axis=0),
                np.mean([log_softmax(m[i][1]) for m in per_member], axis=0),
            )
            for i in range(len(examples))
        ]


def predictions(
    teacher: Teacher,
    examples: Sequence[Example],
    logits: Sequence[Logits],
    slot_decoding: str = decoding.DEFAULT,
    types_by_intent: dict | None = None,
):
    """(intent, tags) per example from logits: the intent's argmax, tags by
    `slot_decoding` (`pqrnn.decoding`); a "<unk>" tag reads "O"."""
    decoder = decoding.BioDecoder(teacher.tags, slot_decoding, types_by_intent=types_by_intent)
    out = []
    for _example, (intent, slots) in zip(examples, logits, strict=True):
        label = teacher.intents[int(np.argmax(intent))]
        tags = [teacher.tags[int(i)] for i in decoder.decode(slots, label)]
        out.append(
            (
                label,
                tuple(OUTSIDE if t == UNKNOWN_LABEL else t for t in tags),
            )
        )
    return out


def evaluate(
    teacher: Teacher,
    examples: Sequence[Example],
    slot_decoding: str = decoding.DEFAULT,
    types_by_intent: dict | None = None,
) -> tuple[dict, list[tuple[str, tuple[str, ...]]]]:
    """pqrnn.metrics.evaluate of the teacher's predictions (slots decoded by
    `slot_decoding`, recorded in the result), and the predictions."""
    logits = teacher.logits(examples)
    predicted = predictions(teacher, examples, logits, slot_decoding, types_by_intent)
    results = metrics.evaluate(predicted, examples)
    results["slot_decoding"] = slot_decoding
    return results, predicted


def write_logits(
    path: str,
    teacher: Teacher,
    examples: Sequence[Example | Augmented],
    *,
    metadata: dict | None = None,
    chunk_size: int = 16384,
    compression: str = "",
) -> int:
    """Writes the teacher's logits of `examples` (with their labels) to `path`.

    Augmented examples are written with their source's id as source_id.
    Returns the number of records written.
    """
    with logits_io.LogitsWriter(
        path,
        teacher.intents,
        teacher.tags,
        teacher=teacher.description,
        metadata=metadata,
        compression=compression,
    ) as writer:
        for start in range(0, len(examples), chunk_size):
            chunk = examples[start : start + chunk_size]
            plain = [e.example if isinstance(e, Augmented) else e for e in chunk]
            for item, example, (intent, slots) in zip(
                chunk, plain, teacher.logits(plain), strict=True
            ):
                source = item.source.id if isinstance(item, Augmented) else ""
                writer.write_example(example, intent, slots, source_id=source)
            logging.info("%s: %d/%d examples", path, start + len(chunk), len(examples))
    return len(examples)
