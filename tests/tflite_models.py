"""Tiny `.tflite` models built by hand, without TensorFlow.

Tests use them where a converted model would drag TensorFlow into a process
that must not import it, or where they need a graph the converter cannot
produce (the ABI probe op, malformed custom options).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

PROJECTION_OP = "PQRNN>SequenceStringProjection"
ABI_PROBE_OP = "PQRNN>AbiProbe"

# The TF op's attributes and defaults (tflite_ops/tf_kernel.cc REGISTER_OP).
PROJECTION_DEFAULTS = dict(
    max_seq_len=0,
    add_bos_tag=False,
    add_eos_tag=False,
    word_novelty_bits=0,
    doc_size_levels=0,
    distortion_probability=0.0,
    lowercase=False,
    seed=0,
    char_ngram_size=0,
    char_ngram_sqrt=False,
)


def projection_options(**attrs) -> bytes:
    """The op's custom options as the converter writes them: a flexbuffer map
    of every attribute (defaults filled in)."""
    return bytes(flexbuffers.Dumps({**PROJECTION_DEFAULTS, **attrs}))


def _tensor(name, tensor_type, shape, shape_signature=None, buffer=0):
    t = schema.TensorT()
    t.name = name
    t.type = tensor_type
    t.shape = list(shape)
    if shape_signature is not None:
        t.shapeSignature = list(shape_signature)
    t.buffer = buffer
    return t


def _custom_op(opcode_index, inputs, outputs, options: bytes):
    op = schema.OperatorT()
    op.opcodeIndex = opcode_index
    op.inputs = list(inputs)
    op.outputs = list(outputs)
    op.customOptions = list(options)
    op.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
    return op


def _opcode(custom_code):
    code = schema.OperatorCodeT()
    code.builtinCode = schema.BuiltinOperator.CUSTOM
    code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = custom_code
    code.version = 1
    return code


def _signature(subgraph, key="serving_default"):
    def tensor_map(index):
        m = schema.TensorMapT()
        m.name = subgraph.tensors[index].name
        m.tensorIndex = index
        return m

    sig = schema.SignatureDefT()
    sig.signatureKey = key
    sig.subgraphIndex = 0
    sig.inputs = [tensor_map(i) for i in subgraph.inputs]
    sig.outputs = [tensor_map(i) for i in subgraph.outputs]
    return sig


def _pack(opcodes, subgraph, buffers) -> bytes:
    model = schema.ModelT()
    model.version = 3
    model.description = "pqrnn test model"
    model.operatorCodes = opcodes
    model.subgraphs = [subgraph]
    model.buffers = buffers
    model.signatureDefs = [_signature(subgraph)]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def projection_model(options: bytes | None = None, feature_size: int = 16, **attrs) -> bytes:
    """A model that is just the projection op: input "text" [B] string ->
    "projection" [B, T, F] float32, "sequence_length" [B] int32.

    `options` overrides the custom options bytes (to test malformed ones).
    """
    if options is None:
        options = projection_options(feature_size=feature_size, **attrs)
    sg = schema.SubGraphT()
    sg.name = "main"
    sg.tensors = [
        _tensor("text", schema.TensorType.STRING, [1], [-1]),
        _tensor(
            "projection", schema.TensorType.FLOAT32, [1, 1, feature_size], [-1, -1, feature_size]
        ),
        _tensor("sequence_length", schema.TensorType.INT32, [1], [-1]),
    ]
    sg.inputs = [0]
    sg.outputs = [1, 2]
    sg.operators = [_custom_op(0, [0], [1, 2], options)]
    return _pack([_opcode(PROJECTION_OP)], sg, [schema.BufferT()])


# What the probe model's inputs hold (tests/test_tflite_abi.py checks that the
# probe op reads exactly this through tflite_ops/tflite_abi.h).
PROBE_CONST = np.array([[1.5, -2.0, 3.25], [0.0, 7.0, -1.0]], dtype=np.float32)
PROBE_OPTIONS = b"pqrnn-abi-probe\x00options"


def abi_probe_model() -> bytes:
    """Two PQRNN>AbiProbe nodes over three inputs of known layout:
    "probe/const_f32" float32 [2, 3] (a constant), "probe/ints" int32 [4] and
    "probe/texts" string [2] (graph inputs). Node 0 reads them in that order,
    node 1 in reverse; each writes its int64 record to "probe/record0|1"."""
    sg = schema.SubGraphT()
    sg.name = "main"
    sg.tensors = [
        _tensor("probe/const_f32", schema.TensorType.FLOAT32, [2, 3], buffer=1),
        _tensor("probe/ints", schema.TensorType.INT32, [4]),
        _tensor("probe/texts", schema.TensorType.STRING, [2]),
        _tensor("probe/record0", schema.TensorType.INT64, [1], [-1]),
        _tensor("probe/record1", schema.TensorType.INT64, [1], [-1]),
    ]
    sg.inputs = [1, 2]
    sg.outputs = [3, 4]
    sg.operators = [
        _custom_op(0, [0, 1, 2], [3], PROBE_OPTIONS),
        _custom_op(0, [2, 1, 0], [4], PROBE_OPTIONS),
    ]
    const = schema.BufferT()
    const.data = list(PROBE_CONST.tobytes())
    return _pack([_opcode(ABI_PROBE_OP)], sg, [schema.BufferT(), const])
