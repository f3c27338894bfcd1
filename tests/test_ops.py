"""Tests of the TensorFlow projection op and its tf_keras layer."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import pqrnn  # noqa: F401
from pqrnn import ops, reference_projection
from pqrnn.layers import SequenceStringProjection
from tests.hostile_strings import HOSTILE_STRINGS

HELLO_FEATURES = [0, 1, 1, 0, 1, 0, 0, 0, 0, -1, 0, 1, 1, 1, 0, 1]


def test_check_values_from_contract():
    projection, lengths = ops.sequence_string_projection(["hello"], feature_size=16)
    assert lengths.numpy().tolist() == [1]
    assert projection.numpy()[0, 0].tolist() == HELLO_FEATURES


def test_op_is_registered_under_namespace():
    assert ops.tf_op_names() == [
        "PQRNN>QRNNPooling",
        "PQRNN>QRNNPoolingGrad",
        "PQRNN>SequenceStringProjection",
    ]


def test_shapes_padding_and_lengths():
    texts = ["a b c", "", "  x\t\ny  ", "d"]
    projection, lengths = ops.sequence_string_projection(
        texts, feature_size=32, add_bos_tag=True, add_eos_tag=True
    )
    assert projection.shape == (4, 5, 32)
    assert lengths.numpy().tolist() == [5, 2, 4, 3]
    for b, n in enumerate(lengths.numpy()):
        assert not projection.numpy()[b, n:].any(), "padding rows must be zero"


@pytest.mark.parametrize(
    "options",
    [
        dict(feature_size=64),
        dict(feature_size=128, lowercase=True, add_bos_tag=True, add_eos_tag=True),
        dict(feature_size=100, max_seq_len=3, word_novelty_bits=2, doc_size_levels=4),
        dict(feature_size=2),
        dict(feature_size=64, char_ngram_size=3),
        dict(feature_size=2048, char_ngram_size=3, lowercase=True, add_bos_tag=True),
        dict(feature_size=30, char_ngram_size=1, add_eos_tag=True, word_novelty_bits=1),
        dict(feature_size=8, char_ngram_size=8, max_seq_len=2, doc_size_levels=2),
        dict(feature_size=64, char_ngram_size=2, char_ngram_sqrt=True),
        dict(feature_size=2048, char_ngram_size=3, char_ngram_sqrt=True, add_bos_tag=True),
        dict(feature_size=30, char_ngram_size=1, char_ngram_sqrt=True, word_novelty_bits=1),
    ],
)
def test_matches_independent_numpy_reference(options):
    texts = [
        "Hello World hello HELLO",
        "wake me up at 7 am tomorrow",
        "Straße ÄPFEL İstanbul ΣΊΣΥΦΟΣ",
        "मौसम कैसा है",
        "ตั้ง นาฬิกาปลุก",
        "明天 的 天气",
        "👩‍👩‍👧 family 🇫🇷",
        "",
        "a a a a a a a a a",
    ]
    got, got_lengths = ops.sequence_string_projection(texts, **options)
    want, want_lengths = reference_projection.sequence_string_projection(texts, **options)
    np.testing.assert_array_equal(got_lengths.numpy(), want_lengths)
    # Bit for bit, n-gram means included (one IEEE division and addition).
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("char_ngram_size", [0, 3])
@pytest.mark.parametrize("name,text", HOSTILE_STRINGS, ids=[n for n, _ in HOSTILE_STRINGS])
def test_hostile_strings_are_defined(name, text, char_ngram_size):
    options = dict(
        feature_size=64, max_seq_len=64, add_bos_tag=True, char_ngram_size=char_ngram_size
    )
    projection, lengths = ops.sequence_string_projection(tf.constant([text]), **options)
    projection = projection.numpy()
    assert np.isfinite(projection).all()
    assert 1 <= lengths.numpy()[0] <= 65
    want, want_lengths = reference_projection.sequence_string_projection([text], **options)
    np.testing.assert_array_equal(lengths.numpy(), want_lengths)
    # The decoder replaces invalid UTF-8 per maximal subpart, like Python's.
    np.testing.assert_array_equal(projection, want)


def test_empty_batch_gives_defined_shapes():
    projection, lengths = ops.sequence_string_projection(tf.constant([], tf.string), feature_size=8)
    assert projection.shape == (0, 0, 8)
    assert lengths.shape == (0,)


@pytest.mark.parametrize(
    "bad,message",
    [
        (dict(feature_size=7), "feature_size"),
        (dict(feature_size=0), "feature_size"),
        (dict(feature_size=4098), "feature_size"),
        (dict(feature_size=8, max_seq_len=-1), "max_seq_len"),
        (dict(feature_size=8, word_novelty_bits=8), "word_novelty_bits"),
        (dict(feature_size=8, doc_size_levels=17), "doc_size_levels"),
        (dict(feature_size=8, char_ngram_size=9), "char_ngram_size"),
        (dict(feature_size=8, char_ngram_size=-1), "char_ngram_size"),
        (dict(feature_size=8, char_ngram_sqrt=True), "char_ngram_sqrt needs char_ngram_size"),
        (dict(feature_size=8, distortion_probability=1.5), "distortion_probability"),
    ],
)
def test_invalid_attributes_fail_at_graph_build(bad, message):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def project(texts):
        return ops.sequence_string_projection(texts, **bad)

    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match=message):
        project.get_concrete_function()
    with pytest.raises(ValueError, match=message):
        SequenceStringProjection(**bad)


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError, match="tf.string"):
        ops.sequence_string_projection(tf.constant([1, 2]), feature_size=8)


def test_wrong_rank_is_an_error():
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="rank|shape"):
        ops.sequence_string_projection(tf.constant([["a", "b"]]), feature_size=8)


_DISTORT_SCRIPT = """
import hashlib, pqrnn.ops, tensorflow as tf
texts = tf.constant(["the quick brown fox jumps over the lazy dog"] * 8)
for _ in range(2):
    p, _ = pqrnn.ops.sequence_string_projection(
        texts, feature_size=64, distortion_probability=0.5, seed=%d)
    print(hashlib.sha256(p.numpy().tobytes()).hexdigest())
