"""The deploy model (flat pQRNN with the QRNN kernel) and its QAT version."""

import numpy as np
import pytest
import tensorflow as tf

import pqrnn  # noqa: F401
from pqrnn import models, testing
from pqrnn.export import deploy_model, qat

FEATURES = 16


@pytest.fixture(scope="module")
def joint():
    config = models.PQRNNConfig(feature_size=FEATURES, bottleneck=8, qrnn_state=4, num_layers=2)
    model = models.build_joint_model(config, num_intents=5, num_slot_tags=7)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.5 for w in model.weights])
    return model


def _inputs(batch=3, steps=6):
    rng = np.random.default_rng(1)
    projection = rng.choice([-1.0, 0.0, 1.0], size=[batch, steps, FEATURES]).astype(np.float32)
    lengths = np.array([steps, 2, 4][:batch], np.int32)
    projection[np.arange(steps)[None, :] >= lengths[:, None]] = 0.0  # as the op pads
    return {"projection": tf.constant(projection), "sequence_length": tf.constant(lengths)}


def test_deploy_qrnn_layer_contract():
    x = np.random.default_rng(2).normal(size=[3, 6, 5]).astype(np.float32)
    testing.run_layer_test(
        deploy_model.DeployQRNN,
        dict(units=4, kernel_width=3, direction="bidirectional", zoneout=0.2, mask_inputs=True),
        x,
        call_kwargs={"sequence_length": np.array([6, 3, 1], np.int32)},
        expected_output_shape=(3, 6, 8),
    )


@pytest.mark.parametrize("pooling", deploy_model.POOLING_CHOICES)
def test_deploy_model_equals_the_joint_model(joint, pooling):
    deploy = deploy_model.build_deploy_model(joint, pooling)
    inputs = _inputs()
    expected, actual = joint(inputs), deploy(inputs)
    lengths = inputs["sequence_length"].numpy()
    np.testing.assert_allclose(actual["intent"].numpy(), expected["intent"].numpy(), atol=1e-5)
    for row, n in enumerate(lengths):
        np.testing.assert_allclose(
            actual["slots"][row, :n].numpy(), expected["slots"][row, :n].numpy(), atol=1e-5
        )
    names = [layer.name for layer in deploy.layers]
    assert "qrnn_0" in names and "qrnn_1" in names and "bottleneck" in names


def _gate_pre_activations(layer, x, lengths):
    """DeployQRNN's gates as the kernel receives them (via the identity hook)."""
    seen = []
    layer.gates_activation = lambda g: seen.append(g) or g
    layer(x, sequence_length=lengths)
    layer.gates_activation = lambda g: g
    return seen[0].numpy()


def test_gate_clip_clips_the_gates_to_plus_minus_c_and_keeps_the_rest():
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=[2, 5, 3]).astype(np.float32))
    lengths = tf.constant([5, 3])
    plain = deploy_model.DeployQRNN(units=4, direction="bidirectional")
    clipped = deploy_model.DeployQRNN(units=4, direction="bidirectional", gate_clip=2.0)
    plain.build(x.shape)
    clipped.build(x.shape)
    weights = [w * 3.0 for w in plain.get_weights()]  # gates well beyond ±2
    plain.set_weights(weights)
    clipped.set_weights(weights)
    expected = _gate_pre_activations(plain, x, lengths)
    actual = _gate_pre_activations(clipped, x, lengths)
    assert np.abs(expected).max() > 3.0  # some gates are clipped
    # The hook (where an int8 file quantizes) sees gates / c clipped to [-1, 1].
    np.testing.assert_allclose(actual, np.clip(expected / 2.0, -1.0, 1.0), atol=1e-5)
    # Its outputs are those of the unclipped layer with its gates clipped.
    plain.gates_activation = lambda g: tf.clip_by_value(g, -2.0, 2.0)
    want = plain(x, sequence_length=lengths)
    np.testing.assert_allclose(clipped(x, sequence_length=lengths), want, atol=1e-5)
    assert clipped.get_config()["gate_clip"] == 2.0


def test_gate_clip_beyond_the_gates_changes_nothing(joint):
    inputs = _inputs()
    plain = deploy_model.build_deploy_model(joint)(inputs)
    clipped = deploy_model.build_deploy_model(joint, gate_clip=1e4)(inputs)
    for name in ("intent", "slots"):
        np.testing.assert_allclose(clipped[name], plain[name], atol=1e-4)


def test_gate_clip_is_checked():
    with pytest.raises(ValueError, match="gate_clip=-1.0 must be >= 0"):
        deploy_model.DeployQRNN(units=4, gate_clip=-1.0)


def test_padding_mask_is_sequence_mask():
    inputs = _inputs()
    mask = deploy_model.PaddingMask()([inputs["projection"], inputs["sequence_length"]])
    expected = tf.sequence_mask(inputs["sequence_length"], inputs["projection"].shape[1])
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())


