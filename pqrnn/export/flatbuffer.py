"""Reading and rewriting `.tflite` flatbuffers with the schema's object API.

The pieces that the model card, the float-logits rewrite and the op checks
share; ai-edge-litert's generated schema only, no TensorFlow.
"""

from __future__ import annotations


def schema():
    """ai-edge-litert's generated TFLite schema module."""
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def read(tflite_model: bytes):
    """The whole model as mutable objects (`ModelT`)."""
    return schema().ModelT.InitFromPackedBuf(tflite_model, 0)


def write(model, size_hint: int = 0) -> bytes:
    """Serializes a `ModelT`, with the "TFL3" file identifier."""
    import flatbuffers

    builder = flatbuffers.Builder(size_hint + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def text(value) -> str:
    """A flatbuffer string (bytes, or None) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value or "")


def builtin_code(code) -> int:
    """An OperatorCode's builtin operator (codes >= 127 live in `builtinCode`)."""
    return max(code.builtinCode, code.deprecatedBuiltinCode)
