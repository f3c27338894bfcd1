"""Float logits for int8 files: the classifiers compute in float with float16 weights.

A full-integer file requantizes each classifier's logits to int8 before the
final DEQUANTIZE: one step is ~0.1-0.13 of a logit on the MTOP pQRNN, and
every near-tie between the two best slot tags or intents below that step is
settled by rounding. Measured on MTOP test (docs/EXPORT.md, "Float logits"),
that rounding was a third of the file's exact-match loss against float.

With `float_logits`, the exporter leaves the FULLY_CONNECTED ops that produce
the model's outputs out of int8 (the converter's `denylisted_nodes`, the path
`tf.lite.experimental.QuantizationDebugger` uses) and then stores their
weights as float16 here, behind a DEQUANTIZE op (the layout of TFLite's own
float16 quantization, which XNNPACK folds into the weights when it prepares
the graph). They are the two smallest matrices of the model (~34K weights
on MTOP): 2 bytes each instead of int8's 1.

Hybrid ops were tried first (int8 weights, float logits: the same accuracy
at int8's size) and dropped: with XNNPACK the file ran twice as slow in a
process of its own (MTOP pQRNN p50 ~100 µs against ~50 µs all-int8, while
float32-weight classifiers measured ~56 µs; docs/EXPORT.md).

This module edits the flatbuffer with the schema's object API
(`pqrnn.export.flatbuffer`) and knows nothing of TensorFlow:

    names = output_fully_connected(calibrated)     # which ops
    content = float16_weights(quantized, names)    # after quantization
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pqrnn.export import flatbuffer

# DEQUANTIZE of a float16 tensor (TFLite's op versioning: version 3).
DEQUANTIZE_FLOAT16_VERSION = 3


def output_fully_connected(tflite_model: bytes) -> list[str]:
    """Names of the main subgraph's outputs that a FULLY_CONNECTED op writes."""
    schema = flatbuffer.schema()
    model = flatbuffer.read(tflite_model)
    graph = model.subgraphs[0]
    outputs = set(int(i) for i in graph.outputs)
    names = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if flatbuffer.builtin_code(code) != schema.BuiltinOperator.FULLY_CONNECTED:
            continue
        for index in op.outputs:
            if int(index) in outputs:
                names.append(flatbuffer.text(graph.tensors[index].name))
    return names


def float16_weights(tflite_model: bytes, output_names: Iterable[str]) -> bytes:
    """Stores the float32 weights of the named FULLY_CONNECTED ops as float16.

    Each op's weights become a float16 constant read through a new
    DEQUANTIZE op (float16 -> float32) placed just before it.

    Args:
      tflite_model: an int8 file in which those ops were left float
        (float32 input, weights and output).
      output_names: the ops' output tensor names (`output_fully_connected`).

    Returns:
      The new flatbuffer.

    Raises:
      ValueError: a name is not the output of a FULLY_CONNECTED op with
        constant float32 weights.
    """
    schema = flatbuffer.schema()
    wanted = set(output_names)
    model = flatbuffer.read(tflite_model)
    graph = model.subgraphs[0]
    dequantize_code = None
    operators = []
    done = set()
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = flatbuffer.text(graph.tensors[op.outputs[0]].name) if len(op.outputs) else ""
        if (
            flatbuffer.builtin_code(code) != schema.BuiltinOperator.FULLY_CONNECTED
            or name not in wanted
        ):
            operators.append(op)
            continue
        weights = graph.tensors[op.inputs[1]]
        buffer = model.buffers[weights.buffer]
        if weights.type != schema.TensorType.FLOAT32 or buffer.data is None or not len(buffer.data):
            raise ValueError(f"{name}: weights are not constant float32 (type {weights.type})")
        values = np.frombuffer(bytes(bytearray(buffer.data)), np.float32)
        half = schema.BufferT()
        half.data = np.frombuffer(values.astype(np.float16).tobytes(), np.uint8)
        model.buffers.append(half)
        constant = schema.TensorT()
        constant.shape = list(weights.shape)
        constant.type = schema.TensorType.FLOAT16
        constant.buffer = len(model.buffers) - 1
        constant.name = flatbuffer.text(weights.name).encode("utf-8") + b"/float16"
        graph.tensors.append(constant)
        buffer.data = None  # the float32 weights are now computed by the DEQUANTIZE
        if dequantize_code is None:
            entry = schema.OperatorCodeT()
            entry.builtinCode = schema.BuiltinOperator.DEQUANTIZE
            entry.deprecatedBuiltinCode = schema.BuiltinOperator.DEQUANTIZE
            entry.version = DEQUANTIZE_FLOAT16_VERSION
            model.operatorCodes.append(entry)
            dequantize_code = len(model.operatorCodes) - 1
        dequantize = schema.OperatorT()
        dequantize.opcodeIndex = dequantize_code
        dequantize.inputs = [len(graph.tensors) - 1]
        dequantize.outputs = [int(op.inputs[1])]
        operators.extend([dequantize, op])
        done.add(name)
    missing = wanted - done
    if missing:
        raise ValueError(f"no float FULLY_CONNECTED op writes {sorted(missing)}")
    graph.operators = operators
    return flatbuffer.write(model, len(tflite_model))
