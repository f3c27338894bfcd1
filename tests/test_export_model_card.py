"""The model card in a .tflite file's metadata: write, replace, read back."""

import os
import subprocess
import sys

import pytest

import pqrnn  # noqa: F401
from pqrnn.export import model_card

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tiny_model() -> bytes:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def double(x):
        return {"y": 2.0 * x}

    return tf.lite.TFLiteConverter.from_concrete_functions(
        [double.get_concrete_function()], tf.Module()
    ).convert()


def _metadata_names(content: bytes) -> list[str]:
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(content, 0)
    return [m.name.decode() for m in model.metadata or []]


def _buffers(content: bytes) -> list:
    from ai_edge_litert import schema_py_generated as schema

    return schema.ModelT.InitFromPackedBuf(content, 0).buffers


CARD = {
    "model": "pqrnn",
    "intent_labels": ["IN:CALL", "<unk>"],
    "slot_tags": ["O", "B-SL:CONTACT", "<unk>"],
    "note": "ünïcödé",
}


def test_round_trip_keeps_other_metadata_and_runs(tiny_model, tmp_path):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    stamped = model_card.add_model_card(tiny_model, CARD)
    card = model_card.read_model_card(stamped)
    assert card["intent_labels"] == CARD["intent_labels"] and card["note"] == CARD["note"]
    assert card["format"] == model_card.MODEL_CARD_FORMAT
    names = _metadata_names(stamped)
    assert set(_metadata_names(tiny_model)) < set(names)  # min_runtime_version etc. kept
    # Replacing the card leaves exactly one.
    again = model_card.add_model_card(stamped, {**CARD, "model": "bilstm"})
    assert _metadata_names(again).count(model_card.MODEL_CARD_METADATA_NAME) == 1
    assert model_card.read_model_card(again)["model"] == "bilstm"
    # ... in the old card's buffer: stamping again is the same as stamping once.
    assert model_card.add_model_card(again, CARD) == stamped
    assert len(_buffers(again)) == len(_buffers(stamped)) == len(_buffers(tiny_model)) + 1
    path = tmp_path / "m.tflite"
    path.write_bytes(again)
    assert model_card.read_model_card(path)["model"] == "bilstm"
    runner = Interpreter(model_content=again).get_signature_runner()
    assert runner(x=np.ones([1, 3], np.float32))["y"].tolist() == [[2.0, 2.0, 2.0]]


def test_label_vocabs_from_card():
    vocabs = model_card.label_vocabs(CARD)
    assert vocabs.intents.labels == ("IN:CALL", "<unk>")
    assert vocabs.tags.id("B-SL:CONTACT") == 1


def test_errors_name_the_problem(tiny_model, tmp_path):
    with pytest.raises(model_card.ModelCardError, match="no 'pqrnn_model_card'"):
        model_card.read_model_card(tiny_model)
    with pytest.raises(model_card.ModelCardError, match="not a TFLite model"):
        model_card.read_model_card(b"hello world, not a model")
    with pytest.raises(FileNotFoundError):
        model_card.read_model_card(tmp_path / "missing.tflite")
    newer = model_card.add_model_card(tiny_model, CARD)
    newer = newer.replace(b'"version": 1', b'"version": 9')
    with pytest.raises(model_card.ModelCardError, match="newer"):
        model_card.read_model_card(newer)


def test_reading_needs_no_tensorflow(tiny_model, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(model_card.add_model_card(tiny_model, CARD))
    code = (
        "import sys; from pqrnn.export import read_model_card; "
        f"card = read_model_card({str(path)!r}); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'; "
        "print(card['model'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "pqrnn"


def test_slot_types_by_intent_travel_as_tag_ids():
    intents = ["IN:A", "IN:B", "IN:C", "<unk>"]
    tags = ["O", "B-DATE", "I-DATE", "I-ODD", "B-NAME", "I-NAME", "<unk>"]
    table = {"IN:A": ["DATE", "NAME"], "IN:B": [], "IN:C": ["ODD"]}
    ids = model_card.encode_slot_types_by_intent(table, intents, tags)
    assert ids == [[1, 4], [], [3], None]  # "<unk>" is not in the table: no restriction
    card = {"intent_labels": intents, "slot_tags": tags, "slot_type_ids_by_intent": ids}
    assert model_card.slot_types_by_intent(card) == table
    assert model_card.slot_types_by_intent({"slot_types_by_intent": table}) == table  # old files
    assert model_card.slot_types_by_intent({"intent_labels": intents}) is None
    with pytest.raises(ValueError, match="'TIME'"):
        model_card.encode_slot_types_by_intent({"IN:A": ["TIME"]}, intents, tags)
    for bad, match in (
        ([[1]], "1 entries for 4"),
        ([[0], None, None, None], "not ids of B-/I-"),
        ([[99], None, None, None], "not ids"),
        ([["1"], None, None, None], "not ids"),
    ):
        with pytest.raises(model_card.ModelCardError, match=match):
            model_card.slot_types_by_intent({**card, "slot_type_ids_by_intent": bad})
