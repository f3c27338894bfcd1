"""Shared pytest fixtures: where the real data is, and whether the op
libraries are built."""

from __future__ import annotations

import os
import pathlib

import pytest

# Before any test module imports TensorFlow: pqrnn pins tf_keras (Keras 2)
# through TF_USE_LEGACY_KERAS, which TensorFlow reads at import time. With
# this here, import order inside test modules does not matter.
import pqrnn  # noqa: F401, E402

REPO = pathlib.Path(__file__).resolve().parents[1]


def shared_data_root() -> pathlib.Path | None:
    """$PQRNN_SHARED_DATA, else <repo>/../shared/data; None if absent."""
    root = pathlib.Path(os.environ.get("PQRNN_SHARED_DATA") or REPO.parent / "shared" / "data")
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The real-data folder (../shared/data/README.md); skips the test if absent."""
    root = shared_data_root()
    if root is None:
        pytest.skip("real data not found: set PQRNN_SHARED_DATA or put it at <repo>/../shared/data")
    return root


@pytest.fixture(scope="session")
def tflite_ops_library() -> pathlib.Path:
    """Path of the built TFLite kernels; fails (not skips) with the fix if missing:
    a missing library is a broken build, not an optional feature."""
    from pqrnn import _lib

    try:
        return _lib.library_path(_lib.TFLITE_OPS_LIBRARY)
    except _lib.OpLibraryNotFoundError as e:
        pytest.fail(str(e))
