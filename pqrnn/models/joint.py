"""The pQRNN joint intent + slot model."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers import PQRNNEncoder
from pqrnn.models._heads import attach_heads
from pqrnn.models.config import PQRNNConfig


def build_joint_model(
    config: PQRNNConfig, num_intents: int, num_slot_tags: int, name: str = "pqrnn"
) -> keras.Model:
    """Builds the pQRNN intent + slot model on projection features.

    Kaliamoorthi et al., 2021, "Distilling Large Language Models into Tiny
    and Effective Students using pQRNN": PQRNNEncoder, then IntentHead
    (attention pooling) and SlotHead (per token). The projection itself is
    not part of the model: it runs in the input pipeline, which keeps this
    model float-in/float-out for quantization-aware training and int8 export.

    Args:
      config: PQRNNConfig.
      num_intents: int, intent classes.
      num_slot_tags: int, slot (BIO) tags.
      name: str, model name.

    Returns:
      A tf_keras functional model. Inputs: {"projection": float32 [B, T, F],
      "sequence_length": int32 [B]}. Outputs (logits): {"intent": [B, I],
      "slots": [B, T, S]}.

    Example:
    >>> config = PQRNNConfig()
    >>> model = build_joint_model(config, num_intents=113, num_slot_tags=149)
    >>> outputs = model({"projection": tf.zeros([2, 7, config.feature_size]),
    ...                  "sequence_length": tf.constant([7, 4])})
    >>> outputs["intent"].shape, outputs["slots"].shape
    (TensorShape([2, 113]), TensorShape([2, 7, 149]))
    """
    projection = keras.Input(shape=(None, config.feature_size), dtype=tf.float32, name="projection")
    sequence_length = keras.Input(shape=(), dtype=tf.int32, name="sequence_length")
    encodings = PQRNNEncoder(
        bottleneck=config.bottleneck,
        qrnn_state=config.qrnn_state,
        num_layers=config.num_layers,
        kernel_width=config.kernel_width,
        zoneout=config.zoneout,
        dropout=config.dropout,
        bottleneck_activation=config.bottleneck_activation,
        merge_mode=config.merge_mode,
        name="encoder",
    )(projection, sequence_length=sequence_length)
    outputs = attach_heads(encodings, sequence_length, num_intents, num_slot_tags, config.dropout)
    inputs = {"projection": projection, "sequence_length": sequence_length}
    return keras.Model(inputs=inputs, outputs=outputs, name=name)
