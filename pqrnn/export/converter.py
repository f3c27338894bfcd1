"""Serving functions and the TFLite conversion of pqrnn models.

pQRNN models are exported as `text [B] string -> core(project(text))`: the
projection custom op comes first, then the deploy model (float, or its QAT
version). The baselines read words: TFLite has no builtin to split or
lowercase strings, so their files take one utterance's token ids, [T] int32,
and its length; the app splits on whitespace, lowercases (when the card says
so) and maps words to ids with the vocabulary in the model card.

Example:
    >>> serve = text_serving_function(config, deploy)
    >>> int8 = convert(serve, deploy, precision="int8", representative=texts)
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable, Sequence

import ml_collections
import numpy as np
import tensorflow as tf
import tf_keras as keras

from pqrnn import ops, tflite
from pqrnn.data.tokenizer import split_whitespace
from pqrnn.export import float_heads
from pqrnn.training import experiment

PRECISIONS = ("float32", "int8")


def text_serving_function(config: ml_collections.ConfigDict, core: keras.Model):
    """tf.function(text [B] string) -> {"intent", "slots", "sequence_length"}.

    Args:
      config: the run's config (projection attributes, without distortion).
      core: a model on {"projection", "sequence_length"} (a deploy or QAT model).
    """
    projection_kwargs = experiment.projection_kwargs(config, training=False)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        projection, sequence_length = ops.sequence_string_projection(text, **projection_kwargs)
        outputs = core(
            {"projection": projection, "sequence_length": sequence_length}, training=False
        )
        return {
            "intent": outputs["intent"],
            "slots": outputs["slots"],
            "sequence_length": sequence_length,
        }

    return serve


def token_vocabulary(model: keras.Model) -> list[str]:
    """A baseline's vocabulary by id (id 0: the out-of-vocabulary bucket)."""
    return list(model.get_layer("token_ids").get_vocabulary())


def tokens_serving_function(core: keras.Model):
    """tf.function(token_ids [T] int32, sequence_length [1] int32) -> outputs.

    `core` is a baseline's deploy model (`deploy_model.build_deploy_baseline`).
    One utterance per call (sequence_length = T, no padding). The vocabulary
    lookup (`token_vocabulary`, carried in the model card) happens in the
    app: TFLite's hash-table ops convert, but TF 2.21's int8 calibrator
    crashes on them with multi-token string inputs (docs/EXPORT.md). The
    encoder runs without a padding mask (with one utterance per call the
    mask is all true, so the values are the same): masked, each LSTM becomes
    a WHILE loop that the int8 calibrator crashes on, where unmasked the
    converter fuses it into one UNIDIRECTIONAL_SEQUENCE_LSTM op; and the
    attention mask adds -1e9 to logits, which would swamp their int8 range.
    """

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.int32, name="token_ids"),
            tf.TensorSpec([1], tf.int32, name="sequence_length"),
        ]
    )
    def serve(token_ids, sequence_length):
        outputs = core(
            {"token_ids": tf.expand_dims(token_ids, 0), "sequence_length": sequence_length},
            training=False,
        )
        return {
            "intent": outputs["intent"],
            "slots": outputs["slots"],
            "sequence_length": sequence_length,
        }

    return serve


def token_ids(tokens: Sequence[str], vocabulary_index: dict[str, int]) -> np.ndarray:
    """int32 ids of tokens (0 for words not in the vocabulary)."""
    return np.array([vocabulary_index.get(t, 0) for t in tokens], np.int32)


def representative_texts(
    examples: Sequence, count: int, seed: int = 0, same_length: bool = False
) -> list[str]:
    """`count` utterances drawn without replacement (seeded) for calibration.

    With `same_length`, all of them have the token count most common among
    `count` random ones: TF 2.21's calibrator sizes its inputs from the
    first sample only, and padding a token model's inputs would put tokens
    and, for masked attention, -1e9 logits into the calibrated ranges.
    """
    texts = [e.text for e in examples]
    random.Random(seed).shuffle(texts)
    if not same_length:
        return texts[:count]
    lengths = collections.Counter(len(split_whitespace(t)) for t in texts[:count])
    length = lengths.most_common(1)[0][0] if lengths else 0
    return [t for t in texts if len(split_whitespace(t)) == length][:count]


