"""The hashing projection as a tf_keras layer."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn import ops


@keras.utils.register_keras_serializable(package="pqrnn")
class SequenceStringProjection(keras.layers.Layer):
    """Maps raw UTF-8 strings to ternary token features, with no vocabulary.

    pQRNN's replacement for an embedding table (Kaliamoorthi et al., 2021,
    "Distilling Large Language Models into Tiny and Effective Students using
    pQRNN"; projection from PRADO, EMNLP 2019): every whitespace-separated
    token is hashed into `feature_size` values in {-1, 0, +1}. The layer has
    no weights. It runs the C++ kernel `PQRNN>SequenceStringProjection`, which
    the TFLite converter carries into `.tflite` files as a custom op with the
    same attributes (register it with `pqrnn.tflite.Interpreter`).

    Args:
      feature_size: int, F: features per token (even, 2..4096).
      max_seq_len: int, tokens kept per string, BOS/EOS excluded (0 = all).
      add_bos_tag: bool, prepend a "<BOS>" token.
      add_eos_tag: bool, append an "<EOS>" token.
      word_novelty_bits: int, 0 (off) or 1..7: feature F-1 encodes how often
        the token occurred earlier in the string.
      doc_size_levels: int, 0 (off) or 1..16: feature F-2 encodes log2 of the
        string's token count.
      distortion_probability: float, per-token probability of a random
        character edit, applied only when `training=True` (augmentation).
        Inference, `predict` and exported models always use 0.
      lowercase: bool, Unicode simple lowercase before hashing.
      seed: int, seed of the distortion's random stream.
      char_ngram_size: int, 0 (off) or 1..8: each real token's row adds the
        mean features of its character n-grams of this size (the token
        bounded by '<' and '>'), so word forms that share pieces share
        features (docs/PROJECTION.md).
      char_ngram_sqrt: bool, divide the n-grams' sum by sqrt(G) instead of G
        (their count), so their part of the row keeps the word part's scale
        on long tokens; needs char_ngram_size > 0.

    Call arguments:
      inputs: [B] tf.string tensor.
      training: bool, enables distortion.

    Returns:
      A tuple `(projection, sequence_length)`: float32 [B, T, F] and int32 [B].

    Example:
    >>> layer = SequenceStringProjection(feature_size=16)
    >>> projection, lengths = layer(tf.constant(["hello world", "hi"]))
    >>> projection.shape, lengths.numpy().tolist()
    (TensorShape([2, 2, 16]), [2, 1])
    """

    def __init__(
        self,
        feature_size: int,
        max_seq_len: int = 0,
        add_bos_tag: bool = False,
        add_eos_tag: bool = False,
        word_novelty_bits: int = 0,
        doc_size_levels: int = 0,
        distortion_probability: float = 0.0,
        lowercase: bool = False,
        seed: int = 0,
        char_ngram_size: int = 0,
        char_ngram_sqrt: bool = False,
        **kwargs,
    ):
        super().__init__(trainable=False, **kwargs)
        self.feature_size = feature_size
        self.max_seq_len = max_seq_len
        self.add_bos_tag = add_bos_tag
        self.add_eos_tag = add_eos_tag
        self.word_novelty_bits = word_novelty_bits
        self.doc_size_levels = doc_size_levels
        self.distortion_probability = distortion_probability
        self.lowercase = lowercase
        self.seed = seed
        self.char_ngram_size = char_ngram_size
        self.char_ngram_sqrt = bool(char_ngram_sqrt)
        self._validate()

    def _validate(self) -> None:
        # Mirrors the C++ ValidateOptions so that a bad config fails when the
        # layer is built, not at the first batch; the kernel checks again.
        problems = []
        if not (2 <= self.feature_size <= 4096 and self.feature_size % 2 == 0):
            problems.append(f"feature_size={self.feature_size} must be even and in [2, 4096]")
        if self.max_seq_len < 0:
            problems.append(f"max_seq_len={self.max_seq_len} must be >= 0 (0 keeps all tokens)")
        if not 0 <= self.word_novelty_bits <= 7:
            problems.append(f"word_novelty_bits={self.word_novelty_bits} must be in [0, 7]")
        if not 0 <= self.doc_size_levels <= 16:
            problems.append(f"doc_size_levels={self.doc_size_levels} must be in [0, 16]")
        if not 0 <= self.char_ngram_size <= 8:
            problems.append(f"char_ngram_size={self.char_ngram_size} must be in [0, 8]")
        if self.char_ngram_sqrt and self.char_ngram_size == 0:
            problems.append("char_ngram_sqrt needs char_ngram_size > 0")
        if not 0.0 <= self.distortion_probability <= 1.0:
            problems.append(
                f"distortion_probability={self.distortion_probability} must be in [0, 1]"
            )
        if problems:
            raise ValueError("SequenceStringProjection: " + "; ".join(problems))

    def projection_kwargs(self, training: bool = False) -> dict:
        """The op attributes this layer uses (distortion only when training)."""
        return dict(
            feature_size=self.feature_size,
            max_seq_len=self.max_seq_len,
            add_bos_tag=self.add_bos_tag,
            add_eos_tag=self.add_eos_tag,
            word_novelty_bits=self.word_novelty_bits,
            doc_size_levels=self.doc_size_levels,
            distortion_probability=self.distortion_probability if training else 0.0,
            lowercase=self.lowercase,
            seed=self.seed,
            char_ngram_size=self.char_ngram_size,
            char_ngram_sqrt=self.char_ngram_sqrt,
        )

    def call(self, inputs, training=None):
        return ops.sequence_string_projection(inputs, **self.projection_kwargs(bool(training)))

    def compute_output_shape(self, input_shape):
        batch = tf.TensorShape(input_shape)[0]
        return (
            tf.TensorShape([batch, None, self.feature_size]),
            tf.TensorShape([batch]),
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self.projection_kwargs(training=True))
        config.pop("trainable", None)
        return config
