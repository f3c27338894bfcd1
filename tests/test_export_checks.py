"""The op-list and prediction checks the exporter runs before writing."""

import pytest

import pqrnn  # noqa: F401
from pqrnn.export import checks, exporter
from pqrnn.export.checks import OpRecord


def _op(index, name, inputs, outputs, input_types, output_types):
    return OpRecord(0, index, name, tuple(inputs), tuple(outputs), input_types, output_types)


def test_float_ops_allows_only_the_documented_boundaries():
    records = [
        _op(0, checks.PROJECTION_OP, [0], [1, 2], ("STRING",), ("FLOAT32", "INT32")),
        _op(1, "QUANTIZE", [1], [3], ("FLOAT32",), ("INT8",)),
        _op(2, "CAST", [9], [10], ("BOOL",), ("FLOAT32",)),
        _op(3, "QUANTIZE", [10], [11], ("FLOAT32",), ("INT8",)),
        _op(4, "CONV_2D", [3, 4, 5], [6], ("INT8", "INT8", "INT32"), ("INT8",)),
        _op(5, "DEQUANTIZE", [6], [7], ("INT8",), ("FLOAT32",)),
        _op(6, checks.POOLING_OP, [7, 2], [8], ("FLOAT32", "INT32"), ("FLOAT32",)),
        _op(7, "QUANTIZE", [8], [12], ("FLOAT32",), ("INT8",)),
        _op(8, "DEQUANTIZE", [12], [13], ("INT8",), ("FLOAT32",)),  # a model output
    ]
    assert checks.float_ops(records) == []
    # A float op in the middle of the graph is reported, and so is the
    # DEQUANTIZE that now feeds it.
    records.append(_op(9, "LOGISTIC", [13], [14], ("FLOAT32",), ("FLOAT32",)))
    dequantize, logistic = checks.float_ops(records)
    assert "DEQUANTIZE #8" in dequantize and "LOGISTIC #9" in logistic
    records.append(_op(10, "TANH", [14], [15], ("FLOAT32",), ("FLOAT32",)))
    assert len(checks.float_ops(records)) == 3


def test_float_ops_allows_float_classifiers_only_at_the_outputs():
    # Float logits: DEQUANTIZE -> FULLY_CONNECTED (float32, its weights a
    # DEQUANTIZE of float16 constants) writing a model output is a
    # documented boundary.
    records = [
        _op(0, "FULLY_CONNECTED", [0, 1, 2], [3], ("INT8", "INT8", "INT32"), ("INT8",)),
        _op(1, "DEQUANTIZE", [3], [4], ("INT8",), ("FLOAT32",)),
        _op(2, "DEQUANTIZE", [9], [5], ("FLOAT16",), ("FLOAT32",)),
        _op(3, "FULLY_CONNECTED", [4, 5, 6], [7], ("FLOAT32",) * 3, ("FLOAT32",)),
    ]
    assert checks.float_ops(records) == []
    # float32 weights stored as such are not the documented layout.
    float32_weights = [records[0], records[1], records[3]]
    assert [p.split()[0] for p in checks.float_ops(float32_weights)] == [
        "DEQUANTIZE",
        "FULLY_CONNECTED",
    ]
    # A float classifier whose output something reads is float math.
    records.append(_op(4, "TANH", [7], [8], ("FLOAT32",), ("FLOAT32",)))
    assert [p.split()[0] for p in checks.float_ops(records)] == [
        "DEQUANTIZE",
        "DEQUANTIZE",
        "FULLY_CONNECTED",
        "TANH",
    ]


def test_expected_ops_of_pqrnn():
    expected = checks.expected_ops("pqrnn", "int8", num_qrnn_layers=3)
    assert expected.first_op == checks.PROJECTION_OP
    assert expected.counts[checks.POOLING_OP] == 3 and expected.counts["WHILE"] == 0
    assert expected.int8
    builtin = checks.expected_ops("pqrnn", "float32", num_qrnn_layers=2, pooling="builtin")
    assert builtin.counts[checks.POOLING_OP] == 0 and "WHILE" in builtin.allowed
    assert checks.expected_ops("bilstm", "int8").allowed is None


