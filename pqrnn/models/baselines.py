"""Baselines with pQRNN's heads: a BiLSTM and a small transformer on word embeddings."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers import BiLSTMEncoder, TransformerEncoder
from pqrnn.models._heads import attach_heads
from pqrnn.models.config import BiLSTMConfig, TransformerConfig


def _token_inputs_and_embeddings(vocabulary: Sequence[str], max_vocab_size: int, width: int):
    vocabulary = list(vocabulary)[:max_vocab_size]
    if not vocabulary:
        raise ValueError("the vocabulary is empty; build it with pqrnn.models.build_vocabulary")
    tokens = keras.Input(shape=(None,), dtype=tf.string, name="tokens")
    sequence_length = keras.Input(shape=(), dtype=tf.int32, name="sequence_length")
    # Index 0 is the one OOV bucket; padding tokens land anywhere, they are masked.
    ids = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, name="token_ids")(
        tokens
    )
    embedded = keras.layers.Embedding(len(vocabulary) + 1, width, name="embedding")(ids)
    return {"tokens": tokens, "sequence_length": sequence_length}, embedded


def build_bilstm_model(
    config: BiLSTMConfig,
    vocabulary: Sequence[str],
    num_intents: int,
    num_slot_tags: int,
    name: str = "bilstm",
) -> keras.Model:
    """Builds the BiLSTM baseline: word lookup, embedding, BiLSTMEncoder, heads.

    The LSTM baseline of Kaliamoorthi et al., 2021, "Distilling Large
    Language Models into Tiny and Effective Students using pQRNN", with
    embeddings learned from scratch and the same heads as pQRNN.

    Args:
      config: BiLSTMConfig.
      vocabulary: words, most frequent first (`build_vocabulary`); the first
        `config.max_vocab_size` are kept, other words map to one OOV bucket.
      num_intents: int, intent classes.
      num_slot_tags: int, slot (BIO) tags.
      name: str, model name.

    Returns:
      A tf_keras functional model. Inputs: {"tokens": string [B, T],
      "sequence_length": int32 [B]}. Outputs (logits): {"intent": [B, I],
      "slots": [B, T, S]}.

    Example:
    >>> model = build_bilstm_model(BiLSTMConfig(), ["play", "music"], 3, 5)
    >>> outputs = model({"tokens": tf.constant([["play", "music"], ["stop", ""]]),
    ...                  "sequence_length": tf.constant([2, 1])})
    >>> outputs["intent"].shape, outputs["slots"].shape
    (TensorShape([2, 3]), TensorShape([2, 2, 5]))
    """
    inputs, embedded = _token_inputs_and_embeddings(
        vocabulary, config.max_vocab_size, config.embedding_dim
    )
    encodings = BiLSTMEncoder(
        units=config.lstm_units,
        num_layers=config.num_layers,
        dropout=config.dropout,
        name="encoder",
    )(embedded, sequence_length=inputs["sequence_length"])
    outputs = attach_heads(
        encodings, inputs["sequence_length"], num_intents, num_slot_tags, config.dropout
    )
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def build_transformer_model(
    config: TransformerConfig,
    vocabulary: Sequence[str],
    num_intents: int,
    num_slot_tags: int,
    name: str = "transformer",
) -> keras.Model:
    """Builds the transformer baseline: word lookup, embedding, TransformerEncoder, heads.

    The same-size transformer baseline of Kaliamoorthi et al., 2021,
    "Distilling Large Language Models into Tiny and Effective Students using
    pQRNN" (encoder of Vaswani et al., 2017), with the same heads as pQRNN.

    Args:
      config: TransformerConfig.
      vocabulary: words, most frequent first (`build_vocabulary`); the first
        `config.max_vocab_size` are kept, other words map to one OOV bucket.
      num_intents: int, intent classes.
      num_slot_tags: int, slot (BIO) tags.
      name: str, model name.

    Returns:
      A tf_keras functional model. Inputs: {"tokens": string [B, T] with
      T <= config.max_length, "sequence_length": int32 [B]}. Outputs
      (logits): {"intent": [B, I], "slots": [B, T, S]}.

    Example:
    >>> model = build_transformer_model(TransformerConfig(), ["play", "music"], 3, 5)
    >>> outputs = model({"tokens": tf.constant([["play", "music"], ["stop", ""]]),
    ...                  "sequence_length": tf.constant([2, 1])})
    >>> outputs["intent"].shape, outputs["slots"].shape
    (TensorShape([2, 3]), TensorShape([2, 2, 5]))
    """
    inputs, embedded = _token_inputs_and_embeddings(
        vocabulary, config.max_vocab_size, config.hidden_size
    )
    encodings = TransformerEncoder(
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        intermediate_size=config.intermediate_size,
        max_length=config.max_length,
        dropout=config.dropout,
        name="encoder",
    )(embedded, sequence_length=inputs["sequence_length"])
    outputs = attach_heads(
        encodings, inputs["sequence_length"], num_intents, num_slot_tags, config.dropout
    )
    return keras.Model(inputs=inputs, outputs=outputs, name=name)
