"""Metrics of the joint intent + slot models."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="pqrnn")
class MaskedSlotAccuracy(keras.metrics.Metric):
    """Token accuracy of slot tags over labelled positions (label >= 0).

    Positions labelled -1 (padding, BOS, EOS) are skipped, matching
    `pqrnn.models.losses.masked_sparse_ce`. This is a token-level training
    signal; the metric of Kaliamoorthi et al., 2021, "Distilling Large
    Language Models into Tiny and Effective Students using pQRNN" is exact
    match (intent and every slot right), which `pqrnn.metrics` computes.

    Args:
      name: str, metric name.
      dtype: dtype of the result.

    Call arguments (update_state):
      y_true: int [B, T] (or [B, T, 1]) tag ids, negative = ignored.
      y_pred: float [B, T, S] logits or probabilities.
      sample_weight: optional [B] or [B, T] weights.

    Example:
    >>> metric = MaskedSlotAccuracy()
    >>> logits = tf.one_hot([[0, 1, 1]], 2)
    >>> metric.update_state(tf.constant([[0, 0, -1]]), logits)
    >>> float(metric.result())
    0.5
    """

    def __init__(self, name: str = "slot_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.correct = self.add_weight(name="correct", initializer="zeros")
        self.labelled = self.add_weight(name="labelled", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.convert_to_tensor(y_true)
        y_pred = tf.convert_to_tensor(y_pred)
        if y_true.shape.rank is not None and y_true.shape.rank == y_pred.shape.rank:
            y_true = tf.squeeze(y_true, -1)
        y_true = tf.cast(y_true, tf.int32)
        weights = tf.cast(y_true >= 0, self.dtype)
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, self.dtype)
            if sample_weight.shape.rank == 1:
                sample_weight = sample_weight[:, None]
            weights = weights * sample_weight
        hits = tf.cast(tf.equal(tf.argmax(y_pred, -1, output_type=tf.int32), y_true), self.dtype)
        self.correct.assign_add(tf.reduce_sum(hits * weights))
        self.labelled.assign_add(tf.reduce_sum(weights))

    def result(self):
        return tf.math.divide_no_nan(self.correct, self.labelled)

    def reset_state(self):
        self.correct.assign(0.0)
        self.labelled.assign(0.0)
