"""Entry point of the Bazel py_tests that run pytest files (tests/BUILD).

Makes PQRNN_LIB_DIR (set relative to the runfiles tree by tests/BUILD)
absolute, so the tests load the op libraries Bazel built, then runs pytest on
the files given as arguments.
"""

import os
import sys

import pytest

if __name__ == "__main__":
    if os.environ.get("PQRNN_LIB_DIR"):
        os.environ["PQRNN_LIB_DIR"] = os.path.abspath(os.environ["PQRNN_LIB_DIR"])
    # The runfiles tree is read-only in spirit: no .pytest_cache there.
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
