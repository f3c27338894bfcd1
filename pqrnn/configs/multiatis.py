"""MultiATIS++: one multilingual model over all 9 languages.

    python -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:pqrnn \
        --workdir=workdirs/multiatis_pqrnn
    python -m pqrnn.bin.evaluate --workdir=workdirs/multiatis_pqrnn --split=test

The arg picks the model: pqrnn (default), bilstm or transformer. Expected
runtime and results: docs/RESULTS.md.
"""

from pqrnn.configs.common import base_config


def get_config(arg: str = "pqrnn"):
    config = base_config(arg or "pqrnn")
    config.data.dataset = "multiatis"
    config.train.update(epochs=20, batch_size=64)
    return config
