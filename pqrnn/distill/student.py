"""Trains a student on a teacher's logits: what `pqrnn.bin.distill` runs."""

from __future__ import annotations

import os

import ml_collections
from absl import logging

from pqrnn.data.vocab import LabelVocabs
from pqrnn.distill.losses import DistillationLoss
from pqrnn.distill.transfer_set import load_transfer_set
from pqrnn.training import experiment, predictor, trainer


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
