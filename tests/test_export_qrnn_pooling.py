"""PQRNN>QRNNPooling: the TF op and its gradient against the QRNN layer's scan,
and the TFLite kernel against the TF op."""

import numpy as np
import pytest
import tensorflow as tf

import pqrnn  # noqa: F401
from pqrnn import ops, tflite
from pqrnn.export.deploy_model import DeployQRNN
from pqrnn.layers import QRNN

CASES = [
    dict(direction="bidirectional", merge_mode="concat", kernel_width=3),
    dict(direction="bidirectional", merge_mode="sum", kernel_width=2),
    dict(direction="forward", kernel_width=3),
    dict(direction="backward", kernel_width=1),
]


def _pair(case, input_dim=5, units=4):
    scan = QRNN(units, **case)
    kernel = DeployQRNN(units, **case)
    x = tf.zeros([1, 3, input_dim])
    scan(x)
    kernel(x)
    rng = np.random.default_rng(0)
    scan.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in scan.weights])
    kernel.set_weights(scan.get_weights())
    return scan, kernel


@pytest.mark.parametrize("case", CASES)
def test_kernel_matches_the_layer_scan_with_padding(case):
    scan, kernel = _pair(case)
    x = tf.constant(np.random.default_rng(1).normal(size=[4, 7, 5]).astype(np.float32))
    lengths = tf.constant([7, 3, 1, 0])
    expected = scan(x, sequence_length=lengths)
    actual = kernel(x, sequence_length=lengths)
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), atol=2e-6)
    # Padded outputs are zero; garbage in padded inputs changes nothing.
    noisy = tf.where(tf.sequence_mask(lengths, 7)[..., None], x, 1e3)
    np.testing.assert_allclose(kernel(noisy, sequence_length=lengths).numpy(), actual.numpy())


@pytest.mark.parametrize("case", CASES[:2])
def test_gradient_matches_the_layer_scan(case):
    scan, kernel = _pair(case)
    x = tf.constant(np.random.default_rng(2).normal(size=[2, 6, 5]).astype(np.float32))
    lengths = tf.constant([6, 4])
    weights = tf.constant(
        np.random.default_rng(3).normal(size=[2, 6, scan.output_size]), tf.float32
    )

    def grads(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(weights * layer(x, sequence_length=lengths))
        return tape.gradient(loss, [x, *layer.trainable_weights])

    for got, want in zip(grads(kernel), grads(scan), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=2e-5, rtol=1e-4)


def test_op_validates_shapes_with_a_message():
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="multiple of 3"):
        ops.qrnn_pooling(tf.zeros([1, 4, 10]), [4], backward_offset=0)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="backward_offset"):
        ops.qrnn_pooling(tf.zeros([1, 4, 6]), [4], direction="forward", backward_offset=1)


def test_op_is_registered_in_both_runtimes(tflite_ops_library):
    assert ops.QRNN_POOLING_OP_NAME in ops.tf_op_names()
    assert ops.QRNN_POOLING_OP_NAME in tflite.custom_op_names()


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_tflite_kernel_matches_tf_op(tflite_ops_library, merge_mode):
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, 24], tf.float32, name="gates"),
            tf.TensorSpec([None], tf.int32, name="lengths"),
        ]
    )
    def pool(gates, lengths):
        return {"h": ops.qrnn_pooling(gates, lengths, merge_mode=merge_mode, backward_offset=2)}

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [pool.get_concrete_function()], tf.Module()
    )
    converter.allow_custom_ops = True
    runner = tflite.Interpreter(model_content=converter.convert()).get_signature_runner()
    rng = np.random.default_rng(4)
    for batch, steps in ((1, 3), (3, 9), (2, 2)):
        gates = rng.normal(size=[batch, steps, 24]).astype(np.float32) * 3
        lengths = rng.integers(0, steps - 1, size=[batch]).astype(np.int32)
        expected = pool(gates, lengths)["h"].numpy()
        actual = runner(gates=gates, lengths=lengths)["h"]
        np.testing.assert_allclose(actual, expected, atol=1e-6)
