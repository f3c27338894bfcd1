"""The Examples in the docstrings of the layers, models and data modules run as written."""

import doctest
import importlib

import pytest

MODULES = [
    "pqrnn.layers.qrnn",
    "pqrnn.layers.pqrnn_encoder",
    "pqrnn.layers.intent_head",
    "pqrnn.layers.slot_head",
    "pqrnn.layers.bilstm_encoder",
    "pqrnn.layers.transformer_encoder",
    "pqrnn.models.joint",
    "pqrnn.models.baselines",
    "pqrnn.models.config",
    "pqrnn.models.losses",
    "pqrnn.models.metrics",
    "pqrnn.models.sizing",
    "pqrnn.models.vocabulary",
    "pqrnn.data.tokenizer",
    "pqrnn.data.catalog",
    "pqrnn.data.mtop",
    "pqrnn.data.vocab",
    "pqrnn.decoding",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0, f"{name} has no docstring example"
    assert results.failed == 0