def test_check_ops_reports_a_wrong_graph():
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def dense(x):
        return tf.nn.relu(tf.matmul(x, tf.ones([4, 2])))

    content = tf.lite.TFLiteConverter.from_concrete_functions(
        [dense.get_concrete_function()], tf.Module()
    ).convert()
    problems = checks.check_ops(content, checks.expected_ops("pqrnn", "float32", 1))
    text = "\n".join(problems)
    assert "the first op is FULLY_CONNECTED" in text
    assert f"0 x {checks.POOLING_OP}, expected 1" in text
    assert checks.check_ops(content, checks.expected_ops("transformer", "float32")) == []


def _ex(i, language="en"):
    from pqrnn.data.example import Example

    return Example(str(i), language, ("call", "bob"), ("O", "B-contact"), "call")


def test_compare_predictions_criteria():
    examples = [_ex(i) for i in range(200)]
    right = [("call", ("O", "B-contact"))] * 200
    one_wrong = [("call", ("O", "O"))] + right[1:]
    same = checks.compare_predictions(right, right, examples, "float32")
    assert same["passed"] and same["identical"] == 1.0
    # float32: 1 of 200 differs = 99.5% identical, still passes; 2 do not.
    assert checks.compare_predictions(right, one_wrong, examples, "float32")["passed"]
    two_wrong = [("x", ("O", "O"))] * 2 + right[2:]
    assert not checks.compare_predictions(right, two_wrong, examples, "float32")["passed"]
    # int8: 1 of 200 = 0.5 points passes, 2 of 200 = 1 point fails.
    assert checks.compare_predictions(right, one_wrong, examples, "int8")["passed"]
    result = checks.compare_predictions(right, two_wrong, examples, "int8")
    assert not result["passed"]
    assert result["exact_match_delta_points"] == pytest.approx(-1.0)
    # An int8 file that scores higher than its Keras model is not refused.
    better = checks.compare_predictions(two_wrong, right, examples, "int8")
    assert better["passed"] and better["exact_match_delta_points"] == pytest.approx(1.0)


def test_export_report_is_written_last_and_names_each_file_by_sha256(tmp_path, monkeypatch):
    """A folder whose export stopped halfway has no report (the old one goes
    first), and a complete one's report names every file by content."""
    import hashlib
    import json

    from pqrnn import io_utils
    from pqrnn.export import exporter

    def artifacts(tag):
        return [exporter.Artifact(p, f"{tag}-{p}".encode(), {}, {}) for p in ("float32", "int8")]

    def report():
        return {"artifacts": {"float32": {}, "int8": {}}}

    exporter.write_outputs(str(tmp_path), artifacts("old"), report())
    written = json.loads((tmp_path / exporter.REPORT_FILE).read_text())
    for precision in ("float32", "int8"):
        content = (tmp_path / f"model_{precision}.tflite").read_bytes()
        assert written["artifacts"][precision]["sha256"] == hashlib.sha256(content).hexdigest()

    real_write = io_utils.atomic_write_bytes

    def fail_on_int8(path, content):
        if path.endswith("model_int8.tflite"):
            raise OSError("disk full")
        real_write(path, content)

    monkeypatch.setattr(io_utils, "atomic_write_bytes", fail_on_int8)
    with pytest.raises(OSError, match="disk full"):
        exporter.write_outputs(str(tmp_path), artifacts("new"), report())
    # The float file is new, the int8 file old: no report vouches for the pair.
    assert (tmp_path / "model_float32.tflite").read_bytes() == b"new-float32"
    assert (tmp_path / "model_int8.tflite").read_bytes() == b"old-int8"
    assert not (tmp_path / exporter.REPORT_FILE).exists()


def test_export_refuses_fewer_than_one_calibration_draw(tmp_path):
    options = exporter.ExportOptions(calibration_draws=0)
    with pytest.raises(ValueError, match="calibration_draws=0 must be at least 1"):
        exporter.export(str(tmp_path / "no_run"), options)  # before anything is read
