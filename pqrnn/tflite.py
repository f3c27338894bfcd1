"""Runs pqrnn `.tflite` models: the LiteRT interpreter with pqrnn's custom ops.

pqrnn models carry custom ops (`PQRNN>SequenceStringProjection`) that the
stock interpreter does not know. This module loads their kernels from
`_pqrnn_tflite_ops.so` (built by `make ops` into pqrnn/lib/, or found in
`$PQRNN_LIB_DIR`) and registers them. It does not import TensorFlow, so it
works in a lean process with only ai-edge-litert and numpy installed.

Example:
    >>> import numpy as np
    >>> from pqrnn import tflite
    >>> interpreter = tflite.Interpreter(model_path="model.tflite")
    >>> runner = interpreter.get_signature_runner()
    >>> outputs = runner(text=np.array([b"call mom"]))

Full-integer quantization of a model with pqrnn ops needs the kernels during
calibration:
    >>> converter.target_spec._experimental_custom_op_registerers = (
    ...     tflite.custom_op_registerers())
"""

from __future__ import annotations

import ctypes
import functools
import os
import pathlib
from collections.abc import Callable

from pqrnn import _lib

__all__ = [
    "Interpreter",
    "custom_op_names",
    "custom_op_registerers",
    "library_path",
]


def library_path() -> pathlib.Path:
    """Path of the TFLite kernels library; raises OpLibraryNotFoundError with
    the fix (`make ops`) when it has not been built."""
    return _lib.library_path(_lib.TFLITE_OPS_LIBRARY)


@functools.cache
def _library() -> ctypes.CDLL:
    """Loads the kernels library once, with its C signatures declared."""
    # RTLD_LOCAL on purpose: the library depends on libtensorflow_cc.so.2 (for
    # tflite::MutableOpResolver::AddCustom). Loaded RTLD_GLOBAL, that 1 GB
    # library's symbols would interpose on later extension modules (it broke
    # `import numpy.random` here). Registerers are therefore handed to the
    # runtime as callables, never as symbol names, which it would look up
    # globally.
    lib = ctypes.CDLL(str(library_path()), mode=ctypes.RTLD_LOCAL)
    lib.PQRNN_RegisterTfLiteOps.argtypes = [ctypes.c_void_p]
    lib.PQRNN_RegisterTfLiteOps.restype = None
    lib.PQRNN_RegisterTfLiteAbiProbe.argtypes = [ctypes.c_void_p]
    lib.PQRNN_RegisterTfLiteAbiProbe.restype = None
    lib.PQRNN_TfLiteOpNames.argtypes = []
    lib.PQRNN_TfLiteOpNames.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.PQRNN_TfLiteAbiProbeFields.argtypes = []
    lib.PQRNN_TfLiteAbiProbeFields.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.PQRNN_TfLiteAbiProbeLiveStates.argtypes = []
    lib.PQRNN_TfLiteAbiProbeLiveStates.restype = ctypes.c_int64
    lib.PQRNN_TfLiteAbiLayout.argtypes = [ctypes.c_char_p]
    lib.PQRNN_TfLiteAbiLayout.restype = ctypes.c_int64
    return lib


def _string_list(array) -> list[str]:
    names = []
    i = 0
    while array[i] is not None:
        names.append(array[i].decode("utf-8"))
        i += 1
    return names


def custom_op_names() -> list[str]:
    """Names of every custom op `custom_op_registerers()` registers, e.g.
    ["PQRNN>SequenceStringProjection"]."""
    return _string_list(_library().PQRNN_TfLiteOpNames())


def custom_op_registerers() -> list[Callable[[int], None]]:
    """Registerers of every pqrnn TFLite op, in the form LiteRT accepts.

    Each is a callable taking the address of a `tflite::MutableOpResolver`
    (as an int). Pass the list as `custom_op_registerers` to
    `ai_edge_litert.interpreter.InterpreterWithCustomOps`, or to
    `converter.target_spec._experimental_custom_op_registerers` so that
    full-integer calibration can run the ops. (Symbol names, the other form
    those APIs accept, would need the library loaded RTLD_GLOBAL; see
    `_library`.)
    """
    return [_library().PQRNN_RegisterTfLiteOps]


