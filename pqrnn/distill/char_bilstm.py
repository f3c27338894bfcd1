"""A wide word + character BiLSTM: the teacher pqrnn can train on a CPU.

The paper's teacher is mBERT; when no pre-trained checkpoint is at hand (or
no accelerator to fine-tune it), this is the strongest model the project
trains from scratch in reasonable time on 2 CPU cores: word embeddings plus a
character CNN over each word (so rare, inflected and unseen words, and
scripts without spaces such as Thai, still get a representation), then a
2-layer bidirectional LSTM and pqrnn's usual heads. It is a teacher only:
it has no size budget and is never exported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers import BiLSTMEncoder
from pqrnn.models._heads import attach_heads


@dataclasses.dataclass
class CharBiLSTMConfig:
    """The char_bilstm teacher (`build_char_bilstm_model`).

    Fields:
      word_dim: int, word embedding width.
      max_vocab_size: int, most frequent training words kept (others share
        one OOV row and rely on their characters).
      word_dropout: float, probability of replacing a word by OOV while
        training, so the model also learns from characters.
      char_buckets: int, characters are hashed (code point modulo) into
        this many embedding rows.
      char_dim: int, character embedding width.
      char_filters: int, filters of each character convolution.
      char_widths: tuple of int, widths of the character convolutions.
      max_chars: int, characters kept per word.
      lstm_units: int, LSTM units per direction.
      num_layers: int, stacked BiLSTM layers.
      dropout: float, dropout before each LSTM layer and in the heads.
    """

    word_dim: int = 128
    max_vocab_size: int = 50_000
    word_dropout: float = 0.1
    char_buckets: int = 4096
    char_dim: int = 32
    char_filters: int = 64
    char_widths: tuple[int, ...] = (2, 3, 4)
    max_chars: int = 20
    lstm_units: int = 256
    num_layers: int = 2
    dropout: float = 0.25

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CharBiLSTMConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"CharBiLSTMConfig: unknown field(s) {unknown}; known: {sorted(known)}"
            )
        values = dict(values)
        if "char_widths" in values:
            values["char_widths"] = tuple(values["char_widths"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@keras.utils.register_keras_serializable(package="pqrnn")
class CharCNNEmbedding(keras.layers.Layer):
    """One vector per word from its characters: embed, convolve, max-pool.

    Args:
      buckets: int, character embedding rows; a character's row is
        1 + code point mod (buckets - 1), row 0 is padding.
      dim: int, character embedding width.
      filters: int, filters per convolution width.
      widths: sequence of int, convolution widths (outputs are concatenated).
      max_chars: int, characters kept per word.
      **kwargs: standard Layer arguments.

    Call arguments:
      tokens: string [B, T] words ("" for padding).

    Returns:
      float [B, T, filters * len(widths)].

    Example:
    >>> layer = CharCNNEmbedding(buckets=64, dim=4, filters=3, widths=(2, 3))
    >>> layer(tf.constant([["play", "jazz"], ["hi", ""]])).shape
    TensorShape([2, 2, 6])
    """

    def __init__(
        self,
        buckets: int = 4096,
        dim: int = 32,
        filters: int = 64,
        widths: Sequence[int] = (2, 3, 4),
        max_chars: int = 20,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if buckets < 2 or dim < 1 or filters < 1 or not widths or max_chars < 1:
            raise ValueError(
                "CharCNNEmbedding: need buckets >= 2, dim, filters, max_chars >= 1 and at least "
                f"one width; got {buckets}, {dim}, {filters}, {widths}, {max_chars}"
            )
        self.buckets = buckets
        self.dim = dim
        self.filters = filters
        self.widths = tuple(int(w) for w in widths)
        self.max_chars = max_chars
        self.embedding = keras.layers.Embedding(buckets, dim, name="char_embedding")
        self.convolutions = [
            keras.layers.Conv1D(filters, w, padding="same", activation="relu", name=f"conv_{w}")
            for w in self.widths
        ]

    def call(self, tokens):
        codepoints = tf.strings.unicode_decode(tokens, "UTF-8", errors="replace")  # [B, T, (C)]
        codepoints = codepoints[:, :, : self.max_chars]
        ids = tf.math.floormod(codepoints, self.buckets - 1) + 1
        ids = ids.to_tensor(default_value=0, shape=[None, None, self.max_chars])  # [B, T, C]
        batch, steps = tf.shape(ids)[0], tf.shape(ids)[1]
        flat = tf.reshape(ids, [-1, self.max_chars])  # [B*T, C]
        valid = tf.cast(flat > 0, tf.float32)[:, :, None]
        embedded = self.embedding(flat) * valid
        pooled = []
        for convolution in self.convolutions:
            # ReLU outputs are >= 0, so zeroing padded characters before the
            # max keeps them from winning.
            pooled.append(tf.reduce_max(convolution(embedded) * valid, axis=1))
        features = tf.concat(pooled, axis=-1)
        return tf.reshape(features, [batch, steps, self.filters * len(self.widths)])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            buckets=self.buckets,
            dim=self.dim,
            filters=self.filters,
            widths=list(self.widths),
            max_chars=self.max_chars,
        )
        return config


@keras.utils.register_keras_serializable(package="pqrnn")
class WordDropout(keras.layers.Layer):
    """Replaces word ids by the OOV id 0 with probability `rate` in training.

    Example:
    >>> WordDropout(0.5)(tf.constant([[3, 4]]), training=False).numpy().tolist()
    [[3, 4]]
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"WordDropout: rate={rate} must be in [0, 1)")
        self.rate = rate
        self.seed = seed

    def call(self, ids, training=None):
        if not training or self.rate == 0.0:
            return ids
        keep = tf.random.uniform(tf.shape(ids), seed=self.seed) >= self.rate
        return tf.where(keep, ids, tf.zeros_like(ids))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config


