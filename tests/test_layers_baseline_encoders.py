"""Tests of the baseline encoders: pqrnn.layers.BiLSTMEncoder and TransformerEncoder."""

import numpy as np
import pytest

from pqrnn import testing
from pqrnn.layers import BiLSTMEncoder, TransformerEncoder

RNG = np.random.default_rng(3)
EMBEDDINGS = RNG.standard_normal((3, 5, 8)).astype(np.float32)
LENGTHS = np.array([5, 3, 1], np.int32)
CASES = [
    # One BiLSTM layer: Keras LSTMs are slow to trace; stacking is the same loop.
    (BiLSTMEncoder, dict(units=4, num_layers=1, dropout=0.1)),
    (
        TransformerEncoder,
        dict(num_layers=2, num_heads=2, intermediate_size=16, max_length=12, dropout=0.1),
    ),
]


@pytest.mark.parametrize(("layer_cls", "kwargs"), CASES)
def test_layer_contract(layer_cls, kwargs):
    testing.run_layer_test(
        layer_cls,
        kwargs,
        EMBEDDINGS,
        call_kwargs={"sequence_length": LENGTHS},
        expected_output_shape=(3, 5, 8),
    )


@pytest.mark.parametrize(("layer_cls", "kwargs"), CASES)
def test_padding_invariance(layer_cls, kwargs):
    layer = layer_cls(**kwargs)
    testing.assert_padding_invariant(
        lambda x, lengths: layer(x, sequence_length=lengths), EMBEDDINGS, LENGTHS
    )