# A factory, named like the class it returns (as tf.lite.Interpreter is used).
def Interpreter(
    model_path: str | os.PathLike | None = None,
    model_content: bytes | None = None,
    num_threads: int = 1,
    **kwargs,
):
    """Creates a LiteRT interpreter with every pqrnn custom op registered.

    Args:
      model_path: path of a `.tflite` file (exactly one of model_path and
        model_content).
      model_content: the model's bytes.
      num_threads: CPU threads for the interpreter.
      **kwargs: forwarded to `InterpreterWithCustomOps` (e.g.
        experimental_delegates).

    Returns:
      An `ai_edge_litert.interpreter.InterpreterWithCustomOps`; call
      `allocate_tensors()` or `get_signature_runner()` as usual.

    Raises:
      pqrnn._lib.OpLibraryNotFoundError: the kernels are not built (run
        `make ops`).
      FileNotFoundError: model_path does not exist.
      ValueError: not exactly one of model_path / model_content, or the model
        is not a valid TFLite flatbuffer (the message names the file).
    """
    if (model_path is None) == (model_content is None):
        raise ValueError("pass exactly one of model_path and model_content")
    registerers = custom_op_registerers()
    if model_path is not None:
        path = pathlib.Path(os.fspath(model_path))
        if not path.is_file():
            raise FileNotFoundError(f"TFLite model {path} not found")
        content = path.read_bytes()
        source = str(path)
    else:
        content = bytes(model_content)
        source = "model_content"
    _check_flatbuffer(content, source)
    try:
        # Always from bytes: the bytes checked are the bytes run (a file
        # could change between the check and an mmap).
        return _interpreter_class()(
            custom_op_registerers=registerers,
            model_content=content,
            num_threads=num_threads,
            **kwargs,
        )
    except (ValueError, RuntimeError) as e:
        raise ValueError(f"{source}: cannot load TFLite model: {e}") from e


@functools.cache
def _interpreter_class():
    """InterpreterWithCustomOps that can read zero-size outputs.

    LiteRT's get_tensor() raises "Invalid tensor size." for a dynamic output
    with no elements (a batch whose strings hold no tokens gives a projection
    of shape [B, 0, F]); the kernel defines that shape, so return an empty
    array of it instead.
    """
    import numpy as np
    from ai_edge_litert.interpreter import InterpreterWithCustomOps

    class PqrnnInterpreter(InterpreterWithCustomOps):
        def get_tensor(self, tensor_index, subgraph_index=0):
            details = self._get_tensor_details(tensor_index, subgraph_index)
            if 0 in details["shape"]:
                return np.zeros(details["shape"], dtype=details["dtype"])
            return super().get_tensor(tensor_index, subgraph_index)

    return PqrnnInterpreter


class _BoundsCheckedBytes(bytes):
    """bytes whose slices fail past the end, instead of coming back short.

    The flatbuffers reader loads scalars with struct.unpack_from and vectors
    with np.frombuffer, which both fail out of bounds, and strings (its only
    slices) with a slice, which would silently come back short. A string must
    also keep the NUL terminator the C++ runtime relies on.
    """

    def __getitem__(self, key):
        if isinstance(key, slice) and key.stop is not None:
            if key.stop >= len(self) or super().__getitem__(key.stop) != 0:
                raise IndexError(
                    f"string at bytes [{key.start}, {key.stop}) is cut off or not "
                    f"NUL-terminated ({len(self)}-byte buffer)"
                )
        return super().__getitem__(key)


def _check_flatbuffer(content: bytes, source: str) -> None:
    """Rejects bytes that are not a complete TFLite flatbuffer.

    The runtime only checks the file identifier before reading the model, so
    a truncated or corrupted file can make it read out of bounds. Python's
    flatbuffers reader is bounds-checked: unpacking the whole model tree
    (every table, vector and string the interpreter will read) fails cleanly
    instead.
    """
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ValueError(
            f"{source}: not a TFLite model (no 'TFL3' identifier in {len(content)} bytes)"
        )
    from ai_edge_litert import schema_py_generated as schema

    try:
        model = schema.ModelT.InitFromPackedBuf(_BoundsCheckedBytes(content), 0)
    except Exception as e:  # struct.error, IndexError, ...: all mean corrupt.
        raise ValueError(
            f"{source}: corrupt or truncated TFLite model ({len(content)} bytes): "
            f"{type(e).__name__}: {e}"
        ) from e
    for s, subgraph in enumerate(model.subgraphs or []):
        for t, tensor in enumerate(subgraph.tensors or []):
            try:
                (tensor.name or b"").decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"{source}: corrupt TFLite model: tensor {t} of subgraph {s} has a name "
                    f"that is not UTF-8 ({e})"
                ) from e
    for buffer in model.buffers or []:
        # Large models keep tensor data outside the flatbuffer, by offset.
        if buffer.offset and buffer.offset + buffer.size > len(content):
            raise ValueError(
                f"{source}: truncated TFLite model: a tensor buffer ends at byte "
                f"{buffer.offset + buffer.size} of {len(content)}"
            )


def _abi_probe_registerers() -> list[Callable[[int], None]]:
    """Registerer of the test-only PQRNN>AbiProbe op (tests/test_tflite_abi.py)."""
    return [_library().PQRNN_RegisterTfLiteAbiProbe]


def _abi_probe_fields() -> list[str]:
    """Names of the int64 fields PQRNN>AbiProbe outputs, in order."""
    return _string_list(_library().PQRNN_TfLiteAbiProbeFields())


def _abi_probe_live_states() -> int:
    """PQRNN>AbiProbe kernel states alive (init'd, not yet freed)."""
    return _library().PQRNN_TfLiteAbiProbeLiveStates()


def _abi_layout(what: str) -> int:
    """sizeof("TfLiteTensor") / offsetof("TfLiteTensor.bytes") as compiled into
    the kernels library (tflite_ops/tflite_abi.h); -1 if unknown."""
    return _library().PQRNN_TfLiteAbiLayout(what.encode("ascii"))
