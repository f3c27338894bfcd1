"""Losses of the joint intent + slot models."""

from __future__ import annotations

import tensorflow as tf

IGNORE_LABEL = -1
"""Slot label of positions the loss skips: padding, BOS and EOS."""


def masked_sparse_ce(y_true, y_pred, from_logits: bool = True):
    """Sparse categorical cross-entropy averaged over labelled tokens only.

    Positions whose label is negative (`IGNORE_LABEL`, -1: padding, BOS, EOS)
    contribute nothing, and the mean is over the labelled tokens of the whole
    batch, so long and short utterances weigh each token equally. Use it as
    the "slots" loss: `model.compile(loss={"slots": masked_sparse_ce, ...})`.

    Args:
      y_true: int [B, T] (or [B, T, 1]) tag ids, negative = ignored.
      y_pred: float [B, T, S] logits (or probabilities if not from_logits).
      from_logits: bool, whether y_pred holds logits.

    Returns:
      A float scalar; 0 when no position is labelled.

    Example:
    >>> labels = tf.constant([[1, -1], [0, 2]])
    >>> logits = tf.zeros([2, 2, 3])
    >>> round(float(masked_sparse_ce(labels, logits)), 4)  # ln 3
    1.0986
    """
    y_true = tf.convert_to_tensor(y_true)
    y_pred = tf.convert_to_tensor(y_pred)
    if y_true.shape.rank is not None and y_true.shape.rank == y_pred.shape.rank:
        y_true = tf.squeeze(y_true, -1)
    y_true = tf.cast(y_true, tf.int32)
    labelled = y_true >= 0
    safe_labels = tf.where(labelled, y_true, tf.zeros_like(y_true))
    if from_logits:
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(safe_labels, y_pred)
    else:
        losses = -tf.math.log(tf.gather(y_pred, safe_labels, batch_dims=2) + 1e-7)
    weights = tf.cast(labelled, losses.dtype)
    return tf.math.divide_no_nan(tf.reduce_sum(losses * weights), tf.reduce_sum(weights))
