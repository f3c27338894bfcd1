"""The Examples in the docstrings of pqrnn.distill run as written."""

import doctest
import importlib

import pytest

MODULES = [
    "pqrnn.distill.augment",
    "pqrnn.distill.char_bilstm",
    "pqrnn.distill.logits_io",
    "pqrnn.distill.losses",
    "pqrnn.distill.transfer_set",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0, f"{name} has no docstring example"
    assert results.failed == 0
