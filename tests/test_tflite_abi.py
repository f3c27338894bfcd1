"""tflite_ops/tflite_abi.h agrees with the TFLite runtime we actually load.

The kernels are compiled against our own declaration of the TFLite C ABI (no
TFLite headers exist on these machines). These tests compare that declaration
with the pinned runtimes, from three independent sides, and fail loudly if a
TFLite upgrade moves anything:

1. The runtime's own compiled code: TfLiteTensorReset() (exported by
   libtensorflow_cc.so.2) fills a tensor; we read it back at our offsets.
2. The running interpreter (ai-edge-litert): the test-only op PQRNN>AbiProbe
   reads its tensors, node and registration through our structs and reports
   what it saw; we compare that with what the interpreter's Python API says.
3. A process that never imports TensorFlow, as deployments run it.

No test here imports TensorFlow.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import InterpreterWithCustomOps

from pqrnn import tflite
from tests import tflite_models

REPO = pathlib.Path(__file__).resolve().parents[1]

# TfLiteType values (the C enum; stable since TFLite 1.x).
K_FLOAT32, K_INT32, K_INT64, K_STRING = 1, 2, 4, 5
# TfLiteAllocationType values.
K_MMAP_RO, K_ARENA_RW, K_DYNAMIC = 1, 2, 4
BUILTIN_OPERATOR_CUSTOM = 32

# The layout tflite_abi.h pins (TFLite 2.21, LP64), for the messages below;
# the authoritative values come from the library (PQRNN_TfLiteAbiLayout).
PINNED = {
    "TfLiteIntArray": 4,
    "TfLiteTensor": 112,
    "TfLiteTensor.type": 0,
    "TfLiteTensor.data": 8,
    "TfLiteTensor.dims": 16,
    "TfLiteTensor.allocation_type": 32,
    "TfLiteTensor.bytes": 40,
    "TfLiteTensor.allocation": 48,
    "TfLiteTensor.name": 56,
    "TfLiteNode": 80,
    "TfLiteNode.user_data": 32,
    "TfLiteNode.custom_initial_data": 48,
    "TfLiteNode.custom_initial_data_size": 56,
    "TfLiteContext.tensors_size": 0,
    "TfLiteContext.tensors": 16,
    "TfLiteContext.ResizeTensor": 32,
    "TfLiteContext.ReportError": 40,
    "TfLiteRegistration": 88,
    "TfLiteRegistration.init": 0,
    "TfLiteRegistration.free": 8,
    "TfLiteRegistration.prepare": 16,
    "TfLiteRegistration.invoke": 24,
    "TfLiteRegistration.builtin_code": 40,
    "TfLiteRegistration.custom_name": 48,
    "TfLiteRegistration.version": 56,
}


def _layout(what: str) -> int:
    value = tflite._abi_layout(what)
    assert value >= 0, f"PQRNN_TfLiteAbiLayout does not know {what!r}"
    return value


def _fnv1a63(name: str) -> int:
    h = 0xCBF29CE484222325
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h & 0x7FFFFFFFFFFFFFFF


def test_library_reports_the_pinned_layout(tflite_ops_library):
    got = {what: _layout(what) for what in PINNED}
    assert got == PINNED
    assert tflite._abi_layout("TfLiteTensor.no_such_field") == -1


# ---------------------------------------------------------------------------
# 1. The runtime's compiled code writes fields where we read them.


class _QuantizationParams(ctypes.Structure):
    _fields_ = [("scale", ctypes.c_float), ("zero_point", ctypes.c_int32)]


@pytest.fixture(scope="module")
def libtensorflow_cc(tflite_ops_library):
    """libtensorflow_cc.so.2, which our library links (it is loaded already;
    this only looks up symbols). Found without importing tensorflow."""
    spec = importlib.util.find_spec("tensorflow")
    path = pathlib.Path(spec.submodule_search_locations[0]) / "libtensorflow_cc.so.2"
    return ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL)


def test_runtime_tensor_reset_writes_where_we_read(libtensorflow_cc):
    lib = libtensorflow_cc
    lib.TfLiteIntArrayCreate.restype = ctypes.c_void_p
    lib.TfLiteIntArrayCreate.argtypes = [ctypes.c_int]
    lib.TfLiteTensorReset.restype = None
    lib.TfLiteTensorReset.argtypes = [
        ctypes.c_int,  # TfLiteType
        ctypes.c_char_p,  # name
        ctypes.c_void_p,  # TfLiteIntArray* dims (ownership passes to the tensor)
        _QuantizationParams,  # by value
        ctypes.c_void_p,  # char* buffer
        ctypes.c_size_t,  # bytes
        ctypes.c_int,  # TfLiteAllocationType
        ctypes.c_void_p,  # allocation
        ctypes.c_bool,  # is_variable
        ctypes.c_void_p,  # TfLiteTensor*
    ]
    lib.TfLiteTensorFree.restype = None
    lib.TfLiteTensorFree.argtypes = [ctypes.c_void_p]

    size = _layout("TfLiteTensor")
    # Zeroed (TfLiteTensorReset first frees whatever non-null pointers it
    # finds), with room past our sizeof to see whether the runtime writes there.
    storage = (ctypes.c_uint8 * (size + 256))()
    base = ctypes.addressof(storage)
    name = ctypes.c_char_p(b"abi/reset")
    dims = lib.TfLiteIntArrayCreate(3)
    data = (ctypes.c_uint8 * 16)()
    lib.TfLiteTensorReset(
        K_INT32,
        name,
        dims,
        _QuantizationParams(0.5, 3),
        ctypes.addressof(data),
        12345,
        K_MMAP_RO,
        0xA110C,
        True,
        base,
    )
    try:

        def read(field, ctype):
            return ctype.from_address(base + _layout(f"TfLiteTensor.{field}")).value

        assert read("type", ctypes.c_int) == K_INT32
        assert read("data", ctypes.c_void_p) == ctypes.addressof(data)
        assert read("dims", ctypes.c_void_p) == dims
        assert read("bytes", ctypes.c_size_t) == 12345
        assert read("allocation_type", ctypes.c_int) == K_MMAP_RO
        assert read("allocation", ctypes.c_void_p) == 0xA110C
        assert read("name", ctypes.c_void_p) == ctypes.cast(name, ctypes.c_void_p).value
        assert not any(storage[size:]), (
            "TfLiteTensorReset wrote past sizeof(TfLiteTensor) as tflite_abi.h declares it: "
            "the runtime's TfLiteTensor is larger"
        )
        assert ctypes.c_int.from_address(dims).value == 3  # TfLiteIntArray.size at 0
    finally:
        # Frees dims (and not `data`: kTfLiteMmapRo buffers are not the tensor's).
        lib.TfLiteTensorFree(base)


def test_runtime_int_array_size(libtensorflow_cc):
    lib = libtensorflow_cc
    lib.TfLiteIntArrayGetSizeInBytes.restype = ctypes.c_size_t
    lib.TfLiteIntArrayGetSizeInBytes.argtypes = [ctypes.c_int]
    header = _layout("TfLiteIntArray")
    assert _layout("TfLiteIntArray.data") == header
    for n in (0, 1, 7):
        assert lib.TfLiteIntArrayGetSizeInBytes(n) == header + 4 * n


# ---------------------------------------------------------------------------
# 2. The running interpreter, seen from inside a kernel.

PROBE_TEXTS = [b"abc", b"de"]
PROBE_INTS = np.array([11, 22, 33, 44], dtype=np.int32)


def _run_probe():
    """Runs the probe model; returns (interpreter, {tensor name: details},
    [record of node 0, record of node 1] as {field: value})."""
    interpreter = InterpreterWithCustomOps(
        custom_op_registerers=tflite._abi_probe_registerers(),
        model_content=tflite_models.abi_probe_model(),
        num_threads=1,
    )
    details = {d["name"]: d for d in interpreter.get_tensor_details()}
    interpreter.allocate_tensors()
    interpreter.set_tensor(details["probe/ints"]["index"], PROBE_INTS)
    interpreter.set_tensor(details["probe/texts"]["index"], np.array(PROBE_TEXTS))
    interpreter.invoke()
    fields = tflite._abi_probe_fields()
    records = []
    for name in ("probe/record0", "probe/record1"):
        values = interpreter.get_tensor(details[name]["index"]).tolist()
        assert len(values) == len(fields)
        records.append(dict(zip(fields, values, strict=True)))
    return interpreter, details, records


def _expected_input(details) -> dict:
    """What the probe must read for each input tensor, from the interpreter's
    own view (name, shape) and from the model's contents."""
    string_bytes = 4 * (len(PROBE_TEXTS) + 2) + sum(map(len, PROBE_TEXTS))
    const = tflite_models.PROBE_CONST
    table = {
        "probe/const_f32": (
            K_FLOAT32,
            const.nbytes,
            K_MMAP_RO,
            int(const.reshape(-1)[:1].view(np.int32)[0]),
        ),
        "probe/ints": (K_INT32, PROBE_INTS.nbytes, K_ARENA_RW, int(PROBE_INTS[0])),
        "probe/texts": (K_STRING, string_bytes, K_DYNAMIC, len(PROBE_TEXTS)),
    }
    expected = {}
    for name, (tflite_type, nbytes, allocation, first_word) in table.items():
        shape = details[name]["shape"].tolist()
        expected[name] = {
            "type": tflite_type,
            "ndims": len(shape),
            "dim0": shape[0],
            "dim1": shape[1] if len(shape) > 1 else -1,
            "bytes": nbytes,
            "allocation_type": allocation,
            "name_hash": _fnv1a63(name),
            "first_word": first_word,
        }
    return expected


