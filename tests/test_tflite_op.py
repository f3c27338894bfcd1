"""The projection as a TFLite custom op: conversion, parity with TF, errors.

A tf_keras model whose first layer is SequenceStringProjection is converted
with allow_custom_ops; the `.tflite` must hold exactly that custom op with the
layer's attributes, and pqrnn.tflite.Interpreter must reproduce the TF op bit
for bit at every batch size. Real-data parity is tests/test_parity_tf_tflite.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import flatbuffers
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils
from flatbuffers import flexbuffers

import pqrnn  # noqa: F401
from pqrnn import _lib, ops, tflite
from pqrnn.layers import SequenceStringProjection
from tests import projection_parity as pp
from tests import tflite_models

REPO = pathlib.Path(__file__).resolve().parents[1]
OP = "PQRNN>SequenceStringProjection"

TEXTS = [
    b"wake me up at 7 am",
    b"Set an ALARM for tomorrow",
    "reproduce la canción de Shakira".encode(),
    "मुझे कल सुबह 7 बजे जगा देना".encode(),
    "ตั้ง นาฬิกา ปลุก ตอน เจ็ด โมง".encode(),
    "明天 早上 七点 叫醒 我".encode(),
    b"",
    b"  call   mom  call mom  ",
    "\U0001f469\u200d\U0001f469 emoji \u00c9T\u00c9".encode(),
]

# Attribute sets exercised everywhere below (distortion is training-only).
ATTRS = {
    "defaults": dict(feature_size=16),
    "bos_eos_lower": dict(feature_size=64, add_bos_tag=True, add_eos_tag=True, lowercase=True),
    "novelty_docsize_truncated": dict(
        feature_size=256, word_novelty_bits=3, doc_size_levels=8, max_seq_len=5
    ),
}


@pytest.fixture(scope="module")
def converted():
    """{attrs name: .tflite bytes}, each converted once."""
    return {name: pp.convert_projection(**attrs) for name, attrs in ATTRS.items()}


def _operators(model_bytes: bytes):
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(model_bytes))
    codes = model.operatorCodes
    ops_ = [
        (codes[op.opcodeIndex], op) for subgraph in model.subgraphs for op in subgraph.operators
    ]
    return model, ops_


def _custom_code(opcode) -> str | None:
    code = opcode.customCode
    return code.decode() if isinstance(code, bytes) else code


@pytest.mark.parametrize("name", list(ATTRS))
def test_model_holds_exactly_the_custom_op_with_the_layer_attributes(converted, name):
    _, operators = _operators(converted[name])
    assert [_custom_code(code) for code, _ in operators] == [OP]
    opcode, op = operators[0]
    assert flatbuffer_utils.get_builtin_code_from_operator_code(opcode) == (
        schema.BuiltinOperator.CUSTOM
    )
    assert op.customOptionsFormat == schema.CustomOptionsFormat.FLEXBUFFERS
    options = flexbuffers.Loads(bytes(op.customOptions))
    expected = {**tflite_models.PROJECTION_DEFAULTS, **ATTRS[name]}
    assert options == expected
    assert _custom_code(opcode) in tflite.custom_op_names()


@pytest.mark.parametrize("name", list(ATTRS))
@pytest.mark.parametrize("batch_size", [1, 2, 7])
def test_tflite_matches_tf_bit_for_bit(converted, name, batch_size):
    interpreter = pp.new_interpreter(converted[name])
    # Several batches through one interpreter: it is resized every time.
    for start in range(0, len(TEXTS), batch_size):
        batch = TEXTS[start : start + batch_size]
        pp.assert_bit_identical(
            pp.run_tf(batch, **ATTRS[name]),
            pp.run_tflite(interpreter, batch),
            f"{name}, texts[{start}:{start + len(batch)}]",
        )


def test_signature_runner_names_the_outputs(converted):
    runner = tflite.Interpreter(model_content=converted["defaults"]).get_signature_runner()
    outputs = runner(text=np.array(TEXTS[:3]))
    projection, lengths = pp.run_tf(TEXTS[:3], **ATTRS["defaults"])
    by_dtype = {v.dtype: v for v in outputs.values()}
    assert np.array_equal(by_dtype[np.dtype(np.float32)], projection)
    assert np.array_equal(by_dtype[np.dtype(np.int32)], lengths)


def test_empty_batch_has_defined_shapes(converted):
    interpreter = pp.new_interpreter(converted["defaults"])
    pp.run_tflite(interpreter, [])
    shapes = sorted(d["shape"].tolist() for d in interpreter.get_output_details())
    assert shapes == [[0], [0, 0, 16]]


def test_keras_layer_exports_zero_distortion():
    attrs = dict(feature_size=32, distortion_probability=0.25, seed=7)
    model_bytes = pp.convert(pp.projection_keras_model(**attrs))
    _, operators = _operators(model_bytes)
    options = flexbuffers.Loads(bytes(operators[0][1].customOptions))
    assert options["distortion_probability"] == 0.0
    interpreter = pp.new_interpreter(model_bytes)
    pp.assert_bit_identical(
        pp.run_tf(TEXTS, feature_size=32),  # Inference = no distortion.
        pp.run_tflite(interpreter, TEXTS),
        "distortion layer at inference",
    )


def test_model_with_distortion_is_rejected_with_a_clear_message():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def distorted(text):
        return ops.sequence_string_projection(text, feature_size=16, distortion_probability=0.1)

    interpreter = tflite.Interpreter(model_content=pp.convert(distorted))
    with pytest.raises(RuntimeError, match=r"distortion_probability=0\.1.*training-only"):
        interpreter.allocate_tensors()


def _with_options(model_bytes: bytes, **changes) -> bytes:
    """The model with its custom op's attributes changed (None removes one)."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    op = model.subgraphs[0].operators[0]
    options = flexbuffers.Loads(bytes(op.customOptions))
    for key, value in changes.items():
        if value is None:
            options.pop(key, None)
        else:
            options[key] = value
    op.customOptions = list(flexbuffers.Dumps(options))
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize(
    "changes,message",
    [
        (dict(feature_size=7), "feature_size must be an even number"),
        (dict(feature_size=8192), "feature_size"),
        (dict(max_seq_len=-1), "max_seq_len must be >= 0"),
        (dict(word_novelty_bits=9), "word_novelty_bits"),
        (dict(doc_size_levels=-2), "doc_size_levels"),
        (dict(feature_size=None), "feature_size is required"),
        (dict(lowercase="yes"), "lowercase must be a bool"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else ",".join(map(str, v)),
)
def test_invalid_attributes_in_a_model_are_rejected(converted, changes, message):
    interpreter = tflite.Interpreter(model_content=_with_options(converted["defaults"], **changes))
    with pytest.raises(RuntimeError, match=OP) as error:
        interpreter.allocate_tensors()
    assert message in str(error.value)


def test_unknown_attributes_are_ignored(converted):
    model = _with_options(converted["defaults"], some_future_attr=3, _output_shapes=1)
    interpreter = pp.new_interpreter(model)
    pp.assert_bit_identical(
        pp.run_tf(TEXTS, **ATTRS["defaults"]), pp.run_tflite(interpreter, TEXTS), "extra keys"
    )


def test_corrupt_model_bytes_are_rejected(converted, tmp_path):
    good = converted["defaults"]
    for n in (0, 3, 8, 64, len(good) // 2, len(good.rstrip(b"\0")) - 1):
        with pytest.raises(ValueError, match=r"^model_content: "):
            tflite.Interpreter(model_content=good[:n])
    with pytest.raises(ValueError, match="not a TFLite model"):
        tflite.Interpreter(model_content=b"<html>not a model</html>")
    # A file: the message names it.
    path = tmp_path / "cut.tflite"
    path.write_bytes(good[: len(good) // 3])
    with pytest.raises(ValueError, match=str(path)):
        tflite.Interpreter(model_path=path)
    with pytest.raises(FileNotFoundError, match="no_such.tflite"):
        tflite.Interpreter(model_path=tmp_path / "no_such.tflite")
    with pytest.raises(ValueError, match="exactly one"):
        tflite.Interpreter()
    with pytest.raises(ValueError, match="exactly one"):
        tflite.Interpreter(model_path=path, model_content=good)


def test_model_path_and_content_give_the_same_results(converted, tmp_path):
    path = tmp_path / "projection.tflite"
    path.write_bytes(converted["bos_eos_lower"])
    from_path = pp.run_tflite(tflite.Interpreter(model_path=str(path)), TEXTS)
    from_bytes = pp.run_tflite(pp.new_interpreter(converted["bos_eos_lower"]), TEXTS)
    pp.assert_bit_identical(from_bytes, from_path, "model_path vs model_content")


def test_missing_library_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PQRNN_LIB_DIR", str(tmp_path))
    with pytest.raises(_lib.OpLibraryNotFoundError, match="make ops"):
        tflite.library_path()


def test_full_integer_quantization_calibrates_with_the_registerers():
    """The converter runs the op during calibration only if given the
    registerers (callables; symbol names need an RTLD_GLOBAL library)."""
    text = keras.Input(shape=(), dtype=tf.string, name="text")
    projection, _ = SequenceStringProjection(feature_size=32, name="projection")(text)
    hidden = keras.layers.Dense(8, activation="relu")(projection)
    logits = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling1D()(hidden))
    model = keras.Model(text, logits)

    def representative_dataset():
        for t in TEXTS[:6]:
            yield [np.array([t])]

    def quantize(registerers):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.allow_custom_ops = True
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.target_spec._experimental_custom_op_registerers = registerers
        return converter.convert()

    with pytest.raises(Exception, match="unresolved custom op"):
        quantize([])
    quantized = quantize(tflite.custom_op_registerers())

    tflite_model, operators = _operators(quantized)
    codes = [
        _custom_code(c) or flatbuffer_utils.get_builtin_code_from_operator_code(c)
        for c, _ in operators
    ]
    assert codes[0] == OP  # The projection stays a float custom op ...
    assert schema.BuiltinOperator.QUANTIZE in codes  # ... and its output is quantized.
    assert schema.TensorType.INT8 in {t.type for t in tflite_model.subgraphs[0].tensors}
    runner = tflite.Interpreter(model_content=quantized).get_signature_runner()
    (got,) = runner(text=np.array(TEXTS[:4])).values()
    want = model(tf.constant(TEXTS[:4])).numpy()
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) < 0.1 * (np.max(np.abs(want)) + 1e-3)


_RUN_WITHOUT_TF = textwrap.dedent(
    r"""
    import json, sys
    import numpy as np
    from pqrnn import tflite

    interpreter = tflite.Interpreter(model_path=sys.argv[1])
    texts = json.loads(sys.argv[3])
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, [len(texts)])
    interpreter.allocate_tensors()
    batch = np.empty(len(texts), dtype=object)
    batch[:] = [bytes.fromhex(t) for t in texts]
    interpreter.set_tensor(index, batch)
    interpreter.invoke()
    out = {str(np.dtype(d["dtype"])): interpreter.get_tensor(d["index"])
           for d in interpreter.get_output_details()}
    np.savez(sys.argv[2], **out)
    print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")))
    """
)


@pytest.mark.slow
def test_converted_model_runs_in_a_process_without_tensorflow(converted, tmp_path):
    name = "novelty_docsize_truncated"
    model_path = tmp_path / "projection.tflite"
    model_path.write_bytes(converted[name])
    texts = [t for t in TEXTS if t.strip()]  # No zero-size outputs (get_tensor refuses them).
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_WITHOUT_TF,
            str(model_path),
            str(tmp_path / "out.npz"),
            json.dumps([t.hex() for t in texts]),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [], "tensorflow was imported"
    out = np.load(tmp_path / "out.npz")
    pp.assert_bit_identical(
        pp.run_tf(texts, **ATTRS[name]), (out["float32"], out["int32"]), "TF-free process"
    )
