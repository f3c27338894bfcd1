"""Smoke preset: a tiny model on the generated dataset, about a minute on 2 cores.

    python -m pqrnn.bin.train --config=pqrnn/configs/smoke.py --workdir=/tmp/smoke

Used by `make demo` and CI; proves the pipeline learns, says nothing about
accuracy on real data.
"""

from pqrnn.configs.common import base_config


def get_config(arg: str = "pqrnn"):
    config = base_config(arg or "pqrnn")
    config.data.dataset = "synthetic"
    config.projection.max_seq_len = 32
    config.model.pqrnn.update(feature_size=128, bottleneck=32, qrnn_state=32, num_layers=1)
    config.model.bilstm.update(embedding_dim=32, lstm_units=32, max_vocab_size=2000)
    config.model.transformer.update(
        hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, max_vocab_size=2000
    )
    config.train.update(
        batch_size=32, epochs=10, warmup_steps=20, log_every=20, checkpoint_every=100
    )
    return config
