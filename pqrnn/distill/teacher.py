"""Trains a teacher, scores it and writes its logits: what `pqrnn.bin.teacher` runs.

Steps, each skipped when its output is already complete (so a rerun with the
same workdir resumes):
  1. train the teacher (config.teacher.kind: char_bilstm members through
     pqrnn's trainer, or BERT fine-tuned with KerasHub in <workdir>/bert);
  2. score it on config.teacher.eval_splits -> <workdir>/teacher_metrics_<split>.json;
  3. write its logits for the training set -> <workdir>/logits/train.tfrecord;
  4. augment the training set (config.teacher.augment) and write the
     teacher's logits for it -> <workdir>/logits/augmented.tfrecord.
"""

from __future__ import annotations

import hashlib
import json
import math
import os

import ml_collections
from absl import logging

from pqrnn import io_utils, metrics
from pqrnn.data.vocab import LabelVocabs
from pqrnn.distill import augment, labelling, logits_io
from pqrnn.training import experiment, predictor, trainer


def _member_workdirs(config, workdir: str) -> list[str]:
    n = config.teacher.ensemble_size
    if n < 1:
        raise ValueError(f"teacher.ensemble_size must be >= 1, got {n}")
    return [workdir] if n == 1 else [os.path.join(workdir, f"member_{i}") for i in range(n)]


def _member_config(config, index: int):
    """Member `index` of an ensemble: its own seed (initialisation, dropout, order)."""
    if index == 0:
        return config
    member = ml_collections.ConfigDict(config.to_dict())
    member.train.seed = config.train.seed + index
    return member


def _finished(config, workdir: str, num_examples: int, max_steps: int) -> bool:
    path = experiment.workdir_paths(workdir)["summary"]
    if not os.path.exists(path):
        return False
    target = config.train.epochs * math.ceil(num_examples / config.train.batch_size)
    if max_steps:
        target = min(target, max_steps)
    return io_utils.read_json(path).get("steps", 0) >= target


def train_teacher(config, workdir: str, train_examples, vocabs: LabelVocabs, max_steps: int = 0):
    """Trains (or resumes, or just restores) the teacher; returns a labelling.Teacher."""
    kind = config.teacher.kind
    if kind == "bert":
        from pqrnn.distill import bert_teacher

        return bert_teacher.fine_tune(config, os.path.join(workdir, "bert"), train_examples, vocabs)
    if kind != "char_bilstm":
        raise ValueError(f"teacher.kind={kind!r}; expected char_bilstm or bert")
    members = _member_workdirs(config, workdir)
    for i, member in enumerate(members):
        paths = experiment.workdir_paths(member)
        os.makedirs(member, exist_ok=True)
        if not os.path.exists(paths["vocabs"]):  # One label vocabulary for every member.
            predictor.save_vocabs(paths["vocabs"], vocabs)
        if _finished(config, member, len(train_examples), max_steps):
            logging.info("%s: trained, not training it again", member)
            continue
        trainer.train(_member_config(config, i), member, max_steps=max_steps)
    return labelling.PqrnnTeacher(members, batch_size=config.teacher.label_batch_size)


def examples_digest(examples) -> str:
    """SHA-256 of the examples' (language, id, tokens, tags, intent), in order.

    Example:
    >>> from pqrnn.data import Example
    >>> a = [Example("1", "en", ("hi",), ("O",), "greet")]
    >>> b = [Example("1", "en", ("hey",), ("O",), "greet")]
    >>> examples_digest(a) == examples_digest(list(a)), examples_digest(a) == examples_digest(b)
    (True, False)
    """
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.language, e.id, e.tokens, e.tags, e.intent]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _write_once(path: str, teacher, examples, metadata: dict, compression: str) -> None:
    header = logits_io.header_path(path)
    if os.path.exists(header) and io_utils.read_json(header).get("metadata") == metadata:
        logging.info("%s is complete, not writing it again", path)
        return
    count = labelling.write_logits(
        path, teacher, examples, metadata=metadata, compression=compression
    )
    logging.info("wrote %d records to %s", count, path)


