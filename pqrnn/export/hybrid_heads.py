"""Float logits for int8 files: the classifiers become hybrid FULLY_CONNECTED ops.

A full-integer file requantizes each classifier's logits to int8 before the
final DEQUANTIZE: one step is ~0.1-0.13 of a logit on the MTOP pQRNN, and
every near-tie between the two best slot tags or intents below that step is
settled by rounding. Measured on MTOP test (docs/EXPORT.md, "Float logits"),
that rounding was a third of the file's exact-match loss against float.

With `float_logits`, the exporter leaves the FULLY_CONNECTED ops that produce
the model's outputs out of int8 (the converter's `denylisted_nodes`, the path
`tf.lite.experimental.QuantizationDebugger` uses) and then stores their
weights as int8 here, per output channel, so that the file stays as small
as before. TFLite runs such an op as a *hybrid* FULLY_CONNECTED: it
quantizes its float input to int8 on the fly (per row), multiplies int8 by
int8 with int32 sums like every other layer, and writes float32 logits
instead of int8 ones.

This module edits the flatbuffer with the schema's object API (as
`model_card` does) and knows nothing of TensorFlow:

    names = output_fully_connected(calibrated)        # which ops
    content = int8_hybrid_weights(quantized, names)   # after quantization

The op version and the file's `min_runtime_version` follow TFLite's own
tables (tensorflow/compiler/mlir/lite/tools/versioning: FULLY_CONNECTED with
float32 input, int8 per-channel weights and float32 output is version 12,
runtime 2.17.0), so an older runtime refuses the file instead of running the
int8 weights as floats.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# FULLY_CONNECTED: float32 input, int8 per-channel weights, float32 output.
HYBRID_PER_CHANNEL_VERSION = 12
HYBRID_PER_CHANNEL_RUNTIME = "2.17.0"
MIN_RUNTIME_METADATA = "min_runtime_version"


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _builtin_code(code) -> int:
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _name(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value or "")


def output_fully_connected(tflite_model: bytes) -> list[str]:
    """Names of the main subgraph's outputs that a FULLY_CONNECTED op writes."""
    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(tflite_model, 0)
    graph = model.subgraphs[0]
    outputs = set(int(i) for i in graph.outputs)
    names = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if _builtin_code(code) != schema.BuiltinOperator.FULLY_CONNECTED:
            continue
        for index in op.outputs:
            if int(index) in outputs:
                names.append(_name(graph.tensors[index].name))
    return names


def quantize_per_channel(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output row, as TFLite's dynamic-range quantizer.

    Returns (int8 values in [-127, 127], float32 scale per row); an all-zero
    row gets scale 1 (its values are 0 either way).
    """
    weights = np.asarray(weights, np.float32)
    flat = weights.reshape(weights.shape[0], -1)
    peak = np.abs(flat).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    values = np.clip(np.round(flat / scale[:, None]), -127, 127).astype(np.int8)
    return values.reshape(weights.shape), scale


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def _raise_min_runtime(model, schema, version: str) -> None:
    for entry in model.metadata or []:
        if _name(entry.name) != MIN_RUNTIME_METADATA:
            continue
        buffer = model.buffers[entry.buffer]
        raw = bytes(bytearray(buffer.data if buffer.data is not None else []))
        current = raw.split(b"\0", 1)[0].decode("ascii", "replace")
        if _version_key(current) >= _version_key(version):
            return
        # The converter stores it NUL-padded to 16 bytes; keep that width.
        width = max(len(raw), len(version) + 1)
        buffer.data = np.frombuffer(version.encode("ascii").ljust(width, b"\0"), np.uint8)
        return


def int8_hybrid_weights(tflite_model: bytes, output_names: Iterable[str]) -> bytes:
    """Stores the float weights of the named FULLY_CONNECTED ops as int8.

    Args:
      tflite_model: an int8 file in which those ops were left float
        (float32 input, weights and output).
      output_names: the ops' output tensor names (`output_fully_connected`).

    Returns:
      The file with those ops hybrid (int8 per-channel weights, version 12).

    Raises:
      ValueError: a name is not the output of a float FULLY_CONNECTED op with
        constant weights.
    """
    import flatbuffers

    schema = _schema()
    wanted = set(output_names)
    model = schema.ModelT.InitFromPackedBuf(tflite_model, 0)
    graph = model.subgraphs[0]
    hybrid_code = None
    done = set()
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if _builtin_code(code) != schema.BuiltinOperator.FULLY_CONNECTED:
            continue
        name = _name(graph.tensors[op.outputs[0]].name)
        if name not in wanted:
            continue
        weights = graph.tensors[op.inputs[1]]
        buffer = model.buffers[weights.buffer]
        if weights.type != schema.TensorType.FLOAT32 or buffer.data is None:
            raise ValueError(f"{name}: weights are not constant float32 (type {weights.type})")
        shape = tuple(int(d) for d in weights.shape)
        values, scale = quantize_per_channel(
            np.frombuffer(bytes(bytearray(buffer.data)), np.float32).reshape(shape)
        )
        buffer.data = np.frombuffer(values.tobytes(), np.uint8)
        weights.type = schema.TensorType.INT8
        params = schema.QuantizationParametersT()
        params.scale = [float(s) for s in scale]
        params.zeroPoint = [0] * len(scale)
        params.quantizedDimension = 0
        weights.quantization = params
        if hybrid_code is None:
            entry = schema.OperatorCodeT()
            entry.builtinCode = schema.BuiltinOperator.FULLY_CONNECTED
            entry.deprecatedBuiltinCode = min(
                schema.BuiltinOperator.FULLY_CONNECTED,
                schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES,
            )
            entry.version = HYBRID_PER_CHANNEL_VERSION
            model.operatorCodes.append(entry)
            hybrid_code = len(model.operatorCodes) - 1
        op.opcodeIndex = hybrid_code
        done.add(name)
    missing = wanted - done
    if missing:
        raise ValueError(f"no float FULLY_CONNECTED op writes {sorted(missing)}")
    _raise_min_runtime(model, schema, HYBRID_PER_CHANNEL_RUNTIME)
    builder = flatbuffers.Builder(len(tflite_model) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
