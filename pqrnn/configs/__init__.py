"""Experiment configs: small Python files, each with `get_config(arg)`.

Binaries take them with ml_collections' config flags, big_vision style:

    python -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:pqrnn \
        --config.train.epochs=20 --workdir=/tmp/multiatis_pqrnn

The text after ":" picks the model ("pqrnn", "bilstm" or "transformer");
`--config.<field>=<value>` overrides one field. `common.base_config()` lists
every field with its meaning.
"""

import pathlib

CONFIG_DIR = pathlib.Path(__file__).parent


def path(name: str, arg: str = "pqrnn") -> str:
    """The --config value of a preset file in this folder, e.g. path("smoke")."""
    return f"{CONFIG_DIR / (name + '.py')}:{arg}"
