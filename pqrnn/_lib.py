"""Locates pqrnn's compiled op libraries.

They are built by `make ops` into pqrnn/lib/ (or by Bazel); the environment
variable PQRNN_LIB_DIR points elsewhere (Bazel runfiles, a custom build).
"""

from __future__ import annotations

import os
import pathlib

TF_OPS_LIBRARY = "_pqrnn_tf_ops.so"
TFLITE_OPS_LIBRARY = "_pqrnn_tflite_ops.so"


class OpLibraryNotFoundError(FileNotFoundError):
    """A compiled pqrnn op library is missing."""


def library_path(name: str) -> pathlib.Path:
    """Returns the path of the compiled library `name`, or raises with a fix."""
    override = os.environ.get("PQRNN_LIB_DIR")
    directory = pathlib.Path(override) if override else pathlib.Path(__file__).parent / "lib"
    path = directory / name
    if not path.is_file():
        where = "PQRNN_LIB_DIR" if override else "the package"
        raise OpLibraryNotFoundError(
            f"pqrnn op library {path} not found (looked in {where}). "
            "Build it with `make ops` from the repository root (or `bazel build //...` "
            "and set PQRNN_LIB_DIR)."
        )
    return path
