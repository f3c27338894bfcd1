"""A BERT teacher fine-tuned from a local KerasHub checkpoint (the paper's mBERT).

Built on KerasHub's `BertBackbone` and `BertTokenizer` (keras-hub 0.32.0,
Keras 3 on the TensorFlow backend). pqrnn's own models use tf_keras (Keras 2);
the two packages live side by side in one process: `tf.keras` is tf_keras
(TF_USE_LEGACY_KERAS=1), while `import keras` is Keras 3, which KerasHub uses.
Nothing is downloaded: the checkpoint is a local folder the user supplies,
either a KerasHub preset (config.json, model.weights.h5, tokenizer.json,
assets/tokenizer/vocabulary.txt; e.g. KerasHub's "bert_base_multi" preset
copied from elsewhere) or a Hugging Face BERT folder (config.json,
model.safetensors, vocab.txt; this also needs the `safetensors` package).

Alignment with pqrnn's tokens (docs/DISTILLATION.md): each pqrnn token is
WordPiece-tokenized on its own, the sequence is [CLS] subwords... [SEP], and
a token's slot logits are those of its first subword. The intent comes from
BERT's pooled [CLS] output.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence

import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from pqrnn import io_utils
from pqrnn.data.example import Example
from pqrnn.data.vocab import LabelVocabs

KERAS_HUB_PIN = "keras-hub==0.32.0"
WEIGHTS_FILE = "bert_teacher.weights.h5"
META_FILE = "bert_teacher.json"


def _keras_hub():
    try:
        import keras_hub
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"the BERT teacher needs KerasHub: pip install {KERAS_HUB_PIN} (docs/DISTILLATION.md)"
        ) from e
    return keras_hub


def _check_checkpoint(checkpoint: str) -> None:
    if not checkpoint:
        raise ValueError(
            "set --config.bert.checkpoint to a local BERT checkpoint folder (KerasHub preset or "
            "Hugging Face BERT folder); pqrnn downloads nothing"
        )
    if not os.path.isfile(os.path.join(checkpoint, "config.json")):
        raise FileNotFoundError(
            f"{checkpoint}: no config.json; expected a KerasHub preset folder (config.json, "
            "model.weights.h5, tokenizer.json, assets/tokenizer/vocabulary.txt) or a Hugging "
            "Face BERT folder (config.json, model.safetensors, vocab.txt)"
        )


@dataclasses.dataclass
class Encoded:
    """Examples as BERT inputs: [N, P] subword arrays and [N, T] first-subword positions."""

    token_ids: np.ndarray
    padding_mask: np.ndarray
    first_positions: np.ndarray  # -1: padding or a token cut by max_subwords
    num_cut_tokens: int

    def inputs(self) -> dict:
        return {
            "token_ids": self.token_ids,
            "padding_mask": self.padding_mask,
            "segment_ids": np.zeros_like(self.token_ids),
            "first_positions": self.first_positions,
        }


class SubwordEncoder:
    """WordPiece-encodes pqrnn tokens one by one and records each token's first subword.

    Args:
      tokenizer: a KerasHub BertTokenizer.
      max_subwords: longest input, [CLS] and [SEP] included; tokens whose
        first subword does not fit get no row (their logits are written as
        zeros, a uniform distribution).
    """

    def __init__(self, tokenizer, max_subwords: int = 128):
        if max_subwords < 3:
            raise ValueError(f"max_subwords must be >= 3, got {max_subwords}")
        self.tokenizer = tokenizer
        self.max_subwords = max_subwords
        self.cls_id = int(tokenizer.cls_token_id)
        self.sep_id = int(tokenizer.sep_token_id)
        self.pad_id = int(tokenizer.pad_token_id)
        self.unk_id = int(tokenizer.token_to_id(tokenizer.oov_token))

    def encode(self, examples: Sequence[Example]) -> Encoded:
        words = [t for e in examples for t in e.tokens]
        pieces_of = self.tokenizer(tf.constant(words, tf.string))
        if isinstance(pieces_of, tf.RaggedTensor):
            pieces_of = pieces_of.to_list()  # KerasHub returns lists in eager mode.
        rows, firsts = [], []
        cut = 0
        w = 0
        for example in examples:
            ids = [self.cls_id]
            first = []
            for _ in example.tokens:
                pieces = list(pieces_of[w]) or [self.unk_id]
                w += 1
                room = self.max_subwords - 1 - len(ids)
                if room <= 0:
                    first.append(-1)
                    cut += 1
                    continue
                first.append(len(ids))
                ids += pieces[:room]
            ids.append(self.sep_id)
            rows.append(ids)
            firsts.append(first)
        width = max(len(r) for r in rows)
        steps = max(len(f) for f in firsts)
        token_ids = np.full((len(rows), width), self.pad_id, np.int32)
        mask = np.zeros((len(rows), width), np.int32)
        positions = np.full((len(rows), steps), -1, np.int32)
        for i, (ids, first) in enumerate(zip(rows, firsts, strict=True)):
            token_ids[i, : len(ids)] = ids
            mask[i, : len(ids)] = 1
            positions[i, : len(first)] = first
        return Encoded(token_ids, mask, positions, cut)


def _first_subword_layer():
    """A Keras 3 layer: sequence [B, P, H], positions [B, T] -> [B, T, H]."""
    import keras

    class FirstSubword(keras.layers.Layer):
        def call(self, sequence, positions):
            return tf.gather(sequence, tf.maximum(positions, 0), batch_dims=1)

        def compute_output_shape(self, sequence_shape, positions_shape):
            return (*positions_shape, sequence_shape[-1])

    return FirstSubword(name="first_subword")


def build_model(backbone, num_intents: int, num_tags: int, dropout: float = 0.1):
    """BERT with an intent head on the pooled [CLS] output and a slot head on
    each token's first subword (Keras 3 functional model).

    Inputs: token_ids, padding_mask, segment_ids [B, P]; first_positions [B, T]
    (-1 for none). Outputs (logits): {"intent": [B, I], "slots": [B, T, S]}.
    """
    import keras

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
    segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
    first_positions = keras.Input((None,), dtype="int32", name="first_positions")
    outputs = backbone(
        {"token_ids": token_ids, "padding_mask": padding_mask, "segment_ids": segment_ids}
    )
    pooled = keras.layers.Dropout(dropout)(outputs["pooled_output"])
    intent = keras.layers.Dense(num_intents, name="intent")(pooled)
    sequence = outputs["sequence_output"]
    words = _first_subword_layer()(sequence, first_positions)
    slots = keras.layers.Dense(num_tags, name="slots")(keras.layers.Dropout(dropout)(words))
    return keras.Model(
        {
            "token_ids": token_ids,
            "padding_mask": padding_mask,
            "segment_ids": segment_ids,
            "first_positions": first_positions,
        },
        {"intent": intent, "slots": slots},
    )


def _slot_labels(examples: Sequence[Example], vocabs: LabelVocabs, encoded: Encoded) -> np.ndarray:
    labels = np.full(encoded.first_positions.shape, -1, np.int32)
    for i, example in enumerate(examples):
        ids = vocabs.tags.encode(example.tags)
        kept = encoded.first_positions[i, : len(ids)] >= 0
        labels[i, : len(ids)] = np.where(kept, ids, -1)
    return labels


class BertTeacher:
    """A fine-tuned BERT teacher restored from its workdir (a `labelling.Teacher`)."""

    def __init__(self, model, encoder: SubwordEncoder, vocabs: LabelVocabs, description: str):
        self.model = model
        self.encoder = encoder
        self.intents = vocabs.intents.labels
        self.tags = vocabs.tags.labels
        self.description = description
        self.batch_size = 64

    @classmethod
    def restore(cls, workdir: str) -> BertTeacher:
        meta = io_utils.read_json(os.path.join(workdir, META_FILE))
        vocabs = LabelVocabs.load(os.path.join(workdir, "vocabs.json"))
        keras_hub = _keras_hub()
        backbone = keras_hub.models.BertBackbone.from_preset(meta["checkpoint"], load_weights=False)
        tokenizer = keras_hub.models.BertTokenizer.from_preset(meta["checkpoint"])
        model = build_model(backbone, vocabs.intents.size, vocabs.tags.size, meta["dropout"])
        model.load_weights(os.path.join(workdir, WEIGHTS_FILE))
        encoder = SubwordEncoder(tokenizer, meta["max_subwords"])
        return cls(model, encoder, vocabs, f"bert {meta['checkpoint']} fine-tuned in {workdir}")

    def logits(self, examples: Sequence[Example]) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for start in range(0, len(examples), self.batch_size):
            chunk = examples[start : start + self.batch_size]
            encoded = self.encoder.encode(chunk)
            result = self.model.predict_on_batch(encoded.inputs())
            intents, slots = np.asarray(result["intent"]), np.asarray(result["slots"])
            for i, example in enumerate(chunk):
                n = len(example.tokens)
                rows = np.where(
                    (encoded.first_positions[i, :n] >= 0)[:, None], slots[i, :n], 0.0
                ).astype(np.float32)
                out.append((intents[i].astype(np.float32), rows))
        return out


def fine_tune(
    config: ml_collections.ConfigDict,
    workdir: str,
    train_examples: Sequence[Example],
    vocabs: LabelVocabs,
) -> BertTeacher:
    """Fine-tunes `config.bert.checkpoint` on `train_examples` into `workdir`.

    Resumable: Keras' BackupAndRestore keeps the state of the last finished
    epoch in workdir/backup; a finished run (weights file present) is not
    trained again.
    """
    import keras

    b = config.bert
    _check_checkpoint(b.checkpoint)
    keras_hub = _keras_hub()
    os.makedirs(workdir, exist_ok=True)
    weights = os.path.join(workdir, WEIGHTS_FILE)
    meta = {
        "checkpoint": os.path.abspath(b.checkpoint),
        "max_subwords": b.max_subwords,
        "dropout": b.dropout,
    }
    if os.path.exists(weights):
        saved = io_utils.read_json(os.path.join(workdir, META_FILE))
        if saved != meta:
            raise ValueError(
                f"{workdir} holds a teacher fine-tuned with {saved}, not {meta}: use another "
                "workdir for another checkpoint or max_subwords"
            )
        logging.info("%s exists: the teacher is trained, not training it again", weights)
        return BertTeacher.restore(workdir)
    keras.utils.set_random_seed(config.train.seed)
    tokenizer = keras_hub.models.BertTokenizer.from_preset(b.checkpoint)
    backbone = keras_hub.models.BertBackbone.from_preset(b.checkpoint)
    model = build_model(backbone, vocabs.intents.size, vocabs.tags.size, b.dropout)
    encoder = SubwordEncoder(tokenizer, b.max_subwords)
    encoded = encoder.encode(train_examples)
    if encoded.num_cut_tokens:
        logging.warning("%d tokens cut by max_subwords=%d", encoded.num_cut_tokens, b.max_subwords)
    labels = {
        "intent": np.array(vocabs.intents.encode(e.intent for e in train_examples), np.int32),
        "slots": _slot_labels(train_examples, vocabs, encoded),
    }
    dataset = (
        tf.data.Dataset.from_tensor_slices((encoded.inputs(), labels))
        .shuffle(len(train_examples), seed=config.train.seed)
        .batch(b.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    steps = b.epochs * -(-len(train_examples) // b.batch_size)
    warmup = int(b.warmup_fraction * steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(steps - warmup, 1), warmup_target=b.learning_rate, warmup_steps=warmup
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=b.weight_decay, clipnorm=1.0),
        loss={
            "intent": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "slots": keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
        },
    )
    model.fit(
        dataset,
        epochs=b.epochs,
        callbacks=[keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup"))],
        verbose=2,
    )
    vocabs.save(os.path.join(workdir, "vocabs.json"))
    io_utils.atomic_write_text(os.path.join(workdir, META_FILE), json.dumps(meta, indent=2) + "\n")
    # The weights file is the "finished" marker: written last, renamed into place.
    partial = os.path.join(workdir, "partial." + WEIGHTS_FILE)
    model.save_weights(partial)
    os.replace(partial, weights)
    # The description restore() gives too, so that a rerun does not rewrite the logits.
    return BertTeacher(model, encoder, vocabs, f"bert {meta['checkpoint']} fine-tuned in {workdir}")
