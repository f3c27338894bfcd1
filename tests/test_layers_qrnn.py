"""Tests of pqrnn.layers.QRNN."""

import numpy as np
import pytest
import tensorflow as tf

from pqrnn import testing
from pqrnn.layers import QRNN
from pqrnn.layers.qrnn import fo_pool

RNG = np.random.default_rng(0)
INPUTS = RNG.standard_normal((3, 6, 5)).astype(np.float32)
LENGTHS = np.array([6, 3, 1], np.int32)


def reference_qrnn(x, kernel, bias, units, direction, lengths):
    """Step-by-step numpy QRNN on each example's real steps only."""
    k = kernel.shape[0]
    directions = ["forward", "backward"] if direction == "bidirectional" else [direction]
    outputs = np.zeros(x.shape[:2] + (units * len(directions),))
    for b, length in enumerate(lengths):
        for d, name in enumerate(directions):
            w = kernel[:, :, d * 3 * units : (d + 1) * 3 * units]
            gates = np.tile(bias[d * 3 * units : (d + 1) * 3 * units], (length, 1))
            for t in range(length):
                for i in range(k):
                    s = t - (k - 1) + i if name == "forward" else t + i
                    if 0 <= s < length:
                        gates[t] += x[b, s] @ w[i]
            z = np.tanh(gates[:, :units])
            f = 1 / (1 + np.exp(-gates[:, units : 2 * units]))
            o = 1 / (1 + np.exp(-gates[:, 2 * units :]))
            c = np.zeros(units)
            steps = range(length) if name == "forward" else reversed(range(length))
            for t in steps:
                c = f[t] * c + (1 - f[t]) * z[t]
                outputs[b, t, d * units : (d + 1) * units] = o[t] * c
    return outputs


@pytest.mark.parametrize("direction", ["forward", "backward", "bidirectional"])
def test_layer_contract(direction):
    width = 8 if direction == "bidirectional" else 4
    testing.run_layer_test(
        QRNN,
        dict(units=4, kernel_width=2, direction=direction, zoneout=0.2, seed=3),
        INPUTS,
        call_kwargs={"sequence_length": LENGTHS},
        expected_output_shape=(3, 6, width),
    )


@pytest.mark.parametrize("direction", ["forward", "backward", "bidirectional"])
@pytest.mark.parametrize("kernel_width", [1, 3])
def test_matches_stepwise_reference(direction, kernel_width):
    layer = QRNN(
        3, kernel_width=kernel_width, direction=direction, bias_initializer="random_normal"
    )
    outputs = layer(INPUTS, sequence_length=LENGTHS).numpy()
    kernel, bias = (w.numpy().astype(np.float64) for w in layer.weights)
    expected = reference_qrnn(INPUTS.astype(np.float64), kernel, bias, 3, direction, LENGTHS)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


@pytest.mark.parametrize("direction", ["forward", "backward", "bidirectional"])
def test_padding_invariance(direction):
    layer = QRNN(4, kernel_width=3, direction=direction, bias_initializer="random_normal")
    testing.assert_padding_invariant(
        lambda x, lengths: layer(x, sequence_length=lengths), INPUTS, LENGTHS
    )


def test_keras_mask_equals_sequence_length():
    layer = QRNN(4, direction="bidirectional")
    mask = np.arange(6)[None, :] < LENGTHS[:, None]
    np.testing.assert_allclose(
        layer(INPUTS, mask=tf.constant(mask)), layer(INPUTS, sequence_length=LENGTHS)
    )
    assert layer.compute_mask(INPUTS, tf.constant(mask)) is not None


def test_without_mask_every_step_is_real():
    layer = QRNN(4, direction="bidirectional")
    full = np.full([3], 6, np.int32)
    np.testing.assert_allclose(layer(INPUTS), layer(INPUTS, sequence_length=full))


def test_sum_merge_mode():
    layer = QRNN(4, direction="bidirectional", merge_mode="sum")
    assert layer(INPUTS).shape == (3, 6, 4)
    assert layer.output_size == 4


def test_zoneout_only_in_training():
    layer = QRNN(8, direction="bidirectional", zoneout=0.5, seed=1)
    plain = QRNN(8, direction="bidirectional")
    plain(INPUTS)
    inference = layer(INPUTS, sequence_length=LENGTHS, training=False)
    plain.set_weights(layer.get_weights())
    # At inference zoneout is off: deterministic and identical to no zoneout.
    np.testing.assert_array_equal(inference, layer(INPUTS, sequence_length=LENGTHS))
    np.testing.assert_allclose(inference, plain(INPUTS, sequence_length=LENGTHS), atol=1e-7)
    trained = layer(INPUTS, sequence_length=LENGTHS, training=True).numpy()
    assert np.abs(trained - inference.numpy()).max() > 1e-3
    # Zoneout never leaks into padded positions.
    assert np.all(trained[1, 3:] == 0) and np.all(trained[2, 1:] == 0)


@pytest.mark.parametrize("steps", [1, 2, 5, 8, 9])
def test_fo_pool_solves_the_recurrence(steps):
    forget = RNG.uniform(size=(2, steps, 3)).astype(np.float32)
    candidate = RNG.standard_normal((2, steps, 3)).astype(np.float32)
    expected, state = np.zeros_like(candidate), np.zeros((2, 3), np.float32)
    for t in range(steps):
        state = forget[:, t] * state + candidate[:, t]
        expected[:, t] = state
    np.testing.assert_allclose(fo_pool(forget, candidate), expected, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(units=0),
        dict(units=2, kernel_width=0),
        dict(units=2, direction="sideways"),
        dict(units=2, merge_mode="mul"),
        dict(units=2, zoneout=1.0),
    ],
)
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="QRNN"):
        QRNN(**kwargs)