def _check_probe_records(details, records, options_size: int) -> None:
    """The assertions shared by the in-process and the TensorFlow-free runs."""
    expected_inputs = _expected_input(details)
    input_order = [
        ["probe/const_f32", "probe/ints", "probe/texts"],
        ["probe/texts", "probe/ints", "probe/const_f32"],
    ]
    for node, record in enumerate(records):
        where = f"probe node {node}"
        # Tensors: context->tensors[i] with our sizeof, fields at our offsets.
        for slot, name in enumerate(input_order[node]):
            seen = {k.split(".", 1)[1]: v for k, v in record.items() if k.startswith(f"in{slot}.")}
            assert seen == expected_inputs[name], (
                f"{where} read input {slot} ({name}) through tflite_abi.h as {seen}, but the "
                f"interpreter holds {expected_inputs[name]}: TfLiteTensor layout drift?"
            )
        assert record["context_tensors_size"] == len(details), (
            f"{where}: TfLiteContext.tensors_size"
        )
        # Node: index lists, user data, custom options.
        assert (record["node_inputs_size"], record["node_outputs_size"]) == (3, 1), where
        assert (record["node_intermediates_size"], record["node_temporaries_size"]) == (0, 0), where
        assert record["init_length"] == options_size, f"{where}: init() got the wrong length"
        assert record["node_custom_data_ok"] == 1, f"{where}: TfLiteNode.custom_initial_data"
        assert record["node_custom_data_size"] == options_size, where
        assert record["node_builtin_data_null"] == 1, f"{where}: TfLiteNode.builtin_data"
        # Registration: callbacks called in their roles, fields the resolver
        # wrote read back at our offsets.
        assert (record["prepare_calls"], record["invoke_calls"]) == (1, 1), where
        assert record["reg_found"] == 1, "MutableOpResolver::FindOp did not find the probe"
        assert record["reg_custom_name_ok"] == 1, "TfLiteRegistration.custom_name moved"
        assert record["reg_version"] == 1, "TfLiteRegistration.version moved"
        assert record["reg_builtin_code"] == BUILTIN_OPERATOR_CUSTOM, "builtin_code moved"
        assert record["reg_callbacks_ok"] == 1, "init/free/prepare/invoke moved"
        assert record["sizeof_tensor"] == _layout("TfLiteTensor")
    # The interpreter keeps its nodes in a vector of (TfLiteNode,
    # TfLiteRegistration) pairs, so consecutive nodes lie sizeof(node) +
    # sizeof(registration) apart. (If TFLite ever stores nodes differently,
    # this fails too: re-check the struct sizes by hand, then update this.)
    stride = records[1]["node_address"] - records[0]["node_address"]
    assert stride == _layout("TfLiteNode") + _layout("TfLiteRegistration"), (
        f"nodes are {stride} bytes apart in the interpreter; tflite_abi.h says "
        f"{_layout('TfLiteNode')} + {_layout('TfLiteRegistration')}"
    )