"""


def _distortion_digests(seed):
    out = subprocess.run(
        [sys.executable, "-c", _DISTORT_SCRIPT % seed],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return out.stdout.split()


def test_distortion_only_when_training():
    texts = tf.constant(["the quick brown fox jumps over the lazy dog"] * 8)
    layer = SequenceStringProjection(feature_size=64, distortion_probability=1.0, seed=7)
    clean, _ = ops.sequence_string_projection(texts, feature_size=64)
    inference, _ = layer(texts, training=False)
    np.testing.assert_array_equal(inference.numpy(), clean.numpy())
    distorted, _ = layer(texts, training=True)
    assert not np.array_equal(distorted.numpy(), clean.numpy())


@pytest.mark.slow
def test_distortion_stream_is_reproducible_per_seed():
    # The kernel's stream advances with every call (TF caches eager kernels by
    # attributes, so the stream is per process and attribute set).
    first = _distortion_digests(seed=3)
    assert first[0] != first[1], "successive calls must draw new distortions"
    assert _distortion_digests(seed=3) == first
    assert _distortion_digests(seed=4) != first


def test_layer_config_round_trip_and_model_serialization(tmp_path):
    layer = SequenceStringProjection(
        feature_size=32,
        max_seq_len=5,
        add_bos_tag=True,
        lowercase=True,
        word_novelty_bits=3,
        char_ngram_size=2,
    )
    assert layer.get_config()["char_ngram_size"] == 2
    clone = SequenceStringProjection.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    texts = tf.constant(["Hello hello world", "x"])
    np.testing.assert_array_equal(layer(texts)[0].numpy(), clone(texts)[0].numpy())

    inputs = keras.Input(shape=(), dtype=tf.string)
    projection, lengths = layer(inputs)
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(projection))
    model = keras.Model(inputs, outputs)
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored(texts).numpy(), model(texts).numpy(), atol=1e-6)


def test_layer_rejects_char_ngram_size_out_of_range_when_built():
    with pytest.raises(ValueError, match=r"char_ngram_size=9 must be in \[0, 8\]"):
        SequenceStringProjection(feature_size=8, char_ngram_size=9)
    # A config saved before the attribute existed builds with it off.
    config = SequenceStringProjection(feature_size=8).get_config()
    del config["char_ngram_size"], config["char_ngram_sqrt"]
    restored = SequenceStringProjection.from_config(config)
    assert restored.char_ngram_size == 0 and not restored.char_ngram_sqrt
    with pytest.raises(ValueError, match="char_ngram_sqrt needs char_ngram_size > 0"):
        SequenceStringProjection(feature_size=8, char_ngram_sqrt=True)