def run_teacher(
    config: ml_collections.ConfigDict,
    workdir: str,
    max_steps: int = 0,
    augment_amount: float | None = None,
    skip_eval: bool = False,
    logits_dir: str | None = None,
) -> dict[str, str]:
    """Steps 1-4 of the module docstring; returns the logits files written.

    logits_dir: where the logits files go (default <workdir>/logits), so one
    trained teacher can write transfer sets of several augmentation amounts
    side by side.
    """
    os.makedirs(workdir, exist_ok=True)
    # The saved config is what a resumed run without --config uses: the
    # first run's, until a run with another config has trained or restored
    # the teacher without error (a config the trainer rejects is not saved).
    saved_config = os.path.join(workdir, "teacher_config.json")
    if not os.path.exists(saved_config):
        io_utils.atomic_write_json(saved_config, json.loads(config.to_json()))
    train_examples, _ = experiment.load_examples(config, "train")
    vocabs_path = os.path.join(workdir, "vocabs.json")
    vocabs = (
        predictor.load_vocabs(vocabs_path)
        if os.path.exists(vocabs_path)
        else LabelVocabs.build(train_examples)
    )
    predictor.save_vocabs(vocabs_path, vocabs)
    teacher = train_teacher(config, workdir, train_examples, vocabs, max_steps)
    io_utils.atomic_write_json(saved_config, json.loads(config.to_json()))

    if not skip_eval:
        for split in filter(None, config.teacher.eval_splits.split(",")):
            examples, _ = experiment.load_examples(config, split)
            results, predicted = labelling.evaluate(teacher, examples)
            results.update(split=split, model=f"teacher {teacher.description}")
            print(f"\nteacher ({config.teacher.kind}), split {split}:")
            print(metrics.format_table(results))
            io_utils.atomic_write_json(
                os.path.join(workdir, f"teacher_metrics_{split}.json"), results
            )
            # Per utterance, as `evaluate --predictions_output` writes them:
            # `pqrnn.bin.compare` pairs a student with its teacher.
            io_utils.atomic_write_json_lines(
                os.path.join(workdir, f"teacher_predictions_{split}.jsonl"),
                metrics.prediction_rows(predicted, examples),
            )

    t = config.teacher
    # The training examples' digest: a logits file of the same teacher over
    # other rows (e.g. after a reader fix) is written again, not kept.
    base = {
        "teacher": teacher.description,
        "dataset": config.data.dataset,
        "train_sha256": examples_digest(train_examples),
    }
    logits_dir = logits_dir or os.path.join(workdir, "logits")
    written = {"train": os.path.join(logits_dir, "train.tfrecord")}
    _write_once(
        written["train"],
        teacher,
        train_examples,
        base | {"split": "train", "num_examples": len(train_examples)},
        t.compression,
    )
    amount = t.augment.amount if augment_amount is None else augment_amount
    if amount > 0:
        augment_config = augment.AugmentConfig(
            amount=amount,
            methods=tuple(m.strip() for m in t.augment.methods.split(",") if m.strip()),
            dropout_rate=t.augment.dropout_rate,
            replace_rate=t.augment.replace_rate,
            seed=t.augment.seed,
        )
        augmented = augment.augment(train_examples, augment_config)
        counts = {m: sum(a.method == m for a in augmented) for m in augment.METHODS}
        logging.info("augmented %d utterances: %s", len(augmented), counts)
        written["augmented"] = os.path.join(logits_dir, "augmented.tfrecord")
        _write_once(
            written["augmented"],
            teacher,
            augmented,
            base
            | {
                "split": "augmented",
                "augment": {
                    "amount": amount,
                    "methods": list(augment_config.methods),
                    "dropout_rate": augment_config.dropout_rate,
                    "replace_rate": augment_config.replace_rate,
                    "seed": augment_config.seed,
                },
                "num_examples": len(augmented),
                "per_method": counts,
            },
            t.compression,
        )
    return written
