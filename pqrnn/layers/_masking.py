"""Padding masks shared by the sequence layers (private helpers)."""

from __future__ import annotations

import tensorflow as tf


def valid_positions(inputs, sequence_length=None, mask=None):
    """Returns the bool [B, T] mask of real (non-padding) positions, or None.

    `sequence_length` ([B] ints) wins over a Keras `mask` when both are given:
    pqrnn models pass lengths explicitly so that the graph they export needs
    no Keras mask machinery.
    """
    if sequence_length is not None:
        return tf.sequence_mask(int32_lengths(sequence_length), maxlen=tf.shape(inputs)[1])
    if mask is not None:
        return tf.cast(mask, tf.bool)
    return None


def int32_lengths(sequence_length):
    """[B] int32 lengths from any [B] or [B, 1] integer lengths (no op, and so
    no op in an exported graph, when they are [B] int32 already)."""
    if (
        tf.is_tensor(sequence_length)
        and sequence_length.dtype == tf.int32
        and sequence_length.shape.rank == 1
    ):
        return sequence_length
    return tf.reshape(tf.cast(sequence_length, tf.int32), [-1])


def zero_padding(inputs, valid):
    """Zeroes `inputs` [B, T, D] where `valid` [B, T] is False (no-op for None)."""
    if valid is None:
        return inputs
    # tf.expand_dims, not [:, :, None]: TFLite has no StridedSlice with new axes.
    return inputs * tf.expand_dims(tf.cast(valid, inputs.dtype), -1)


def resolve_training(training) -> bool:
    """Keras passes `training` as None, a Python bool or (in TF1 graphs) a tensor."""
    if training is None:
        return False
    if isinstance(training, (tf.Tensor, tf.Variable)):
        value = tf.get_static_value(training)
        if value is None:
            raise ValueError(
                "pqrnn layers need `training` as a Python bool (or a constant tensor); "
                f"got the symbolic tensor {training!r}."
            )
        return bool(value)
    return bool(training)
