"""Stacked bidirectional LSTM encoder (baseline)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers._masking import valid_positions, zero_padding


@keras.utils.register_keras_serializable(package="pqrnn")
class BiLSTMEncoder(keras.layers.Layer):
    """Token embeddings to contextual encodings with stacked BiLSTM layers.

    The recurrent baseline of Kaliamoorthi et al., 2021, "Distilling Large
    Language Models into Tiny and Effective Students using pQRNN" (an LSTM
    over word embeddings; Hochreiter & Schmidhuber, 1997). Padded steps do
    not update the LSTM state (Keras masking), so the backward LSTM starts at
    each sequence's last real token and outputs at real positions do not
    depend on padding.

    Args:
      units: int, LSTM units per direction (output 2 * units).
      num_layers: int, stacked bidirectional layers (>= 1).
      dropout: float in [0, 1), dropout on the input of each layer.
      **kwargs: standard Layer arguments (name, dtype, ...).

    Call arguments:
      inputs: float [B, T, E] token embeddings.
      sequence_length: optional int [B]; wins over `mask`.
      mask: optional bool [B, T] Keras mask.
      training: bool, enables dropout.

    Returns:
      float [B, T, 2 * units], zero at padded positions.

    Example:
    >>> encoder = BiLSTMEncoder(units=4)
    >>> encoder(tf.random.normal([2, 5, 6]), sequence_length=tf.constant([5, 2])).shape
    TensorShape([2, 5, 8])
    """

    def __init__(self, units: int = 64, num_layers: int = 1, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        if units < 1 or num_layers < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"BiLSTMEncoder: need units >= 1, num_layers >= 1 and dropout in [0, 1); "
                f"got units={units}, num_layers={num_layers}, dropout={dropout}"
            )
        self.units = units
        self.num_layers = num_layers
        self.dropout = dropout
        self.supports_masking = True
        self.lstm_layers = [
            keras.layers.Bidirectional(
                keras.layers.LSTM(units, return_sequences=True), name=f"bilstm_{i}"
            )
            for i in range(num_layers)
        ]
        self.dropout_layers = [
            keras.layers.Dropout(dropout, name=f"dropout_{i}") for i in range(num_layers)
        ]

    def build(self, input_shape):
        shape = tf.TensorShape(input_shape)
        for lstm in self.lstm_layers:
            lstm.build(shape)
            shape = shape[:-1].concatenate([2 * self.units])
        super().build(input_shape)

    def call(self, inputs, sequence_length=None, mask=None, training=None):
        valid = valid_positions(inputs, sequence_length, mask)
        x = zero_padding(inputs, valid)
        for dropout, lstm in zip(self.dropout_layers, self.lstm_layers, strict=True):
            x = lstm(dropout(x, training=training), mask=valid, training=training)
        return zero_padding(x, valid)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([2 * self.units])

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(units=self.units, num_layers=self.num_layers, dropout=self.dropout)
        return config