def representative_dataset(
    texts: Sequence[str],
    kind: str,
    lowercase: bool = False,
    max_seq_len: int = 0,
    vocabulary: Sequence[str] = (),
):
    """The converter's representative_dataset: one utterance per sample.

    Every sample has the same input shapes: TF 2.21's calibrator sizes its
    inputs from the first sample only. Text samples are [1] numpy unicode
    strings of one item size; token samples should all have one length
    (`representative_texts(same_length=True)`); shorter ones are padded
    with id 0.
    """

    def text_samples():
        dtype = f"<U{max(1, max(len(t) for t in texts))}"
        for text in texts:
            yield {"text": np.array([text], dtype=dtype)}

    index = {word: i for i, word in enumerate(vocabulary)}

    def split(text):
        tokens = split_whitespace(text)
        tokens = [t.lower() for t in tokens] if lowercase else tokens
        return tokens[:max_seq_len] if max_seq_len else tokens

    def token_samples():
        rows = [token_ids(split(text), index) for text in texts]
        width = max(len(row) for row in rows)
        for row in rows:
            yield {
                "token_ids": np.pad(row, (0, width - len(row))),
                "sequence_length": np.array([len(row)], np.int32),
            }

    return text_samples if kind == "text" else token_samples


def convert(
    serve,
    trackable,
    *,
    precision: str,
    representative: Callable | None = None,
    float_logits: bool = False,
) -> bytes:
    """Converts a serving function to a `.tflite` flatbuffer.

    Args:
      serve: a tf.function with an input signature.
      trackable: the object owning its variables (the model).
      precision: "float32", or "int8": full-integer quantization. The
        ranges come from fake-quant ops in the graph (a QAT model) and, for
        every other tensor, from calibration on `representative`.
      representative: the converter's representative_dataset (int8 only).
      float_logits: int8 only: the FULLY_CONNECTED ops that write the
        model's outputs (the classifiers) compute in float32 with float16
        weights and write float32 logits instead of requantized int8 ones
        (`pqrnn.export.float_heads`).

    Returns:
      The flatbuffer. pqrnn's custom ops stay float; the converter puts
      QUANTIZE/DEQUANTIZE around them.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} must be one of {PRECISIONS}")
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], trackable
    )
    converter.allow_custom_ops = True
    if precision == "int8":
        if representative is None:
            raise ValueError("int8 conversion needs a representative dataset")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # Calibration runs the graph, custom ops included (private attribute;
        # docs/EXPORT.md).
        converter.target_spec._experimental_custom_op_registerers = (  # noqa: SLF001
            tflite.custom_op_registerers()
        )
        if float_logits:
            return _convert_with_float_logits(converter)
    return converter.convert()


def _convert_with_float_logits(converter) -> bytes:
    """Int8 conversion with the output FULLY_CONNECTED ops in float (float16 weights).

    TF has no public switch for leaving chosen ops out of a full-integer
    file; this is the path of tf.lite.experimental.QuantizationDebugger
    (calibrate, then quantize with `denylisted_nodes`), which cannot be used
    as such here because it builds interpreters without pqrnn's custom ops.
    tests/test_export_float_heads.py pins the result (op types, the logits
    against float16 weights, with and without XNNPACK).
    """
    from tensorflow.lite.python import convert as tflite_convert

    converter._experimental_calibrate_only = True  # noqa: SLF001
    calibrated = converter.convert()
    heads = float_heads.output_fully_connected(calibrated)
    quantized = tflite_convert.mlir_quantize(
        calibrated,
        disable_per_channel=converter._experimental_disable_per_channel,  # noqa: SLF001
        denylisted_nodes=heads or None,
    )
    return float_heads.float16_weights(quantized, heads) if heads else quantized
