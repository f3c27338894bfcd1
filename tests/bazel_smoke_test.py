"""Bazel smoke test: the Bazel-built TF op library loads and projects.

Checks the contract's check value (docs/PROJECTION.md): "hello" with
feature_size=16. Run by `bazel test //tests:bazel_smoke_test`, which points
PQRNN_LIB_DIR at the op libraries Bazel built (tests/BUILD); also runs under
plain pytest against pqrnn/lib/.
"""

import os
import pathlib
import unittest

HELLO_FEATURES = [0, 1, 1, 0, 1, 0, 0, 0, 0, -1, 0, 1, 1, 1, 0, 1]

# Under `bazel test` the working directory is the runfiles tree, and
# PQRNN_LIB_DIR is relative to it; make it absolute before anything loads.
if os.environ.get("PQRNN_LIB_DIR"):
    os.environ["PQRNN_LIB_DIR"] = os.path.abspath(os.environ["PQRNN_LIB_DIR"])

from pqrnn import _lib, ops  # noqa: E402


class BazelSmokeTest(unittest.TestCase):
    def test_uses_library_from_pqrnn_lib_dir(self):
        lib_dir = os.environ.get("PQRNN_LIB_DIR")
        if not lib_dir:
            self.skipTest("PQRNN_LIB_DIR not set (not running under Bazel)")
        path = _lib.library_path(_lib.TF_OPS_LIBRARY)
        self.assertEqual(path.parent, pathlib.Path(lib_dir))
        self.assertTrue((path.parent / _lib.TFLITE_OPS_LIBRARY).is_file())

    def test_hello_check_value(self):
        projection, lengths = ops.sequence_string_projection(["hello"], feature_size=16)
        self.assertEqual(lengths.numpy().tolist(), [1])
        self.assertEqual(projection.numpy()[0, 0].tolist(), HELLO_FEATURES)


if __name__ == "__main__":
    unittest.main()
