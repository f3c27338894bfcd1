r"""Trains a distillation teacher, scores it, and writes its logits.

    python -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:smoke \
        --workdir=workdirs/teacher_smoke
    python -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:mtop,bert \
        --config.bert.checkpoint=/path/to/bert_base_multi --workdir=workdirs/teacher_mtop_bert

Steps, each skipped when its output is already complete (run it again with
the same --workdir to resume):
  1. train the teacher (config.teacher.kind: char_bilstm members through
     pqrnn's trainer, or BERT fine-tuned with KerasHub in <workdir>/bert);
  2. score it on config.teacher.eval_splits -> <workdir>/teacher_metrics_<split>.json,
     and its per-utterance predictions -> <workdir>/teacher_predictions_<split>.jsonl
     (what `pqrnn.bin.compare` pairs with a student's);
  3. write its logits for the training set -> <workdir>/logits/train.tfrecord;
  4. augment the training set (config.teacher.augment, --augment_amount)
     and write the teacher's logits for it -> <workdir>/logits/augmented.tfrecord.
The logits files follow docs/DISTILLATION.md; `pqrnn.bin.distill` reads them.
"""

from __future__ import annotations

import os

import ml_collections
from absl import app, flags
from ml_collections import config_flags

from pqrnn import io_utils
from pqrnn.distill.teacher import run_teacher
from pqrnn.training import experiment

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    None,
    "Teacher config, e.g. pqrnn/configs/teacher.py:mtop (or :mtop,bert). Default: the "
    "workdir's teacher_config.json when resuming.",
    lock_config=True,
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Output folder; resumes from it.", required=True)
_MAX_STEPS = flags.DEFINE_integer(
    "max_steps", 0, "char_bilstm: stop each member at this step (0: all epochs); for tests."
)
_AUGMENT_AMOUNT = flags.DEFINE_float(
    "augment_amount",
    None,
    "Augmented utterances per training utterance (overrides config.teacher.augment.amount; "
    "0 writes no augmented file).",
)
_SKIP_EVAL = flags.DEFINE_bool("skip_eval", False, "Do not score the teacher.")
_LOGITS_DIR = flags.DEFINE_string(
    "logits_dir",
    None,
    "Folder for the logits files (default <workdir>/logits). A trained teacher only "
    "labels: e.g. --augment_amount=8 --logits_dir=<workdir>/logits_aug8 writes a larger "
    "transfer set beside the default one.",
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    workdir = _WORKDIR.value
    saved = os.path.join(workdir, "teacher_config.json")
    config = _CONFIG.value
    if config is None:
        if not os.path.exists(saved):
            raise app.UsageError(f"--config is required (no {saved} to resume from)")
        # Fields added since it was written read as off, as for training workdirs.
        config = ml_collections.ConfigDict(
            experiment.upgrade_saved_config(io_utils.read_json(saved))
        )
    run_teacher(
        config,
        workdir,
        _MAX_STEPS.value,
        _AUGMENT_AMOUNT.value,
        _SKIP_EVAL.value,
        _LOGITS_DIR.value,
    )


if __name__ == "__main__":
    app.run(main)
