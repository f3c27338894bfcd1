"""Hostile attributes, inputs and model files for the projection op, in both runtimes.

Every bad attribute or input must give an error naming what is wrong, at
graph-build time (TF) or when the interpreter prepares the node (TFLite),
never a crash; an empty batch gives defined shapes. A truncated or corrupted
`.tflite` must be rejected by `pqrnn.tflite.Interpreter` (or run, if the
corruption happens to leave a valid model), never crash the process: those
runs happen in a subprocess, so a segfault fails the test instead of killing
pytest. docs/RELIABILITY.md lists the cases and outcomes.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pqrnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)

# isort: split
import flatbuffers
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

from pqrnn import ops, tflite
from tests import tflite_models

REPO = pathlib.Path(__file__).resolve().parents[1]

# (attributes, the attribute the error must name). Both runtimes reject all
# of these; the TF op through its shape function and kernel constructor, the
# TFLite kernel in Prepare (its custom options are the same attributes).
BAD_ATTRIBUTES = [
    (dict(feature_size=7), "feature_size"),
    (dict(feature_size=0), "feature_size"),
    (dict(feature_size=-16), "feature_size"),
    (dict(feature_size=4098), "feature_size"),
    (dict(feature_size=8, max_seq_len=-1), "max_seq_len"),
    (dict(feature_size=8, word_novelty_bits=8), "word_novelty_bits"),
    (dict(feature_size=8, word_novelty_bits=-1), "word_novelty_bits"),
    (dict(feature_size=8, doc_size_levels=17), "doc_size_levels"),
    (dict(feature_size=8, char_ngram_size=9), "char_ngram_size"),
    (dict(feature_size=8, char_ngram_size=-1), "char_ngram_size"),
    (dict(feature_size=8, char_ngram_sqrt=True), "char_ngram_sqrt"),
    (dict(feature_size=2, word_novelty_bits=1, doc_size_levels=1), "feature_size"),
    (dict(feature_size=8, distortion_probability=1.5), "distortion_probability"),
    (dict(feature_size=8, distortion_probability=float("nan")), "distortion_probability"),
]
# int64 attributes beyond int range: rejected by both, before narrowing.
HUGE_ATTRIBUTES = [
    (dict(feature_size=1 << 40), "feature_size"),
    (dict(feature_size=8, max_seq_len=1 << 40), "max_seq_len"),
    (dict(feature_size=8, max_seq_len=-(1 << 40)), "max_seq_len"),
    (dict(feature_size=8, char_ngram_size=1 << 40), "char_ngram_size"),
]


def _ids(cases):
    return [",".join(f"{k}={v}" for k, v in attrs.items()) for attrs, _ in cases]


def _raw_op(texts, **attrs):
    """The TF op itself, without pqrnn.ops' Python checks."""
    return ops.load_tf_ops().pqrnn_sequence_string_projection(input=texts, **attrs)


# ---------------------------------------------------------------------------
# TensorFlow.


@pytest.mark.parametrize(
    "attrs,name", BAD_ATTRIBUTES + HUGE_ATTRIBUTES, ids=_ids(BAD_ATTRIBUTES + HUGE_ATTRIBUTES)
)
def test_tf_bad_attribute_fails_at_graph_build(attrs, name):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def project(texts):
        return _raw_op(texts, **attrs)

    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)) as graph_error:
        project.get_concrete_function()
    with pytest.raises(tf.errors.InvalidArgumentError) as eager_error:
        _raw_op(tf.constant(["a b"]), **attrs)
    for error in (graph_error, eager_error):
        assert "PQRNN>SequenceStringProjection" in str(error.value)
        if attrs in [a for a, _ in HUGE_ATTRIBUTES]:
            assert "out of range" in str(error.value)
        else:
            assert name in str(error.value)


@pytest.mark.parametrize("attrs,name", HUGE_ATTRIBUTES, ids=_ids(HUGE_ATTRIBUTES))
def test_tf_out_of_range_attribute_is_named(attrs, name):
    with pytest.raises(tf.errors.InvalidArgumentError, match=name):
        _raw_op(tf.constant(["a b"]), **attrs)


