r"""Trains a pQRNN (or baseline) intent + slot model.

    python -m pqrnn.bin.train --config=pqrnn/configs/smoke.py --workdir=/tmp/smoke
    python -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:pqrnn \
        --config.train.epochs=20 --workdir=workdirs/multiatis_pqrnn

Run it again with the same --workdir to resume after an interruption (the
config is then read from the workdir unless --config is given, which must
match). Progress lines show loss, examples/s and ETA; TensorBoard logs go to
<workdir>/logs.
"""

from __future__ import annotations

import os

from absl import app, flags
from ml_collections import config_flags

from pqrnn.configs import smoke
from pqrnn.training import predictor, trainer

_CONFIG = config_flags.DEFINE_config_file(
    "config",
    None,
    "Experiment config file, optionally ':model' (pqrnn|bilstm|transformer), e.g. "
    "pqrnn/configs/multiatis.py:pqrnn. Override fields with --config.<field>=<value>. "
    "Default: the workdir's config.json when resuming, else pqrnn/configs/smoke.py.",
    lock_config=True,
)
_WORKDIR = flags.DEFINE_string(
    "workdir",
    None,
    "Output folder (checkpoints, logs, config, vocabularies); resumes from it.",
    required=True,
)
_STRATEGY = flags.DEFINE_enum(
    "strategy",
    "default",
    trainer.STRATEGIES,
    "tf.distribute strategy: default (one device), mirrored (all local devices), "
    "multi_worker (workers from $TF_CONFIG).",
)
_MAX_STEPS = flags.DEFINE_integer(
    "max_steps", 0, "Stop at this global step (0: all epochs). The run can be resumed later."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    config = _CONFIG.value
    if config is None:
        saved = os.path.join(_WORKDIR.value, "config.json")
        if os.path.exists(saved):
            config = predictor.load_config(_WORKDIR.value)
        else:
            config = smoke.get_config()
    trainer.train(config, _WORKDIR.value, strategy=_STRATEGY.value, max_steps=_MAX_STEPS.value)


if __name__ == "__main__":
    app.run(main)
