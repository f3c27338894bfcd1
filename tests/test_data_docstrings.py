"""The Examples in the docstrings of the data modules run as written."""

import doctest
import importlib

import pytest

MODULES = ["pqrnn.data.tokenizer", "pqrnn.data.catalog", "pqrnn.data.mtop", "pqrnn.data.vocab"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0, f"{name} has no docstring example"
    assert results.failed == 0
