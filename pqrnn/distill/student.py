"""Trains a student on a teacher's logits: what `pqrnn.bin.distill` runs."""

from __future__ import annotations

import os

import ml_collections
from absl import logging

from pqrnn import io_utils
from pqrnn.data.vocab import LabelVocabs
from pqrnn.distill.losses import DistillationLoss
from pqrnn.distill.transfer_set import load_transfer_set
from pqrnn.training import experiment, predictor, trainer

INPUTS_FILE = "distill_inputs.json"


def check_inputs(path: str, inputs: list[dict]) -> None:
    """Records the logits files' fingerprints at `path` on the first run; on a
    resumed run, stops if a file changed since (e.g. the teacher retrained and
    rewrote it, or another augmentation amount went to the same path): the
    student would go on towards other targets, over a transfer set whose size
    the checkpoint's epoch and step no longer match."""
    if not os.path.exists(path):
        io_utils.atomic_write_json(path, inputs)
        return
    saved = io_utils.read_json(path)
    if saved == inputs:
        return
    before = {i["path"]: i for i in saved}
    now = {i["path"]: i for i in inputs}
    changed = sorted(p for p in before.keys() | now.keys() if before.get(p) != now.get(p))
    details = "; ".join(
        f"{p}: was {before.get(p, 'not read')}, now {now.get(p, 'not read')}" for p in changed
    )
    raise ValueError(
        f"the teacher logits changed since this student started ({path}): {details}. Start a "
        f"new --workdir, or delete {path} to go on with the new logits deliberately"
    )


def distill(
    config: ml_collections.ConfigDict, workdir: str, strategy: str = "default", max_steps: int = 0
) -> dict:
    """Trains (or resumes) the student of `config` in `workdir`; returns the summary."""
    if "distill" not in config:
        raise ValueError("the config has no `distill` section: use pqrnn/configs/distill.py")
    d = config.distill
    train_examples, _ = experiment.load_examples(config, "train")
    # The student's labels come from the labelled training set, whatever the
    # transfer set holds (e.g. augmented utterances alone).
    vocabs_path = experiment.workdir_paths(workdir)["vocabs"]
    if os.path.exists(vocabs_path):
        vocabs = predictor.load_vocabs(vocabs_path)
    else:
        vocabs = LabelVocabs.build(train_examples)
        os.makedirs(workdir, exist_ok=True)
        predictor.save_vocabs(vocabs_path, vocabs)
    transfer = load_transfer_set(config, vocabs, train_examples)
    check_inputs(os.path.join(workdir, INPUTS_FILE), transfer.inputs)
    loss = DistillationLoss(
        alpha=d.alpha, temperature=d.temperature, slot_loss_weight=config.train.slot_loss_weight
    )
    logging.info(
        "distilling: alpha %.2f, temperature %.2f, %d original + %d augmented examples",
        d.alpha,
        d.temperature,
        transfer.num_original,
        transfer.num_augmented,
    )
    summary = trainer.train(
        config,
        workdir,
        strategy=strategy,
        max_steps=max_steps,
        loss_fn=loss,
        train_examples=transfer.examples,
        make_train_dataset=transfer.make_dataset,
    )
    return summary
