"""Tests of pqrnn.data.vocab."""

import json

import pytest

from pqrnn.data import UNKNOWN_LABEL, Example, LabelVocab, LabelVocabs, UnknownLabelError

EXAMPLES = [
    Example("1", "en", ("fly", "to", "rome"), ("O", "O", "B-city"), "flight"),
    Example("2", "en", ("at", "noon"), ("I-time", "I-time"), "alarm"),
    Example("3", "de", ("nach", "rom"), ("O", "B-city"), "flight"),
]


def test_build_is_sorted_deterministic_with_o_first():
    vocabs = LabelVocabs.build(EXAMPLES)
    assert vocabs.intents.labels == ("alarm", "flight", UNKNOWN_LABEL)
    # Both B- and I- for every slot type seen, even if only one was.
    assert vocabs.tags.labels == ("O", "B-city", "I-city", "B-time", "I-time", UNKNOWN_LABEL)
    assert vocabs == LabelVocabs.build(list(reversed(EXAMPLES)))
    assert vocabs.tags.id("O") == 0


def test_unknown_labels_map_to_reserved_id_or_raise():
    vocab = LabelVocab(["a", "b"], name="intents")
    assert vocab.size == len(vocab) == 3 and vocab.unknown_id == 2
    assert vocab.encode(["b", "zzz", "a"]) == [1, 2, 0]
    assert vocab.id(UNKNOWN_LABEL) == 2
    assert "zzz" not in vocab and UNKNOWN_LABEL not in vocab and "a" in vocab
    with pytest.raises(UnknownLabelError, match="'zzz' is not in the intents vocabulary"):
        vocab.id("zzz", strict=True)
    assert vocab.decode([0, 2]) == ["a", UNKNOWN_LABEL]


def test_invalid_vocabularies():
    with pytest.raises(ValueError, match="duplicate"):
        LabelVocab(["a", "a"])
    with pytest.raises(ValueError, match="reserved"):
        LabelVocab(["a", UNKNOWN_LABEL])
    with pytest.raises(ValueError, match="expected a pqrnn.LabelVocab"):
        LabelVocab.from_json({"labels": ["a"]})


def test_save_and_load(tmp_path):
    vocabs = LabelVocabs.build(EXAMPLES)
    vocabs.save(tmp_path / "vocabs.json")
    assert LabelVocabs.load(tmp_path / "vocabs.json") == vocabs
    vocabs.tags.save(tmp_path / "tags.json")
    assert LabelVocab.load(tmp_path / "tags.json") == vocabs.tags
    data = json.loads((tmp_path / "tags.json").read_text())
    assert data["labels"][0] == "O" and data["unknown"] == UNKNOWN_LABEL
