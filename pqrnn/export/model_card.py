"""The model card a pqrnn `.tflite` file carries: labels, input, provenance.

An app that ships a pqrnn model needs, besides the graph, the names of the
intent and slot ids the model outputs, how to feed it (raw text, or tokens
and whether to lowercase them), and where the model came from. All of it
travels inside the `.tflite` file as one JSON document in the flatbuffer's
`metadata` list (schema.fbs: `Model.metadata`, a name and a buffer index),
under the name `pqrnn_model_card`. The TFLite runtime ignores metadata it
does not know; `read_model_card` reads it back without TensorFlow.

Card fields (format "pqrnn.model_card", version 1):
  model: "pqrnn" | "bilstm" | "transformer"
  precision: "float32" | "int8"
  quantization: null, or {"method": "qat" | "ptq", ...how}
  input: {"signature": "serving_default", "kind": "text" | "tokens",
          "name": the input tensor ("text" [B] or "token_ids" [T]),
          "lowercase": the app lowercases tokens first (token models),
          "max_seq_len": tokens the model reads (0: all)}
  outputs: {"intent": "[B, I] logits", "slots": "[B, T, S] logits",
            "sequence_length": "[B] positions per utterance"}
  intent_labels / slot_tags: the label of each output id, in id order
    (the last is "<unk>", a class the training data never uses)
  slot_decoding: how the slot logits were read when the file was checked:
    "viterbi" (the best valid BIO sequence, `pqrnn.decoding`) or "argmax";
    absent in files written before 2026-12-06, which were read by argmax;
    "viterbi_intent_types" also brings slot_type_ids_by_intent: per
    intent id, null (an intent the training set lacks: no restriction) or
    the slot types the training set has with it, each as the id of its
    first tag in slot_tags ("B-X" or "I-X"); `slot_types_by_intent(card)`
    reads it as {intent: [types]}. Files written before 2026-12-07 carry
    that dict itself as slot_types_by_intent (about 9 KB on MTOP against
    1.5 KB)
  projection: the SequenceStringProjection attributes (pqrnn models)
  pqrnn_version, training_config (the run's config.json), training_step,
  tokenizer: {"function": "pqrnn.data.tokenize", "icu_version": the ICU that
    segmented Thai training text, as the training run recorded it; null
    when PyICU was not installed, so no Thai was read}
  checks (what the exporter verified before writing the file)

Example:
    >>> card = read_model_card("model_int8.tflite")
    >>> card["intent_labels"][int(np.argmax(outputs["intent"][0]))]
    'IN:CREATE_CALL'
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

from pqrnn.export import flatbuffer
from pqrnn.metrics import split_tag

MODEL_CARD_METADATA_NAME = "pqrnn_model_card"
MODEL_CARD_FORMAT = "pqrnn.model_card"
MODEL_CARD_VERSION = 1


class ModelCardError(ValueError):
    """A `.tflite` file has no pqrnn model card, or an unreadable one."""


def _model_bytes(model: str | os.PathLike | bytes) -> tuple[bytes, str]:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model), "<model bytes>"
    path = pathlib.Path(os.fspath(model))
    if not path.is_file():
        raise FileNotFoundError(f"TFLite model {path} not found")
    return path.read_bytes(), str(path)


def add_model_card(tflite_model: bytes, card: dict[str, Any]) -> bytes:
    """Returns `tflite_model` with `card` stored as its pqrnn model card.

    An existing pqrnn card is replaced; other metadata (the converter's
    min_runtime_version, CONVERSION_METADATA) is kept.

    Args:
      tflite_model: a serialized TFLite flatbuffer.
      card: a JSON-serializable dict (`format` and `version` are set here).

    Returns:
      The new flatbuffer, with the "TFL3" file identifier.
    """
    schema = flatbuffer.schema()
    card = {**card, "format": MODEL_CARD_FORMAT, "version": MODEL_CARD_VERSION}
    data = json.dumps(card, ensure_ascii=False, sort_keys=True).encode("utf-8")
    model = flatbuffer.read(tflite_model)
    metadata, old_buffer = [], None
    for m in model.metadata or []:
        if flatbuffer.text(m.name) == MODEL_CARD_METADATA_NAME:
            old_buffer = m.buffer
        else:
            metadata.append(m)
    entry = schema.MetadataT()
    entry.name = MODEL_CARD_METADATA_NAME
    if old_buffer is None:
        model.buffers.append(schema.BufferT())
        entry.buffer = len(model.buffers) - 1
    else:
        # The new card takes the old card's buffer: removing a buffer would
        # renumber the tensors' buffers, and a stamped file stamped again
        # comes out the same as a file stamped once.
        entry.buffer = old_buffer
    model.buffers[entry.buffer].data = list(data)
    model.metadata = [*metadata, entry]
    return flatbuffer.write(model, len(tflite_model) + len(data))


def read_model_card(model: str | os.PathLike | bytes) -> dict[str, Any]:
    """Reads the pqrnn model card of a `.tflite` file (a path or its bytes).

    Needs only ai-edge-litert's schema (no TensorFlow).

    Raises:
      FileNotFoundError: the path does not exist.
      ModelCardError: not a TFLite model, no pqrnn card, or an unreadable
        or newer-format card (the message says which).
    """
    schema = flatbuffer.schema()
    content, source = _model_bytes(model)
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ModelCardError(f"{source}: not a TFLite model (no 'TFL3' identifier)")
    try:
        root = schema.Model.GetRootAs(content, 0)
        for i in range(root.MetadataLength()):
            entry = root.Metadata(i)
            if flatbuffer.text(entry.Name()) != MODEL_CARD_METADATA_NAME:
                continue
            data = root.Buffers(entry.Buffer()).DataAsNumpy()
            card = json.loads(bytes(data).decode("utf-8"))
            break
        else:
            raise ModelCardError(
                f"{source}: no {MODEL_CARD_METADATA_NAME!r} metadata; it was not written by "
                "pqrnn's exporter (python export/export.py)"
            )
    except ModelCardError:
        raise
    except Exception as e:  # struct.error, IndexError, UnicodeError, JSONDecodeError
        raise ModelCardError(f"{source}: unreadable model card: {type(e).__name__}: {e}") from e
    if card.get("format") != MODEL_CARD_FORMAT:
        raise ModelCardError(f"{source}: model card format {card.get('format')!r} is not pqrnn's")
    if card.get("version", 0) > MODEL_CARD_VERSION:
        raise ModelCardError(
            f"{source}: model card version {card['version']} is newer than this pqrnn reads "
            f"({MODEL_CARD_VERSION}); upgrade pqrnn"
        )
    return card


def label_vocabs(card: dict[str, Any]):
    """The card's labels as `pqrnn.data.LabelVocabs` (ids as the model's)."""
    from pqrnn.data.vocab import UNKNOWN_LABEL, LabelVocab, LabelVocabs

    def vocab(labels, name):
        labels = list(labels)
        if labels and labels[-1] == UNKNOWN_LABEL:
            labels = labels[:-1]
        return LabelVocab(labels, name=name)

    return LabelVocabs(vocab(card["intent_labels"], "intents"), vocab(card["slot_tags"], "tags"))


def encode_slot_types_by_intent(
    table: dict[str, list[str]], intent_labels: list[str], slot_tags: list[str]
) -> list[list[int] | None]:
    """The card's slot_type_ids_by_intent for {intent: slot types}.

    Raises:
      ValueError: a type that no tag in `slot_tags` has.
    """
    first_tag: dict[str, int] = {}
    for i, tag in enumerate(slot_tags):
        prefix, kind = split_tag(tag)
        if prefix != "O":
            first_tag.setdefault(kind, i)
    out: list[list[int] | None] = []
    for intent in intent_labels:
        types = table.get(intent)
        if types is None:
            out.append(None)
            continue
        missing = sorted(set(types) - set(first_tag))
        if missing:
            raise ValueError(f"intent {intent!r}: slot types {missing} have no tag in slot_tags")
        out.append(sorted(first_tag[t] for t in types))
    return out


def slot_types_by_intent(card: dict[str, Any]) -> dict[str, list[str]] | None:
    """{intent: slot types} from a card (None: it has no table).

    Raises:
      ModelCardError: a malformed table.
    """
    if "slot_types_by_intent" in card:  # files written before 2026-12-07
        return card["slot_types_by_intent"]
    ids = card.get("slot_type_ids_by_intent")
    if ids is None:
        return None
    intents, tags = card["intent_labels"], card["slot_tags"]
    if not isinstance(ids, list) or len(ids) != len(intents):
        raise ModelCardError(
            f"slot_type_ids_by_intent has {len(ids) if isinstance(ids, list) else ids!r} "
            f"entries for {len(intents)} intent labels"
        )
    table = {}
    for intent, entry in zip(intents, ids, strict=True):
        if entry is None:
            continue
        kinds = [
            split_tag(tags[j]) if isinstance(j, int) and 0 <= j < len(tags) else ("O", "")
            for j in entry
        ]
        bad = [j for j, (prefix, _) in zip(entry, kinds, strict=True) if prefix == "O"]
        if bad:
            raise ModelCardError(
                f"slot_type_ids_by_intent[{intent!r}]: {bad} are not ids of B-/I- slot tags"
            )
        table[intent] = sorted(kind for _, kind in kinds)
    return table
