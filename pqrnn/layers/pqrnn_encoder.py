"""The pQRNN encoder: bottleneck plus stacked bidirectional QRNN layers."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers._masking import valid_positions
from pqrnn.layers.qrnn import QRNN


@keras.utils.register_keras_serializable(package="pqrnn")
class PQRNNEncoder(keras.layers.Layer):
    """Projection features to contextual token encodings, pQRNN style.

    Kaliamoorthi et al., 2021, "Distilling Large Language Models into Tiny
    and Effective Students using pQRNN": the ternary projection of each token
    goes through a dense bottleneck (the model's only per-token
    "embedding"), then a stack of bidirectional QRNN layers (Bradbury et al.,
    2017) gives each token a context-aware encoding. Dropout is applied to
    the input of every QRNN layer; zoneout inside each (see `QRNN`).

    The defaults are sized for an int8 model of at most ~600 KB; see
    `pqrnn.models.PQRNNConfig` for where the numbers come from.

    Args:
      bottleneck: int, width of the dense bottleneck after the projection.
      qrnn_state: int, QRNN state size per direction; the output has
        2 * qrnn_state channels (directions concatenated) or qrnn_state
        ("sum").
      num_layers: int, number of stacked bidirectional QRNN layers (>= 1).
      kernel_width: int, QRNN convolution width over time.
      zoneout: float in [0, 1), QRNN zoneout probability (training only).
      dropout: float in [0, 1), dropout on the input of each QRNN layer.
      bottleneck_activation: str or callable, activation of the bottleneck.
      merge_mode: str, "concat" or "sum" of the two QRNN directions.
      **kwargs: standard Layer arguments (name, dtype, ...).

    Call arguments:
      inputs: float [B, T, F] projection features.
      sequence_length: optional int [B] real tokens per example; wins over
        `mask`.
      mask: optional bool [B, T] Keras mask.
      training: bool, enables dropout and zoneout.

    Returns:
      float [B, T, H] token encodings, zero at padded positions, with
      H = `output_size`. The Keras mask passes through.

    Example:
    >>> encoder = PQRNNEncoder(bottleneck=8, qrnn_state=4, num_layers=2)
    >>> projection = tf.random.normal([2, 6, 16])
    >>> encoder(projection, sequence_length=tf.constant([6, 3])).shape
    TensorShape([2, 6, 8])
    """

    def __init__(
        self,
        bottleneck: int = 96,
        qrnn_state: int = 64,
        num_layers: int = 3,
        kernel_width: int = 3,
        zoneout: float = 0.1,
        dropout: float = 0.1,
        bottleneck_activation="relu",
        merge_mode: str = "concat",
        **kwargs,
    ):
        super().__init__(**kwargs)
        problems = []
        if bottleneck < 1:
            problems.append(f"bottleneck={bottleneck} must be >= 1")
        if num_layers < 1:
            problems.append(f"num_layers={num_layers} must be >= 1")
        if not 0.0 <= dropout < 1.0:
            problems.append(f"dropout={dropout} must be in [0, 1)")
        if problems:
            raise ValueError("PQRNNEncoder: " + "; ".join(problems))
        self.bottleneck = bottleneck
        self.qrnn_state = qrnn_state
        self.num_layers = num_layers
        self.kernel_width = kernel_width
        self.zoneout = zoneout
        self.dropout = dropout
        self.bottleneck_activation = keras.activations.get(bottleneck_activation)
        self.merge_mode = merge_mode
        self.supports_masking = True

        self.bottleneck_dense = keras.layers.Dense(
            bottleneck, activation=self.bottleneck_activation, name="bottleneck"
        )
        self.qrnn_layers = [
            QRNN(
                qrnn_state,
                kernel_width=kernel_width,
                direction="bidirectional",
                merge_mode=merge_mode,
                zoneout=zoneout,
                name=f"qrnn_{i}",
            )
            for i in range(num_layers)
        ]
        self.dropout_layers = [
            keras.layers.Dropout(dropout, name=f"dropout_{i}") for i in range(num_layers)
        ]

    @property
    def output_size(self) -> int:
        """Channels of the token encodings."""
        return self.qrnn_layers[-1].output_size

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        self.bottleneck_dense.build(input_shape)
        shape = input_shape[:-1].concatenate([self.bottleneck])
        for qrnn in self.qrnn_layers:
            qrnn.build(shape)
            shape = qrnn.compute_output_shape(shape)
        super().build(input_shape)

    def call(self, inputs, sequence_length=None, mask=None, training=None):
        valid = valid_positions(inputs, sequence_length, mask)
        # Padded rows may hold anything; each QRNN zeroes its padded inputs.
        x = self.bottleneck_dense(inputs)
        for dropout, qrnn in zip(self.dropout_layers, self.qrnn_layers, strict=True):
            x = dropout(x, training=training)
            x = qrnn(x, mask=valid, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([self.output_size])

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            bottleneck=self.bottleneck,
            qrnn_state=self.qrnn_state,
            num_layers=self.num_layers,
            kernel_width=self.kernel_width,
            zoneout=self.zoneout,
            dropout=self.dropout,
            bottleneck_activation=keras.activations.serialize(self.bottleneck_activation),
            merge_mode=self.merge_mode,
        )
        return config