def test_probe_sees_what_the_interpreter_reports(tflite_ops_library):
    _, details, records = _run_probe()
    _check_probe_records(details, records, len(tflite_models.PROBE_OPTIONS))


def test_probe_checks_can_fail(tflite_ops_library):
    """The comparison is not vacuous: a record read at a wrong offset fails."""
    _, details, records = _run_probe()
    shifted = [dict(r) for r in records]
    shifted[0]["in1.bytes"] = shifted[0]["in1.bytes"] + 8
    with pytest.raises(AssertionError, match="TfLiteTensor layout drift"):
        _check_probe_records(details, shifted, len(tflite_models.PROBE_OPTIONS))


def test_free_is_called_for_every_init(tflite_ops_library):
    live = tflite._abi_probe_live_states
    before = live()
    interpreter, _, _ = _run_probe()
    assert live() == before + 2  # One state per probe node.
    del interpreter
    gc.collect()
    assert live() == before, "TfLiteRegistration.free was not called (or called with garbage)"


def test_report_error_formats_through_our_context(tflite_ops_library):
    """ReportError is reached at our offset with printf-style arguments intact."""
    model = tflite_models.projection_model(options=tflite_models.projection_options(feature_size=7))
    interpreter = tflite.Interpreter(model_content=model)
    with pytest.raises(RuntimeError, match=r"PQRNN>SequenceStringProjection: feature_size .*got 7"):
        interpreter.allocate_tensors()