def build_char_bilstm_model(
    config: CharBiLSTMConfig,
    vocabulary: Sequence[str],
    num_intents: int,
    num_slot_tags: int,
    name: str = "char_bilstm",
) -> keras.Model:
    """Builds the teacher: word + character-CNN embeddings, BiLSTM, heads.

    Args:
      config: CharBiLSTMConfig.
      vocabulary: words, most frequent first (`pqrnn.models.build_vocabulary`).
      num_intents: int, intent classes.
      num_slot_tags: int, slot (BIO) tags.
      name: str, model name.

    Returns:
      A tf_keras functional model. Inputs: {"tokens": string [B, T],
      "sequence_length": int32 [B]}. Outputs (logits): {"intent": [B, I],
      "slots": [B, T, S]}.

    Example:
    >>> model = build_char_bilstm_model(CharBiLSTMConfig(lstm_units=8), ["play"], 3, 5)
    >>> model({"tokens": tf.constant([["play", "jazz"]]),
    ...        "sequence_length": tf.constant([2])})["slots"].shape
    TensorShape([1, 2, 5])
    """
    vocabulary = list(vocabulary)[: config.max_vocab_size]
    if not vocabulary:
        raise ValueError("the vocabulary is empty; build it with pqrnn.models.build_vocabulary")
    tokens = keras.Input(shape=(None,), dtype=tf.string, name="tokens")
    sequence_length = keras.Input(shape=(), dtype=tf.int32, name="sequence_length")
    ids = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, name="token_ids")(
        tokens
    )
    ids = WordDropout(config.word_dropout, name="word_dropout")(ids)
    words = keras.layers.Embedding(len(vocabulary) + 1, config.word_dim, name="embedding")(ids)
    chars = CharCNNEmbedding(
        config.char_buckets,
        config.char_dim,
        config.char_filters,
        config.char_widths,
        config.max_chars,
        name="char_cnn",
    )(tokens)
    embedded = keras.layers.Concatenate(name="word_and_chars")([words, chars])
    encodings = BiLSTMEncoder(
        units=config.lstm_units,
        num_layers=config.num_layers,
        dropout=config.dropout,
        name="encoder",
    )(embedded, sequence_length=sequence_length)
    outputs = attach_heads(encodings, sequence_length, num_intents, num_slot_tags, config.dropout)
    return keras.Model(
        inputs={"tokens": tokens, "sequence_length": sequence_length}, outputs=outputs, name=name
    )
