"""Tests of the baselines: BiLSTM and transformer on word embeddings."""

import dataclasses

import numpy as np
import pytest
import tf_keras as keras

from pqrnn.models import (
    BiLSTMConfig,
    TransformerConfig,
    build_bilstm_model,
    build_transformer_model,
    build_vocabulary,
    count_params,
    vocab_size_for_budget,
)
from pqrnn.models.losses import masked_sparse_ce

VOCABULARY = ["play", "some", "music", "call", "mom"]
TOKENS = np.array(
    [["play", "some", "music", "now"], ["call", "mom", "", ""], ["stop", "", "", ""]], dtype=object
)
LENGTHS = np.array([4, 2, 1], np.int32)
CASES = [
    (build_bilstm_model, BiLSTMConfig(embedding_dim=8, lstm_units=4, max_vocab_size=4)),
    (
        build_transformer_model,
        TransformerConfig(
            hidden_size=8, num_heads=2, intermediate_size=16, max_length=10, max_vocab_size=4
        ),
    ),
]


@pytest.mark.parametrize(("build", "config"), CASES)
def test_outputs_and_vocabulary_cap(build, config):
    model = build(config, VOCABULARY, 3, 5)
    outputs = model({"tokens": TOKENS, "sequence_length": LENGTHS})
    assert outputs["intent"].shape == (3, 3) and outputs["slots"].shape == (3, 4, 5)
    # max_vocab_size words plus one OOV row.
    assert model.get_layer("embedding").input_dim == 5


@pytest.mark.parametrize(("build", "config"), CASES)
def test_padding_invariance(build, config):
    model = build(config, VOCABULARY, 3, 5)
    rng = np.random.default_rng(5)

    def call(tokens, lengths):
        return model({"tokens": tokens, "sequence_length": lengths})["intent"]

    # Garbage in padding: random words, known or not.
    padded = TOKENS.copy()
    for b, length in enumerate(LENGTHS):
        padded[b, length:] = rng.choice(VOCABULARY + ["zzz"], size=4 - length)
    longer = np.concatenate([padded, np.full((3, 3), "music", dtype=object)], axis=1)
    np.testing.assert_allclose(call(padded, LENGTHS), call(TOKENS, LENGTHS), atol=1e-5)
    np.testing.assert_allclose(call(longer, LENGTHS), call(TOKENS, LENGTHS), atol=1e-5)
    slots = model({"tokens": longer, "sequence_length": LENGTHS})["slots"].numpy()[:, :4]
    reference = model({"tokens": TOKENS, "sequence_length": LENGTHS})["slots"].numpy()
    real = np.arange(4)[None, :] < LENGTHS[:, None]
    np.testing.assert_allclose(slots[real], reference[real], atol=1e-5)


@pytest.mark.parametrize(("build", "config"), CASES)
def test_fit_one_step_and_round_trip(build, config):
    model = build(config, VOCABULARY, 3, 5)
    model.compile(
        optimizer="adam",
        loss={
            "intent": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "slots": masked_sparse_ce,
        },
    )
    labels = {"intent": np.array([0, 1, 2]), "slots": np.where(TOKENS == "", -1, 1)}
    inputs = {"tokens": TOKENS, "sequence_length": LENGTHS}
    history = model.fit(inputs, labels, batch_size=3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs)["slots"], model(inputs)["slots"], atol=1e-6)


def test_vocab_size_for_budget():
    # The BiLSTM builds slowly; test_default_baselines_... covers its sizing.
    build, config = CASES[1]
    budget = 2_000
    words = vocab_size_for_budget(build, config, budget, 3, 5)
    sized = dataclasses.replace(config, max_vocab_size=words)
    vocabulary = [f"w{i}" for i in range(words + 1)]
    assert count_params(build(sized, vocabulary, 3, 5)) <= budget
    bigger = dataclasses.replace(config, max_vocab_size=words + 1)
    assert count_params(build(bigger, vocabulary, 3, 5)) > budget
    with pytest.raises(ValueError, match="no room"):
        vocab_size_for_budget(build, config, 10, 3, 5)


def test_build_vocabulary():
    token_lists = [["b", "a", ""], ["a", "c"], ["b", "a"]]
    assert build_vocabulary(token_lists) == ["a", "b", "c"]
    assert build_vocabulary(token_lists, max_size=2) == ["a", "b"]
    assert build_vocabulary(token_lists, min_count=2) == ["a", "b"]


def test_default_baselines_match_the_default_pqrnn_size():
    defaults = [
        (build_bilstm_model, BiLSTMConfig()),
        (build_transformer_model, TransformerConfig()),
    ]
    for build, config in defaults:
        vocabulary = [f"w{i}" for i in range(config.max_vocab_size)]
        size = count_params(build(config, vocabulary, 113, 149))
        assert 489_830 - 100 <= size <= 489_830, (type(config).__name__, size)


def test_empty_vocabulary_is_an_error():
    with pytest.raises(ValueError, match="vocabulary is empty"):
        build_bilstm_model(BiLSTMConfig(), [], 3, 5)