def test_deploy_intent_head_with_a_given_mask_and_zeroed_inputs_is_bit_identical():
    encodings = np.random.default_rng(6).normal(size=[3, 6, 8]).astype(np.float32)
    lengths = np.array([6, 2, 0], np.int32)
    encodings[np.arange(6)[None, :] >= lengths[:, None]] = 0.0  # as DeployQRNN outputs
    head = deploy_model.DeployIntentHead(num_intents=4)
    expected = head(tf.constant(encodings), sequence_length=tf.constant(lengths))
    fast = deploy_model.DeployIntentHead.from_config({**head.get_config(), "zeroed_inputs": True})
    fast(tf.constant(encodings), sequence_length=tf.constant(lengths))
    deploy_model._copy_weights(head, fast)  # noqa: SLF001
    mask = tf.sequence_mask(lengths, 6)
    actual = fast(tf.constant(encodings), padding_mask=mask)
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())
    np.testing.assert_array_equal(
        fast(tf.constant(encodings), sequence_length=tf.constant(lengths)).numpy(),
        expected.numpy(),
    )
    assert fast.get_config()["zeroed_inputs"] is True


def test_deploy_model_computes_one_padding_mask(joint):
    deploy = deploy_model.build_deploy_model(joint)
    masks = [layer for layer in deploy.layers if isinstance(layer, deploy_model.PaddingMask)]
    assert len(masks) == 1
    qrnn = [layer for layer in deploy.layers if isinstance(layer, deploy_model.DeployQRNN)]
    assert [layer.mask_inputs for layer in qrnn] == [True, False]
    assert deploy.get_layer("intent").zeroed_inputs


def test_deploy_model_rejects_a_baseline():
    baseline = models.build_bilstm_model(models.BiLSTMConfig(), ["a", "b"], 3, 4)
    with pytest.raises(ValueError, match="not a PQRNNEncoder"):
        deploy_model.build_deploy_model(baseline)


def test_qat_model_quantizes_weights_and_gates_but_not_lengths(joint):
    model = qat.build_qat_model(deploy_model.build_deploy_model(joint))
    quantize_layers = [layer for layer in model.layers if type(layer).__name__ == "QuantizeLayer"]
    assert len(quantize_layers) == 1  # the projection input only
    assert quantize_layers[0].input.dtype == tf.float32
    wrapped = {layer.name for layer in model.layers if "Quantize" in type(layer).__name__}
    assert {
        "quant_bottleneck",
        "quant_qrnn_0",
        "quant_qrnn_1",
        "quant_intent",
        "quant_slots",
    } <= wrapped
    before = model(_inputs(), training=False)
    assert before["intent"].shape == (3, 5)
    # One training step starts every activation range from the batch.
    variables = {v.name: v for v in model.weights}
    gates_min = variables["quant_qrnn_0/post_activation_min:0"]  # the gates
    assert float(gates_min.numpy()) == -6.0
    model(_inputs(), training=True)
    assert float(variables["quant_qrnn_0/post_activation_initialized:0"].numpy()) == 1.0
    assert float(gates_min.numpy()) != -6.0 and float(gates_min.numpy()) <= 0.0


def test_kernel_quantizer_returns_the_conv2d_kernel():
    quantizer = qat.KernelQuantizer(num_bits=8, per_axis=True, symmetric=True, narrow_range=True)
    layer = tf.keras.layers.Layer()
    kernel = tf.constant(np.random.default_rng(3).normal(size=[3, 4, 6]).astype(np.float32))
    weights = quantizer.build(kernel.shape, "k", layer)
    quantized = quantizer(kernel, True, weights)
    assert quantized.shape == (1, 3, 4, 6)
    np.testing.assert_allclose(quantized.numpy()[0], kernel.numpy(), atol=0.05)


@pytest.mark.parametrize("build", ["bilstm", "transformer"])
def test_deploy_baseline_equals_the_baseline_on_one_utterance(build):
    vocabulary = ["call", "mom", "play", "jazz"]
    if build == "bilstm":
        model = models.build_bilstm_model(models.BiLSTMConfig(max_vocab_size=10), vocabulary, 3, 4)
    else:
        model = models.build_transformer_model(
            models.TransformerConfig(max_vocab_size=10), vocabulary, 3, 4
        )
    rng = np.random.default_rng(5)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.3 for w in model.weights])
    deploy = deploy_model.build_deploy_baseline(model)
    tokens = ["play", "jazz", "unknownword", "mom"]
    expected = model(
        {"tokens": tf.constant([tokens]), "sequence_length": tf.constant([len(tokens)])}
    )
    ids = [
        model.get_layer("token_ids").get_vocabulary().index(t) if t in vocabulary else 0
        for t in tokens
    ]
    actual = deploy(
        {"token_ids": tf.constant([ids], tf.int32), "sequence_length": tf.constant([len(ids)])}
    )
    for name in ("intent", "slots"):
        np.testing.assert_allclose(actual[name].numpy(), expected[name].numpy(), atol=1e-5)
    assert not any(type(layer).__name__ == "StringLookup" for layer in deploy.layers)
