"""Helpers for TF-vs-TFLite tests of the projection op: convert, run, compare.

Imports TensorFlow (tests that must not, use tests/tflite_models.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

import pqrnn  # noqa: F401  (pins tf_keras before TensorFlow is imported)
from pqrnn import ops, tflite
from pqrnn.layers import SequenceStringProjection


def projection_keras_model(**attrs) -> keras.Model:
    """text [B] string -> (projection [B, T, F], sequence_length [B])."""
    text = keras.Input(shape=(), dtype=tf.string, name="text")
    projection, lengths = SequenceStringProjection(name="projection", **attrs)(text)
    return keras.Model(text, [projection, lengths])


def convert(model_or_function, **converter_flags) -> bytes:
    """Converts a tf_keras model, or a tf.function with an input signature,
    keeping pqrnn's ops as custom ops."""
    if isinstance(model_or_function, keras.Model):
        converter = tf.lite.TFLiteConverter.from_keras_model(model_or_function)
    else:
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [model_or_function.get_concrete_function()]
        )
    converter.allow_custom_ops = True
    for key, value in converter_flags.items():
        setattr(converter, key, value)
    return converter.convert()


def convert_projection(**attrs) -> bytes:
    """A converted model that is the projection layer alone."""
    return convert(projection_keras_model(**attrs))


def run_tf(texts: Sequence[bytes], **attrs) -> tuple[np.ndarray, np.ndarray]:
    """The TensorFlow op on `texts` (a batch, shape [B])."""
    batch = tf.constant(list(texts), dtype=tf.string, shape=[len(texts)])
    projection, lengths = ops.sequence_string_projection(batch, **attrs)
    return projection.numpy(), lengths.numpy()


def run_tflite(interpreter, texts: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """A projection-only model on `texts`, resized to B = len(texts).

    Zero-size outputs come back as zeros of the reported shape: LiteRT's
    Python get_tensor() refuses tensors of 0 bytes.
    """
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [len(texts)])
    interpreter.allocate_tensors()
    # dtype=object keeps trailing NUL bytes, which numpy's bytes_ would strip.
    batch = np.empty(len(texts), dtype=object)
    batch[:] = list(texts)
    interpreter.set_tensor(index, batch)
    interpreter.invoke()
    outputs = {}
    for detail in interpreter.get_output_details():
        shape = tuple(detail["shape"].tolist())
        dtype = np.dtype(detail["dtype"])
        if int(np.prod(shape)) == 0:
            outputs[dtype] = np.zeros(shape, dtype)
        else:
            outputs[dtype] = interpreter.get_tensor(detail["index"])
    return outputs[np.dtype(np.float32)], outputs[np.dtype(np.int32)]


def new_interpreter(model: bytes):
    """pqrnn's interpreter, single-threaded."""
    return tflite.Interpreter(model_content=model, num_threads=1)


def assert_bit_identical(tf_out, tflite_out, where: str) -> None:
    """Same shapes and the same bits (float32 compared as uint32)."""
    (p_tf, l_tf), (p_lite, l_lite) = tf_out, tflite_out
    assert p_tf.shape == p_lite.shape, (
        f"{where}: projection shape TF {p_tf.shape} TFLite {p_lite.shape}"
    )
    assert np.array_equal(l_tf, l_lite), f"{where}: sequence_length TF {l_tf} TFLite {l_lite}"
    bits_tf, bits_lite = p_tf.view(np.uint32), p_lite.view(np.uint32)
    if not np.array_equal(bits_tf, bits_lite):
        first = tuple(int(i[0]) for i in np.nonzero(bits_tf != bits_lite))
        raise AssertionError(
            f"{where}: projections differ first at [b, t, f] = {first}: "
            f"TF {p_tf[first]!r} TFLite {p_lite[first]!r}"
        )
