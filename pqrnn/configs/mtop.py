"""MTOP: one multilingual model over all 6 languages (train: mtop_train_flat,
validation: the official v2 eval split, test: the official v2 test split).

    python -m pqrnn.bin.train --config=pqrnn/configs/mtop.py:pqrnn \
        --workdir=workdirs/mtop_pqrnn
    python -m pqrnn.bin.evaluate --workdir=workdirs/mtop_pqrnn --split=test

The arg picks the model: pqrnn (default), bilstm or transformer. Expected
runtime and results: docs/RESULTS.md.
"""

from pqrnn.configs.common import base_config


def get_config(arg: str = "pqrnn"):
    config = base_config(arg or "pqrnn")
    config.data.dataset = "mtop"
    config.data.drop_overlap = True  # Recommended by the data README (old annotation errors).
    config.train.update(epochs=10, batch_size=64)
    return config