@pytest.mark.parametrize("value", [tf.constant([1, 2]), tf.constant([1.5]), tf.constant([True])])
def test_tf_non_string_input_fails_at_graph_build(value):
    # The op's input is declared `string`: TF's op-def check rejects others
    # before any kernel runs, in eager and in graph mode.
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError), match="string"):
        _raw_op(value, feature_size=8)

    @tf.function(input_signature=[tf.TensorSpec([None], value.dtype)])
    def project(texts):
        return _raw_op(texts, feature_size=8)

    with pytest.raises((TypeError, ValueError), match="string"):
        project.get_concrete_function()


def test_tf_wrong_rank_fails_at_graph_build():
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.string)])
    def project(texts):
        return _raw_op(texts, feature_size=8)

    with pytest.raises(ValueError, match="rank"):
        project.get_concrete_function()
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="rank|vector"):
        _raw_op(tf.constant("scalar"), feature_size=8)


@pytest.mark.parametrize("feature_size", [2, 64, 4096])
def test_tf_zero_batch_is_defined(feature_size):
    projection, lengths = _raw_op(tf.constant([], tf.string), feature_size=feature_size)
    assert projection.shape == (0, 0, feature_size)
    assert lengths.shape == (0,)
    # Strings with no tokens: T = 0, lengths 0.
    projection, lengths = _raw_op(tf.constant(["", "  \t"]), feature_size=feature_size)
    assert projection.shape == (2, 0, feature_size)
    assert lengths.numpy().tolist() == [0, 0]


# ---------------------------------------------------------------------------
# TFLite: hand-built models (tests/tflite_models.py), no TensorFlow needed.


def _prepare_error(model: bytes) -> str:
    interpreter = tflite.Interpreter(model_content=model)
    with pytest.raises(RuntimeError) as error:
        interpreter.allocate_tensors()
    return str(error.value)


@pytest.mark.parametrize(
    "attrs,name", BAD_ATTRIBUTES + HUGE_ATTRIBUTES, ids=_ids(BAD_ATTRIBUTES + HUGE_ATTRIBUTES)
)
def test_tflite_bad_custom_options_fail_in_prepare(attrs, name):
    message = _prepare_error(
        tflite_models.projection_model(options=tflite_models.projection_options(**attrs))
    )
    assert "PQRNN>SequenceStringProjection" in message
    assert name in message


@pytest.mark.parametrize(
    "options,message",
    [
        (b"", "custom options are missing"),
        (b"\x01\x02\x03\xff\xff\x7f", "not a valid flexbuffer"),
        (tflite_models.projection_options(feature_size=16)[:-3], "not a valid flexbuffer"),
        (
            tflite_models.projection_options(feature_size=16, distortion_probability=0.1),
            "distortion_probability",
        ),
        (tflite_models.projection_options(feature_size="16"), "feature_size must be an integer"),
    ],
    ids=["empty", "garbage", "truncated", "distortion", "string_feature_size"],
)
def test_tflite_corrupt_custom_options_fail_in_prepare(options, message):
    assert message in _prepare_error(tflite_models.projection_model(options=options))


def _projection_model_with_input(tensor_type, shape, signature) -> bytes:
    """tflite_models.projection_model with another input tensor type/shape."""
    model = schema.ModelT.InitFromPackedBuf(tflite_models.projection_model(feature_size=16), 0)
    text = model.subgraphs[0].tensors[0]
    text.type = tensor_type
    text.shape = list(shape)
    text.shapeSignature = list(signature)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize(
    "tensor_type,name",
    [
        (schema.TensorType.INT32, "int32"),
        (schema.TensorType.FLOAT32, "float32"),
        (schema.TensorType.UINT8, "uint8"),
    ],
)
def test_tflite_non_string_input_fails_in_prepare(tensor_type, name):
    message = _prepare_error(_projection_model_with_input(tensor_type, [1], [-1]))
    assert "must be a string tensor" in message


def test_tflite_wrong_rank_fails_in_prepare():
    message = _prepare_error(
        _projection_model_with_input(schema.TensorType.STRING, [1, 2], [-1, 2])
    )
    assert "must be a vector [B] of strings, got rank 2" in message


