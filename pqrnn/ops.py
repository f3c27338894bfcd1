"""TensorFlow ops of pqrnn: the hashing projection.

Example:
    >>> import pqrnn.ops
    >>> projection, lengths = pqrnn.ops.sequence_string_projection(
    ...     ["hello world"], feature_size=16)
    >>> projection.shape, lengths.numpy().tolist()
    (TensorShape([1, 2, 16]), [2])
"""

from __future__ import annotations

import functools

import tensorflow as tf

from pqrnn import _lib

PROJECTION_OP_NAME = "PQRNN>SequenceStringProjection"


@functools.cache
def load_tf_ops():
    """Loads (once) and returns the module of pqrnn's TensorFlow ops.

    Must run before a SavedModel that uses the ops is loaded; `pqrnn.ops` does
    it on first use, and `import pqrnn.ops; pqrnn.ops.load_tf_ops()` does it
    explicitly.
    """
    module = tf.load_op_library(str(_lib.library_path(_lib.TF_OPS_LIBRARY)))
    tf.no_gradient(PROJECTION_OP_NAME)
    return module


def tf_op_names() -> list[str]:
    """Names of every TensorFlow op the library registers (namespaced PQRNN>)."""
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session

    handle = pywrap_tf_session.TF_LoadLibrary(str(_lib.library_path(_lib.TF_OPS_LIBRARY)))
    try:
        op_list = op_def_pb2.OpList.FromString(pywrap_tf_session.TF_GetOpList(handle))
    finally:
        pywrap_tf_session.TF_DeleteLibraryHandle(handle)
    return sorted(op.name for op in op_list.op)


def sequence_string_projection(
    texts,
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
    name: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Projects a batch of UTF-8 strings to ternary token features.

    Each string is split on Unicode whitespace and every token is hashed into
    `feature_size` values in {-1, 0, +1} (docs/PROJECTION.md has the contract;
    the same bits come out of the TFLite kernel on every platform).

    Args:
      texts: [B] strings (a tf.string tensor, or anything convertible to one).
      feature_size: F, even, 2..4096.
      max_seq_len: tokens kept per string, BOS/EOS excluded; 0 keeps all.
      add_bos_tag: prepend a "<BOS>" token.
      add_eos_tag: append an "<EOS>" token.
      word_novelty_bits: 0 (off) or 1..7; feature F-1 then encodes how often
        the token occurred earlier in the string.
      doc_size_levels: 0 (off) or 1..16; feature F-2 then encodes log2 of the
        number of tokens.
      distortion_probability: per-token probability of a random character
        edit (training-time augmentation; 0 at inference and in exported
        models).
      lowercase: map every code point through Unicode simple lowercase.
      seed: seed of the distortion's random stream.
      char_ngram_size: 0 (off) or 1..8; each real token's row then adds the
        mean features of its character n-grams of this size (the token
        bounded by '<' and '>'), so related word forms share features.
      char_ngram_sqrt: divide the n-grams' feature sum by sqrt(G) instead of
        taking the mean (G n-grams), so the n-gram part keeps the word part's
        scale on long tokens; needs char_ngram_size > 0.
      name: op name.

    Returns:
      (projection [B, T, F] float32, sequence_length [B] int32), T the longest
      token count in the batch (BOS/EOS included); padding rows are 0.

    Raises:
      TypeError: `texts` is not a string tensor.
      ValueError / tf.errors.InvalidArgumentError: invalid attributes or
        input rank (at graph-build time where shapes are known).
    """
    texts = tf.convert_to_tensor(texts)
    if texts.dtype != tf.string:
        raise TypeError(
            f"sequence_string_projection expects a tf.string tensor of shape [B], got {texts.dtype}"
        )
    return load_tf_ops().pqrnn_sequence_string_projection(
        input=texts,
        feature_size=feature_size,
        max_seq_len=max_seq_len,
        add_bos_tag=add_bos_tag,
        add_eos_tag=add_eos_tag,
        word_novelty_bits=word_novelty_bits,
        doc_size_levels=doc_size_levels,
        distortion_probability=distortion_probability,
        lowercase=lowercase,
        seed=seed,
        char_ngram_size=char_ngram_size,
        char_ngram_sqrt=char_ngram_sqrt,
        name=name,
    )


QRNN_POOLING_OP_NAME = "PQRNN>QRNNPooling"


def qrnn_pooling(
    gates,
    sequence_length,
    direction: str = "bidirectional",
    merge_mode: str = "concat",
    backward_offset: int = 0,
    name: str | None = None,
) -> tf.Tensor:
    """fo-pooling of a QRNN layer, in one C++ kernel (differentiable).

    The recurrence of `pqrnn.layers.QRNN` after its convolution: with gates
    [B, Tg, G] laid out [direction][z, f, o][unit], for every real step
    z = tanh(Z), f = sigmoid(F), o = sigmoid(O), c_t = f c_{t-1} + (1 - f) z
    and h_t = o c_t; forward left to right from gate row t, backward right to
    left from gate row t + backward_offset; rows at or past sequence_length
    are 0. tflite_ops/qrnn/qrnn_pooling.h has the contract. The TFLite
    converter carries it into `.tflite` files as the custom op
    "PQRNN>QRNNPooling" (register it with `pqrnn.tflite.Interpreter`).

    Args:
      gates: float32 [B, Tg, G], G = directions * 3 * units.
      sequence_length: int32 [B], real steps per example.
      direction: "forward", "backward" or "bidirectional".
      merge_mode: "concat" (output 2 * units) or "sum" (units) of a
        bidirectional layer's directions.
      backward_offset: rows between a step's forward and backward gates
        (bidirectional only; kernel_width - 1 for pqrnn.layers.QRNN).
      name: op name.

    Returns:
      float32 [B, Tg - backward_offset, O] hidden states.

    Example:
    >>> gates = tf.random.normal([2, 6, 2 * 3 * 4])
    >>> qrnn_pooling(gates, [4, 2], backward_offset=2).shape
    TensorShape([2, 4, 8])
    """
    return load_tf_ops().pqrnn_qrnn_pooling(
        gates=tf.convert_to_tensor(gates, tf.float32),
        sequence_length=tf.cast(sequence_length, tf.int32),
        direction=direction,
        merge_mode=merge_mode,
        backward_offset=backward_offset,
        name=name,
    )


@tf.RegisterGradient(QRNN_POOLING_OP_NAME)
def _qrnn_pooling_grad(op, grad_output):
    gates, sequence_length = op.inputs
    grad_gates = load_tf_ops().pqrnn_qrnn_pooling_grad(
        gates=gates,
        sequence_length=sequence_length,
        grad_output=grad_output,
        direction=op.get_attr("direction"),
        merge_mode=op.get_attr("merge_mode"),
        backward_offset=op.get_attr("backward_offset"),
    )
    return grad_gates, None
