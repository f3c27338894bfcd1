"""Tests of pqrnn.layers.PQRNNEncoder."""

import numpy as np
import pytest
import tensorflow as tf

from pqrnn import testing
from pqrnn.layers import PQRNNEncoder

RNG = np.random.default_rng(1)
# Ternary features, like the projection's.
PROJECTION = RNG.choice([-1.0, 0.0, 0.0, 1.0], size=(3, 7, 16)).astype(np.float32)
LENGTHS = np.array([7, 4, 2], np.int32)
TINY = dict(bottleneck=8, qrnn_state=4, num_layers=2, kernel_width=3, zoneout=0.1, dropout=0.1)


def test_layer_contract():
    encoder = testing.run_layer_test(
        PQRNNEncoder,
        TINY,
        PROJECTION,
        call_kwargs={"sequence_length": LENGTHS},
        expected_output_shape=(3, 7, 8),
    )
    assert encoder.output_size == 8
    # bottleneck 16*8+8, layer 0: 3*8*24+24, layer 1: 3*8*24+24.
    assert encoder.count_params() == 136 + 600 + 600


def test_padding_invariance():
    encoder = PQRNNEncoder(**TINY)
    testing.assert_padding_invariant(
        lambda x, lengths: encoder(x, sequence_length=lengths), PROJECTION, LENGTHS
    )


def test_padded_outputs_are_zero_and_mask_passes_through():
    encoder = PQRNNEncoder(**TINY)
    outputs = encoder(PROJECTION, sequence_length=LENGTHS).numpy()
    assert np.all(outputs[1, 4:] == 0) and np.all(outputs[2, 2:] == 0)
    mask = tf.constant(np.arange(7)[None, :] < LENGTHS[:, None])
    np.testing.assert_allclose(encoder(PROJECTION, mask=mask), outputs)
    assert encoder.compute_mask(PROJECTION, mask) is mask


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_layers"):
        PQRNNEncoder(num_layers=0)