def _run_tflite(texts, feature_size=16, options=None):
    interpreter = tflite.Interpreter(
        model_content=tflite_models.projection_model(options=options, feature_size=feature_size)
    )
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [len(texts)])
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, np.array(texts, dtype=np.bytes_).reshape([len(texts)]))
    interpreter.invoke()
    return interpreter


def test_tflite_options_without_char_ngram_size_read_as_off():
    # Files converted before the attribute existed have no such key.
    texts = [b"flights to denver", b"\xe0\xa4\xa8\xe0\xa4\xae x"]
    old = dict(tflite_models.PROJECTION_DEFAULTS, feature_size=16)
    del old["char_ngram_size"], old["char_ngram_sqrt"]
    without = _run_tflite(texts, options=bytes(flexbuffers.Dumps(old)))
    got = without.get_tensor(without.get_output_details()[0]["index"])
    want, _ = ops.sequence_string_projection(texts, feature_size=16)
    np.testing.assert_array_equal(got, want.numpy())
    # And the key, when there, is read.
    with_ngrams = _run_tflite(
        texts, options=tflite_models.projection_options(feature_size=16, char_ngram_size=3)
    )
    got = with_ngrams.get_tensor(with_ngrams.get_output_details()[0]["index"])
    want, _ = ops.sequence_string_projection(texts, feature_size=16, char_ngram_size=3)
    np.testing.assert_array_equal(got, want.numpy())
    # Files without char_ngram_sqrt (written before it existed) take the mean;
    # with it, the TFLite kernel scales by 1 / sqrt(G) exactly as the TF op.
    sqrt = _run_tflite(
        texts,
        options=tflite_models.projection_options(
            feature_size=16, char_ngram_size=3, char_ngram_sqrt=True
        ),
    )
    got_sqrt = sqrt.get_tensor(sqrt.get_output_details()[0]["index"])
    want_sqrt, _ = ops.sequence_string_projection(
        texts, feature_size=16, char_ngram_size=3, char_ngram_sqrt=True
    )
    np.testing.assert_array_equal(got_sqrt, want_sqrt.numpy())
    assert not np.array_equal(got_sqrt, got)


@pytest.mark.parametrize("texts", [[], ["", "  \t"]], ids=["zero_strings", "no_tokens"])
def test_tflite_zero_batch_and_no_tokens_have_defined_shapes(texts):
    interpreter = _run_tflite(texts)  # invoke() succeeds.
    shapes = {d["name"]: d["shape"].tolist() for d in interpreter.get_output_details()}
    assert shapes == {"projection": [len(texts), 0, 16], "sequence_length": [len(texts)]}


def test_tflite_zero_size_outputs_are_readable():
    interpreter = _run_tflite(["", "   "])
    projection = interpreter.get_output_details()[0]["index"]
    assert interpreter.get_tensor(projection).shape == (2, 0, 16)


# ---------------------------------------------------------------------------
# Truncated and corrupted .tflite files, loaded in a subprocess.

# Loads every variant of a model and prints one JSON line per variant. A
# "try" line is printed (and flushed) before each load, so a crash names the
# variant that caused it. Address space is capped so a corrupt shape cannot
# make the shared machine swap.
_CORRUPTION_WORKER = textwrap.dedent(
    r"""
    import faulthandler, json, random, resource, sys
    import numpy as np
    faulthandler.enable()
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    from pqrnn import tflite

    path, offsets, flips, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    good = open(path, "rb").read()
    rng = random.Random(seed)
    variants = []
    step = max(1, len(good) // offsets) if offsets else 0
    for n in range(0, len(good), step) if step else []:
        variants.append((f"truncate@{n}", good[:n]))
    for k in range(flips):
        data = bytearray(good)
        where = []
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
            where.append(i)
        variants.append((f"flip{k}@{where}", bytes(data)))
    texts = np.array([b"wake me up at 7", b"", "\u0928\u092e\u0938\u094d\u0924\u0947".encode()])
    for name, data in variants:
        print(json.dumps({"try": name}), flush=True)
        stage = "load"
        try:
            interpreter = tflite.Interpreter(model_content=data)
            stage = "prepare"
            inputs = interpreter.get_input_details()
            if not inputs:  # A flip can drop the subgraph's input list.
                print(json.dumps({"done": name, "outcome": "no_inputs", "message": ""}))
                continue
            index = inputs[0]["index"]
            interpreter.resize_tensor_input(index, [len(texts)])
            interpreter.allocate_tensors()
            stage = "invoke"
            interpreter.set_tensor(index, texts)
            interpreter.invoke()
            for detail in interpreter.get_output_details():
                if np.prod(detail["shape"]) > 0:
                    interpreter.get_tensor(detail["index"])
            outcome, message = "ran", ""
        except (ValueError, RuntimeError, MemoryError) as e:
            outcome, message = f"{stage}:{type(e).__name__}", str(e)[:300]
        except Exception as e:  # Anything else is not a clear error.
            outcome, message = f"{stage}:unexpected:{type(e).__name__}", str(e)[:300]
        print(json.dumps({"done": name, "outcome": outcome, "message": message}), flush=True)
    """
)