# ---------------------------------------------------------------------------
# Every listed op is registered, and the registration is what resolves it.


def _model_with_op(op_name: str) -> bytes:
    model = schema.ModelT.InitFromPackedBuf(tflite_models.projection_model(feature_size=16), 0)
    model.operatorCodes[0].customCode = op_name
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_every_listed_op_resolves(tflite_ops_library):
    names = tflite.custom_op_names()
    assert "PQRNN>SequenceStringProjection" in names
    assert len(set(names)) == len(names)
    for name in names:
        assert name.startswith("PQRNN>"), name
        interpreter = tflite.Interpreter(model_content=_model_with_op(name))
        try:
            interpreter.allocate_tensors()  # May fail in Prepare (wrong tensors), but not unresolved.
        except RuntimeError as e:
            assert "unresolved" not in str(e).lower(), f"{name} is listed but not registered: {e}"
    # Control: an op that is not registered is reported as such.
    with pytest.raises((RuntimeError, ValueError), match="(?i)unresolved"):
        tflite.Interpreter(model_content=_model_with_op("PQRNN>NoSuchOp")).allocate_tensors()


# ---------------------------------------------------------------------------
# 3. A process that never imports TensorFlow.

_NO_TF_WORKER = textwrap.dedent(
    r"""
    import json, sys
    import numpy as np
    from pqrnn import tflite
    from tests import test_tflite_abi as t, tflite_models

    result = {}
    interpreter = tflite.Interpreter(model_path=sys.argv[1])
    runner = interpreter.get_signature_runner()
    out = runner(text=np.array([b"hello world", b"x", "नमस्ते दुनिया".encode()]))
    np.savez(sys.argv[2], **out)
    _, details, records = t._run_probe()
    t._check_probe_records(details, records, len(tflite_models.PROBE_OPTIONS))
    import numpy.random  # RTLD_GLOBAL loading of libtensorflow_cc broke this.
    numpy.random.default_rng(0).random(3)
    result["tensorflow_imported"] = sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")
    print(json.dumps(result))
    """
)


@pytest.mark.slow
def test_runs_in_a_process_without_tensorflow(tmp_path, tflite_ops_library):
    model_path = tmp_path / "projection.tflite"
    model_path.write_bytes(tflite_models.projection_model(feature_size=32, add_eos_tag=True))
    out_path = tmp_path / "out.npz"
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", _NO_TF_WORKER, str(model_path), str(out_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["tensorflow_imported"] == []

    # Same bits as this process (which may have imported TensorFlow).
    interpreter = tflite.Interpreter(model_path=model_path)
    here = interpreter.get_signature_runner()(
        text=np.array([b"hello world", b"x", "नमस्ते दुनिया".encode()])
    )
    there = np.load(out_path)
    assert sorted(there.files) == sorted(here)
    for key in here:
        assert np.array_equal(there[key].view(np.uint32), here[key].view(np.uint32)), key
