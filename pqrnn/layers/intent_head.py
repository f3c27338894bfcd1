"""Utterance-level classification head: masked attention pooling + dense."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers._masking import valid_positions, zero_padding

# Padded positions get the real maximum score minus this margin, so their
# softmax weight is exp(-30) ~ 1e-13 of the best token's: negligible in
# float32, and the score range stays data-bound (an int8 export keeps its
# resolution, which a -1e9 mask would destroy).
_PADDING_SCORE_MARGIN = 30.0


@keras.utils.register_keras_serializable(package="pqrnn")
class IntentHead(keras.layers.Layer):
    """Intent logits from token encodings via attention pooling over real tokens.

    A learned linear score per token, a softmax over the real (non-padded)
    tokens of each example, the weighted sum of the encodings, dropout, and a
    dense layer to `num_intents` logits. This is the pooling of pQRNN
    (Kaliamoorthi et al., 2021, "Distilling Large Language Models into Tiny
    and Effective Students using pQRNN"; seq_flow_lite's AttentionPooling),
    with padding masked so that the logits do not depend on padding.

    Args:
      num_intents: int, number of intent classes.
      dropout: float in [0, 1), dropout on the pooled vector.
      **kwargs: standard Layer arguments (name, dtype, ...).

    Call arguments:
      inputs: float [B, T, H] token encodings.
      sequence_length: optional int [B]; wins over `mask`.
      mask: optional bool [B, T] Keras mask. With neither, every position is
        real.
      training: bool, enables dropout.

    Returns:
      float [B, num_intents] logits (no Keras mask). An example with no real
      token pools to zeros.

    Example:
    >>> head = IntentHead(num_intents=3)
    >>> encodings = tf.random.normal([2, 5, 8])
    >>> head(encodings, sequence_length=tf.constant([5, 2])).shape
    TensorShape([2, 3])
    """

    def __init__(self, num_intents: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if num_intents < 1:
            raise ValueError(f"IntentHead: num_intents={num_intents} must be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"IntentHead: dropout={dropout} must be in [0, 1)")
        self.num_intents = num_intents
        self.dropout = dropout
        self.supports_masking = True
        # A bias would add the same constant to every score: useless.
        self.attention_score = keras.layers.Dense(1, use_bias=False, name="attention_score")
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.classifier = keras.layers.Dense(num_intents, name="classifier")

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        self.attention_score.build(input_shape)
        self.classifier.build(tf.TensorShape([input_shape[0], input_shape[-1]]))
        super().build(input_shape)

    def call(self, inputs, sequence_length=None, mask=None, training=None):
        valid = valid_positions(inputs, sequence_length, mask)
        return self._pool(zero_padding(inputs, valid), valid, training)

    def _pool(self, encodings, valid, training):
        """Logits from [B, T, H] encodings that are zero where `valid` (bool
        [B, T] or None: every position) is false."""
        scores = tf.squeeze(self.attention_score(encodings), -1)  # [B, T]
        if valid is not None:
            lowest = tf.reduce_min(scores, axis=1, keepdims=True)
            best_real = tf.reduce_max(tf.where(valid, scores, lowest), axis=1, keepdims=True)
            scores = tf.where(valid, scores, best_real - _PADDING_SCORE_MARGIN)
        weights = tf.nn.softmax(scores, axis=-1)
        pooled = tf.reduce_sum(encodings * tf.expand_dims(weights, -1), axis=1)  # [B, H]
        pooled = self.dropout_layer(pooled, training=training)
        return self.classifier(pooled)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape([tf.TensorShape(input_shape)[0], self.num_intents])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_intents=self.num_intents, dropout=self.dropout)
        return config
