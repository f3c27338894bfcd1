"""Runs an exported pqrnn `.tflite` model on utterances, as an app would.

Everything needed comes from the file itself (its model card): the input
kind, the lowercasing, the label names. pqrnn's custom ops are registered by
`pqrnn.tflite.Interpreter`. Importing this module does not import
TensorFlow (`predict` does, for the label alignment it shares with the
Keras pipeline).

Example:
    >>> model = TFLiteNLUModel("model_int8.tflite")
    >>> model.predict_texts(["call mom"])
    [('IN:CREATE_CALL', ('O', 'B-SL:CONTACT'))]
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from pqrnn import decoding, tflite
from pqrnn.data.tokenizer import split_whitespace
from pqrnn.export import model_card


def _has_variable_tensors(content: bytes) -> bool:
    """Whether the model keeps state across invokes (TFLite's fused LSTM
    stores its hidden and cell state in variable tensors)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(content, 0)
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for t in range(subgraph.TensorsLength()):
            if subgraph.Tensors(t).IsVariable():
                return True
    return False


class TFLiteNLUModel:
    """A pqrnn `.tflite` intent + slot model with its model card.

    Args:
      model: path of the `.tflite` file, or its bytes.
      num_threads: interpreter CPU threads.
      **interpreter_kwargs: forwarded to `pqrnn.tflite.Interpreter`.

    Attributes:
      card: the model card (`pqrnn.export.read_model_card`).
      kind: "text" (raw UTF-8 utterances, batched) or "tokens" (one
        utterance's vocabulary ids per call).
    """

    def __init__(
        self, model: str | os.PathLike | bytes, num_threads: int = 1, **interpreter_kwargs
    ):
        if isinstance(model, (bytes, bytearray, memoryview)):
            content = bytes(model)
        else:
            with open(model, "rb") as f:
                content = f.read()
        self.card = model_card.read_model_card(content)
        self.kind = self.card["input"]["kind"]
        self.interpreter = tflite.Interpreter(
            model_content=content, num_threads=num_threads, **interpreter_kwargs
        )
        self.stateful = _has_variable_tensors(content)
        self._input_name = self.card["input"]["name"]
        self._vocabulary = {w: i for i, w in enumerate(self.card.get("vocabulary", []))}
        # The signature's tensors, by name (the runtime's own table; the
        # raw interpreter API is used instead of a SignatureRunner so that
        # the benchmark can time invoke() alone).
        signatures = self.interpreter._get_full_signature_list()  # noqa: SLF001
        signature = signatures[self.card["input"]["signature"]]
        self.input_indices = dict(signature["inputs"])
        self.output_indices = dict(signature["outputs"])
        self._shapes = {d["index"]: tuple(d["shape"]) for d in self.interpreter.get_input_details()}
        self.interpreter.allocate_tensors()

    def inputs(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model's input for utterances (whitespace-separated words).

        Text models take the batch as is. Token models take exactly one
        utterance: the vocabulary ids of its words (lowercased if the card
        says so, at most max_seq_len of them; 0 for unknown words) and their
        count (the exported baselines have no padding mask, so the ids are
        never padded: `converter.tokens_serving_function`).
        """
        if self.kind == "text":
            return {self._input_name: np.array([t.encode("utf-8") for t in texts], dtype=object)}
        if len(texts) != 1:
            raise ValueError(f"a token model takes one utterance per call, got {len(texts)}")
        tokens = split_whitespace(texts[0])
        if self.card["input"].get("lowercase"):
            tokens = [t.lower() for t in tokens]
        limit = self.card["input"].get("max_seq_len", 0)
        if limit:
            tokens = tokens[:limit]
        ids = np.array([self._vocabulary.get(t, 0) for t in tokens], np.int32)
        return {self._input_name: ids, "sequence_length": np.array([len(ids)], np.int32)}

    def feed(self, inputs: dict[str, np.ndarray]) -> None:
        """Sets `inputs` (from `inputs()`), resizing and allocating when the
        shapes change and zeroing an LSTM's state: what an app does before
        each invoke."""
        resized = False
        for name, value in inputs.items():
            index = self.input_indices[name]
            if tuple(value.shape) != self._shapes[index]:
                self.interpreter.resize_tensor_input(index, value.shape)
                self._shapes[index] = tuple(value.shape)
                resized = True
        if resized:
            self.interpreter.allocate_tensors()
        if self.stateful:
            # TFLite's fused LSTM keeps its hidden and cell state in variable
            # tensors, carried from one invoke to the next.
            self.interpreter.reset_all_variables()
        for name, value in inputs.items():
            self.interpreter.set_tensor(self.input_indices[name], value)

    def prepare(self, texts: Sequence[str]) -> None:
        """Sets the inputs for `texts` (`feed(inputs(texts))`); then
        `interpreter.invoke()`."""
        self.feed(self.inputs(texts))

    def outputs(self) -> dict[str, np.ndarray]:
        """The outputs of the last invoke, by signature name."""
        return {name: self.interpreter.get_tensor(i) for name, i in self.output_indices.items()}

    def run(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Raw outputs ("intent", "slots", "sequence_length") for utterances."""
        self.prepare(texts)
        self.interpreter.invoke()
        return self.outputs()

    @property
    def batch_size_limit(self) -> int | None:
        """Utterances per call: None (any) for text models, 1 for token models."""
        return None if self.kind == "text" else 1

    @property
    def slot_decoding(self) -> str:
        """How the card says to read the slot logits (`pqrnn.decoding`; files
        written before the card said it were checked with "argmax")."""
        return self.card.get("slot_decoding", decoding.ARGMAX)

    def predict_ids(
        self, texts: Sequence[str], batch_size: int = 64, slot_decoding: str | None = None
    ) -> tuple[list[int], list[np.ndarray], list[np.ndarray]]:
        """Argmax intent id, per-position slot ids (decoded by `slot_decoding`,
        default the card's) and intent logits per utterance."""
        step = batch_size if self.kind == "text" else 1
        projection = self.card.get("projection", {}) if self.kind == "text" else {}
        bos, eos = (
            int(bool(projection.get("add_bos_tag"))),
            int(bool(projection.get("add_eos_tag"))),
        )
        mode = slot_decoding or self.slot_decoding
        types = model_card.slot_types_by_intent(self.card)
        if decoding.needs_types(mode) and types is None:
            raise ValueError(
                f"slot decoding {mode!r} needs the card's slot types by intent, which this "
                "file does not have (export it with --slot_decoding=viterbi_intent_types)"
            )
        decoder = decoding.BioDecoder(self.card["slot_tags"], mode, types_by_intent=types)
        labels = self.card["intent_labels"]
        intent_ids, slot_rows, intent_logits = [], [], []
        for start in range(0, len(texts), step):
            outputs = self.run(texts[start : start + step])
            lengths = outputs["sequence_length"]
            for intent, slots, n in zip(outputs["intent"], outputs["slots"], lengths, strict=True):
                intent_ids.append(int(np.argmax(intent)))
                slot_rows.append(
                    decoding.decode_positions(
                        decoder, slots[: int(n)], bos, eos, labels[intent_ids[-1]]
                    )
                )
                intent_logits.append(intent)
        return intent_ids, slot_rows, intent_logits

    def predict(
        self, examples: Sequence, batch_size: int = 64, slot_decoding: str | None = None
    ) -> list[tuple[str, tuple[str, ...]]]:
        """(intent, tags) per `pqrnn.data.Example`, the input of pqrnn.metrics.evaluate;
        slots decoded by `slot_decoding` (default: as the card says)."""
        from pqrnn.data import pipeline

        if not examples:
            return []
        intent_ids, slot_rows, _ = self.predict_ids(
            [e.text for e in examples], batch_size, slot_decoding
        )
        add_bos = bool(self.card.get("projection", {}).get("add_bos_tag")) and self.kind == "text"
        return pipeline.predictions_from_ids(
            examples,
            intent_ids,
            slot_rows,
            model_card.label_vocabs(self.card),
            add_bos=add_bos,
            max_seq_len=self.card["input"].get("max_seq_len", 0),
        )

    def predict_texts(
        self, texts: Sequence[str], batch_size: int = 64, slot_decoding: str | None = None
    ):
        """(intent, tags) for raw utterances (tokens split on Unicode White_Space,
        as the projection op splits them)."""
        from pqrnn.data.example import Example

        examples = []
        for i, text in enumerate(texts):
            tokens = tuple(split_whitespace(text))
            examples.append(Example(str(i), "", tokens, ("O",) * len(tokens), ""))
        return self.predict(examples, batch_size, slot_decoding)
