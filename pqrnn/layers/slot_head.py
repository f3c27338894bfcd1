"""Token-level tagging head: per-token dense to BIO tag logits."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="pqrnn")
class SlotHead(keras.layers.Layer):
    """Slot (BIO tag) logits for every token: dropout then a shared dense layer.

    The token-level output of the joint intent + slot models compared in
    Kaliamoorthi et al., 2021, "Distilling Large Language Models into Tiny
    and Effective Students using pQRNN" (MTOP, mATIS). Each position is
    classified independently of the others, so padded positions cannot
    affect real ones; their logits are meaningless and are ignored by
    `pqrnn.models.losses.masked_sparse_ce` through label -1.

    Args:
      num_tags: int, number of slot tags (BIO labels).
      dropout: float in [0, 1), dropout on the token encodings.
      **kwargs: standard Layer arguments (name, dtype, ...).

    Call arguments:
      inputs: float [B, T, H] token encodings.
      training: bool, enables dropout.

    Returns:
      float [B, T, num_tags] logits, with no Keras mask (the loss masks by
      label instead, so Keras does not reweight it).

    Example:
    >>> head = SlotHead(num_tags=5)
    >>> head(tf.random.normal([2, 4, 8])).shape
    TensorShape([2, 4, 5])
    """

    def __init__(self, num_tags: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if num_tags < 1:
            raise ValueError(f"SlotHead: num_tags={num_tags} must be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SlotHead: dropout={dropout} must be in [0, 1)")
        self.num_tags = num_tags
        self.dropout = dropout
        self.supports_masking = True
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.classifier = keras.layers.Dense(num_tags, name="classifier")

    def build(self, input_shape):
        self.classifier.build(tf.TensorShape(input_shape))
        super().build(input_shape)

    def call(self, inputs, training=None):
        return self.classifier(self.dropout_layer(inputs, training=training))

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.num_tags])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_tags=self.num_tags, dropout=self.dropout)
        return config
