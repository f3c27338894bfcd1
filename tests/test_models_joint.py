"""Tests of the pQRNN joint model: build, train, save, TFLite export."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from pqrnn import testing
from pqrnn.models import MaskedSlotAccuracy, PQRNNConfig, build_joint_model, count_params
from pqrnn.models.losses import masked_sparse_ce

TINY = PQRNNConfig(feature_size=16, bottleneck=8, qrnn_state=4, num_layers=2)
NUM_INTENTS, NUM_TAGS = 5, 7
RNG = np.random.default_rng(4)
PROJECTION = RNG.choice([-1.0, 0.0, 0.0, 1.0], size=(3, 6, 16)).astype(np.float32)
LENGTHS = np.array([6, 3, 1], np.int32)

# Every op the float export may hold: all builtins, no Flex (select TF) ops.
EXPECTED_TFLITE_OPS = {
    "ADD", "CAST", "CONCATENATION", "CONV_2D", "EXPAND_DIMS", "FULLY_CONNECTED", "GATHER",
    "LESS", "LOGISTIC", "MUL", "PACK", "PAD", "PADV2", "RANGE", "REDUCE_MAX", "REDUCE_MIN",
    "REDUCE_PROD", "RESHAPE", "REVERSE_V2", "SELECT_V2", "SHAPE", "SOFTMAX", "SPLIT",
    "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "WHILE",
}  # fmt: skip


@pytest.fixture(scope="module")
def model():
    return build_joint_model(TINY, NUM_INTENTS, NUM_TAGS)


def features(projection=PROJECTION, lengths=LENGTHS):
    return {"projection": projection, "sequence_length": lengths}


def test_outputs(model):
    outputs = model(features())
    assert set(outputs) == {"intent", "slots"}
    assert outputs["intent"].shape == (3, NUM_INTENTS)
    assert outputs["slots"].shape == (3, 6, NUM_TAGS)
    assert [i.name for i in model.inputs] == ["projection", "sequence_length"]


def test_default_config_fits_the_int8_budget():
    default = build_joint_model(PQRNNConfig(), num_intents=113, num_slot_tags=149)
    assert count_params(default) == default.count_params() == 489_446
    assert count_params(default) < 550_000


@pytest.mark.parametrize("output", ["intent", "slots"])
def test_padding_invariance(model, output):
    testing.assert_padding_invariant(
        lambda x, lengths: model(features(x, lengths))[output],
        PROJECTION,
        LENGTHS,
        per_token=output == "slots",
    )


def test_fit_one_step():
    model = build_joint_model(TINY, NUM_INTENTS, NUM_TAGS)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss={
            "intent": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "slots": masked_sparse_ce,
        },
        metrics={"slots": [MaskedSlotAccuracy()]},
    )
    slot_labels = RNG.integers(0, NUM_TAGS, size=(3, 6))
    slot_labels[np.arange(6)[None, :] >= LENGTHS[:, None]] = -1  # padding
    slot_labels[:, 0] = -1  # BOS
    labels = {"intent": np.array([0, 4, 2]), "slots": slot_labels}
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(features(), labels, batch_size=3, epochs=2, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert 0.0 <= history.history["slots_slot_accuracy"][-1] <= 1.0
    changed = [np.any(b != w.numpy()) for b, w in zip(before, model.trainable_weights, strict=True)]
    assert all(changed), "some weights were not trained"


def test_config_and_file_round_trip(model, tmp_path):
    expected = model(features())
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for key, value in clone(features()).items():
        np.testing.assert_allclose(value, expected[key], atol=1e-6)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    for key, value in loaded(features()).items():
        np.testing.assert_allclose(value, expected[key], atol=1e-6)


def test_config_from_dict():
    assert PQRNNConfig.from_dict(TINY.to_dict()) == TINY
    assert dataclasses.replace(TINY, num_layers=3).num_layers == 3
    with pytest.raises(ValueError, match="depth"):
        PQRNNConfig.from_dict({"depth": 3})


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")
def test_tflite_float_export_matches_keras(model):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    content = converter.convert()
    assert testing.tflite_op_names(content) == EXPECTED_TFLITE_OPS
    runner = tf.lite.Interpreter(model_content=content).get_signature_runner()
    # Time stays dynamic: two batches with padding and different T.
    for steps, lengths in [(6, LENGTHS), (9, np.array([2, 9, 5], np.int32))]:
        projection = RNG.choice([-1.0, 0.0, 1.0], size=(3, steps, 16)).astype(np.float32)
        got = runner(projection=projection, sequence_length=lengths)
        expected = model(features(projection, lengths))
        for key in ("intent", "slots"):
            np.testing.assert_allclose(got[key], expected[key], atol=1e-5)
