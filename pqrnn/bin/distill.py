r"""Distills a teacher's logits into a pQRNN student (docs/DISTILLATION.md).

    python -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:smoke \
        --workdir=workdirs/distill_smoke
    python -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:mtop \
        --config.distill.teacher_logits=workdirs/teacher_mtop/logits/train.tfrecord \
        --config.distill.alpha=0.3 --workdir=workdirs/distill_mtop
    python -m pqrnn.bin.evaluate --workdir=workdirs/distill_mtop --split=test

The student trains with pqrnn's trainer on the transfer set (the training
set joined with the teacher's logits, plus augmented utterances) with loss
alpha * CE(labels) + (1 - alpha) * T^2 * KL(teacher_T || student_T) for the
intent and every token's slot tag. The teacher is only read. The workdir is
a normal training workdir: run the same command again to resume; evaluate,
predict and export work on it unchanged.
"""

from __future__ import annotations

import os

from absl import app, flags
from ml_collections import config_flags

from pqrnn.distill.student import distill
from pqrnn.training import predictor, trainer

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    None,
    "Distillation config, e.g. pqrnn/configs/distill.py:mtop; override fields with "
    "--config.distill.alpha=0.3. Default: the workdir's config.json when resuming.",
    lock_config=True,
)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Output folder (a training workdir); resumes from it.", required=True
)
_STRATEGY = flags.DEFINE_enum(
    "strategy", "default", trainer.STRATEGIES, "tf.distribute strategy (see pqrnn.bin.train)."
)
_MAX_STEPS = flags.DEFINE_integer(
    "max_steps", 0, "Stop at this global step (0: all epochs). The run can be resumed later."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    config = _CONFIG.value
    if config is None:
        if not os.path.exists(os.path.join(_WORKDIR.value, "config.json")):
            raise app.UsageError("--config is required for a new --workdir")
        config = predictor.load_config(_WORKDIR.value)
    distill(config, _WORKDIR.value, _STRATEGY.value, _MAX_STEPS.value)


if __name__ == "__main__":
    app.run(main)
