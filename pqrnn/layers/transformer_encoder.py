"""Small pre-LayerNorm transformer encoder with padding mask (baseline)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers._masking import valid_positions, zero_padding


@keras.utils.register_keras_serializable(package="pqrnn")
class TransformerEncoder(keras.layers.Layer):
    """Token embeddings to contextual encodings with self-attention blocks.

    The transformer baseline of Kaliamoorthi et al., 2021, "Distilling Large
    Language Models into Tiny and Effective Students using pQRNN" (encoder of
    Vaswani et al., 2017): learned position embeddings are added, then
    `num_layers` blocks of multi-head self-attention and a feed-forward
    network, each with a residual connection and pre-LayerNorm (stabler than
    post-LN for small models trained from scratch), and a final LayerNorm.
    Padded keys are masked out of every attention, so real positions do not
    depend on padding.

    Args:
      num_layers: int, number of blocks (>= 1).
      num_heads: int, attention heads; must divide the input width.
      intermediate_size: int, hidden width of the feed-forward network.
      max_length: int, longest sequence (size of the position table).
      dropout: float in [0, 1), dropout on embeddings, attention and FFN output.
      activation: str or callable, activation of the feed-forward network.
      **kwargs: standard Layer arguments (name, dtype, ...).

    Call arguments:
      inputs: float [B, T, H] token embeddings, T <= max_length.
      sequence_length: optional int [B]; wins over `mask`.
      mask: optional bool [B, T] Keras mask.
      training: bool, enables dropout.

    Returns:
      float [B, T, H], zero at padded positions.

    Example:
    >>> encoder = TransformerEncoder(num_layers=1, num_heads=2, intermediate_size=16)
    >>> encoder(tf.random.normal([2, 5, 8]), sequence_length=tf.constant([5, 2])).shape
    TensorShape([2, 5, 8])
    """

    def __init__(
        self,
        num_layers: int = 2,
        num_heads: int = 4,
        intermediate_size: int = 256,
        max_length: int = 64,
        dropout: float = 0.1,
        activation="gelu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 1 or num_heads < 1 or intermediate_size < 1 or max_length < 1:
            raise ValueError(
                "TransformerEncoder: num_layers, num_heads, intermediate_size and max_length "
                f"must be >= 1; got {num_layers}, {num_heads}, {intermediate_size}, {max_length}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"TransformerEncoder: dropout={dropout} must be in [0, 1)")
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.max_length = max_length
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        hidden = input_shape[-1]
        if hidden is None or hidden % self.num_heads:
            raise ValueError(
                f"TransformerEncoder: input width {hidden} must be known and divisible by "
                f"num_heads={self.num_heads}"
            )
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.max_length, hidden),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.embedding_dropout = keras.layers.Dropout(self.dropout, name="embedding_dropout")
        layers = range(self.num_layers)
        norm = keras.layers.LayerNormalization
        self.attention_norms = [norm(epsilon=1e-6, name=f"ln_att_{i}") for i in layers]
        self.attentions = [
            keras.layers.MultiHeadAttention(
                self.num_heads,
                key_dim=hidden // self.num_heads,
                dropout=self.dropout,
                name=f"attention_{i}",
            )
            for i in layers
        ]
        self.ffn_norms = [norm(epsilon=1e-6, name=f"ln_ffn_{i}") for i in layers]
        self.ffn_inner = [
            keras.layers.Dense(
                self.intermediate_size, activation=self.activation, name=f"ffn_in_{i}"
            )
            for i in layers
        ]
        self.ffn_outer = [keras.layers.Dense(hidden, name=f"ffn_out_{i}") for i in layers]
        self.ffn_dropouts = [
            keras.layers.Dropout(self.dropout, name=f"ffn_dropout_{i}") for i in layers
        ]
        self.final_norm = norm(epsilon=1e-6, name="ln_final")
        # The sublayers build on the first call.
        super().build(input_shape)

    def call(self, inputs, sequence_length=None, mask=None, training=None):
        valid = valid_positions(inputs, sequence_length, mask)
        steps = tf.shape(inputs)[1]
        x = zero_padding(inputs, valid) + tf.expand_dims(self.position_embeddings[:steps], 0)
        x = self.embedding_dropout(x, training=training)
        # [B, 1, T]: every query may attend to the real keys only.
        attention_mask = None if valid is None else tf.expand_dims(valid, 1)
        for i in range(self.num_layers):
            h = self.attention_norms[i](x)
            x = x + self.attentions[i](h, h, attention_mask=attention_mask, training=training)
            h = self.ffn_outer[i](self.ffn_inner[i](self.ffn_norms[i](x)))
            x = x + self.ffn_dropouts[i](h, training=training)
        return zero_padding(self.final_norm(x), valid)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            max_length=self.max_length,
            dropout=self.dropout,
            activation=keras.activations.serialize(self.activation),
        )
        return config