def _corrupt_and_load(model: bytes, tmp_path, offsets: int, flips: int, seed: int) -> dict:
    """Runs the worker and asserts it did not crash and that every error was a
    clear one; returns {outcome: count}.

    Every truncation must be rejected at load time, except one that only
    drops trailing zero bytes (the model may then be complete, and run).
    """
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", _CORRUPTION_WORKER, str(path), str(offsets), str(flips), str(seed)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=REPO,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    tried = [line["try"] for line in lines if "try" in line]
    done = [line for line in lines if "done" in line]
    assert result.returncode == 0, (
        f"the loader process died (exit {result.returncode}) on variant {tried[-1] if tried else None}:"
        f"\n{result.stderr[-3000:]}"
    )
    assert len(done) == len(tried)
    outcomes: dict[str, int] = {}
    for line in done:
        outcomes[line["outcome"]] = outcomes.get(line["outcome"], 0) + 1
    unexpected = [line for line in done if "unexpected" in line["outcome"]]
    assert not unexpected, unexpected[:5]
    for line in done:
        if line["outcome"] == "load:ValueError":  # Names the source, says what is wrong.
            assert line["message"].startswith("model_content:"), line
        if line["done"].startswith("truncate@"):
            n = int(line["done"].split("@")[1])
            only_padding = model[n:].strip(b"\0") == b""
            allowed = ("ran", "load:ValueError") if only_padding else ("load:ValueError",)
            assert line["outcome"] in allowed, line
    return outcomes


def test_truncated_model_file_names_the_file(tmp_path):
    model = tflite_models.projection_model(feature_size=16)
    for n in (0, 7, len(model) // 2, len(model.rstrip(b"\0")) - 1):
        path = tmp_path / f"cut{n}.tflite"
        path.write_bytes(model[:n])
        with pytest.raises(ValueError, match=str(path)):
            tflite.Interpreter(model_path=path)


def test_every_truncation_and_random_flips_of_a_projection_model(tmp_path):
    model = tflite_models.projection_model(feature_size=16, add_bos_tag=True)
    outcomes = _corrupt_and_load(model, tmp_path, offsets=len(model), flips=300, seed=1)
    assert outcomes.get("load:ValueError", 0) >= len(model.rstrip(b"\0"))
    print(outcomes)


@pytest.mark.slow
def test_truncations_and_flips_of_a_converted_model(tmp_path):
    """A real converted model (string input -> projection -> QRNN encoder ->
    heads, with WHILE loops): 400 truncation offsets and 400 random flips."""
    from pqrnn.models import PQRNNConfig, build_joint_model

    core = build_joint_model(
        PQRNNConfig(feature_size=16, bottleneck=8, qrnn_state=4, num_layers=1), 5, 7
    )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        projection, lengths = ops.sequence_string_projection(
            text, feature_size=16, add_bos_tag=True
        )
        return core({"projection": projection, "sequence_length": lengths})

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], core
    )
    converter.allow_custom_ops = True
    model = converter.convert()
    outcomes = _corrupt_and_load(model, tmp_path, offsets=400, flips=400, seed=2)
    assert outcomes.get("ran", 0) >= 1  # The unmodified prefix-free runs work.
    print(len(model), outcomes)
