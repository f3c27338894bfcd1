"""Restores a trained run from its workdir and predicts intents and slots."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import ml_collections
import numpy as np
import tensorflow as tf
import tf_keras as keras

from pqrnn import decoding, io_utils
from pqrnn.data.example import Example
from pqrnn.data.vocab import LabelVocab, LabelVocabs
from pqrnn.training import experiment


def save_vocabs(path: str, vocabs: LabelVocabs) -> None:
    """Writes both label vocabularies atomically."""
    io_utils.atomic_write_json(
        path, {"intents": vocabs.intents.to_json(), "tags": vocabs.tags.to_json()}
    )


def load_vocabs(path: str) -> LabelVocabs:
    data = io_utils.read_json(path)
    return LabelVocabs(LabelVocab.from_json(data["intents"]), LabelVocab.from_json(data["tags"]))


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run in `workdir` was trained with."""
    path = experiment.workdir_paths(workdir)["config"]
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: is {workdir!r} a pqrnn training workdir?")
    return ml_collections.ConfigDict(experiment.upgrade_saved_config(io_utils.read_json(path)))


def model_inputs(model: keras.Model, features: dict) -> dict:
    """The subset of a pipeline's features that `model` takes."""
    return {name: features[name] for name in model.input_names}


@dataclasses.dataclass
class TrainedModel:
    """A model restored from a workdir, with what is needed to feed it."""

    config: ml_collections.ConfigDict
    model: keras.Model
    vocabs: LabelVocabs
    step: int
    _slot_types: dict | None = dataclasses.field(default=None, repr=False)

    def slot_types_by_intent(self) -> dict[str, list[str]]:
        """The slot types of each intent in the training set (read once)."""
        if self._slot_types is None:
            train, _ = experiment.load_examples(self.config, "train")
            self._slot_types = decoding.types_by_intent(train)
        return self._slot_types

    @classmethod
    def restore(cls, workdir: str, checkpoint: str | None = None) -> TrainedModel:
        """Rebuilds the model of `workdir` and loads its latest (or the given)
        checkpoint; raises if there is none."""
        config = load_config(workdir)
        paths = experiment.workdir_paths(workdir)
        vocabs = load_vocabs(paths["vocabs"])
        vocabulary = ()
        if experiment.uses_tokens(config):
            with open(paths["vocabulary"], encoding="utf-8") as f:
                vocabulary = f.read().split("\n")[:-1]
        model = experiment.build_model(config, vocabs, vocabulary)
        step = tf.Variable(0, dtype=tf.int64)
        ckpt = tf.train.Checkpoint(model=model, step=step)
        path = checkpoint or tf.train.latest_checkpoint(paths["checkpoints"])
        if path is None:
            raise FileNotFoundError(f"no checkpoint in {paths['checkpoints']}")
        # Partial: the optimizer's slots stay unread; but every object built
        # here must be in the checkpoint (another model's checkpoint is an error).
        status = ckpt.restore(path).expect_partial()
        try:
            status.assert_existing_objects_matched()
        except AssertionError as e:
            raise ValueError(
                f"{path} is not a checkpoint of the model in {workdir} ({str(e)[:300]}...)"
            ) from e
        return cls(config=config, model=model, vocabs=vocabs, step=int(step.numpy()))

    def predict(
        self,
        examples: Sequence[Example],
        batch_size: int = 256,
        slot_decoding: str = decoding.DEFAULT,
    ) -> list[tuple[str, tuple[str, ...]]]:
        """(intent, tags) per example, tags one per example token
        (`pqrnn.decoding`: "viterbi" or "argmax")."""
        types = self.slot_types_by_intent() if decoding.needs_types(slot_decoding) else None
        return predict_examples(
            self.config,
            self.model,
            self.vocabs,
            examples,
            batch_size,
            slot_decoding=slot_decoding,
            types_by_intent=types,
        )


def predict_examples(
    config: ml_collections.ConfigDict,
    model: keras.Model,
    vocabs: LabelVocabs,
    examples: Sequence[Example],
    batch_size: int = 256,
    return_logits: bool = False,
    slot_decoding: str = decoding.DEFAULT,
    types_by_intent: dict | None = None,
):
    """Runs `model` over `examples` in order; returns (intent, tags) per example
    (and, with return_logits, the raw intent and per-token slot logits).
    Tags are decoded from the slot logits by `slot_decoding`
    (`pqrnn.decoding`: the best valid BIO sequence, or each token's argmax;
    "viterbi_intent_types" needs `types_by_intent`)."""
    from pqrnn.data import pipeline

    if not examples:
        return ([], []) if return_logits else []
    dataset = experiment.make_dataset(
        config, examples, vocabs, training=False, batch_size=batch_size
    )
    predict_step = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)
    uses_bos = config.projection.add_bos_tag and not experiment.uses_tokens(config)
    uses_eos = config.projection.add_eos_tag and not experiment.uses_tokens(config)
    decoder = decoding.BioDecoder(
        vocabs.tags.labels, slot_decoding, types_by_intent=types_by_intent
    )
    intent_ids, slot_rows, intent_logits, slot_logits = [], [], [], []
    for features, _ in dataset:
        outputs = predict_step(model_inputs(model, features))
        intents = outputs["intent"].numpy()
        batch_intents = np.argmax(intents, axis=-1)
        intent_ids.extend(batch_intents)
        for row, n, intent_id in zip(
            outputs["slots"].numpy(),
            features["sequence_length"].numpy(),
            batch_intents,
            strict=True,
        ):
            intent = vocabs.intents.label(int(intent_id))
            slot_rows.append(
                decoding.decode_positions(decoder, row[:n], int(uses_bos), int(uses_eos), intent)
            )
            if return_logits:
                slot_logits.append(row[:n])
        if return_logits:
            intent_logits.extend(intents)
    predictions = pipeline.predictions_from_ids(
        examples,
        intent_ids,
        slot_rows,
        vocabs,
        add_bos=uses_bos,
        max_seq_len=config.projection.max_seq_len,
    )
    if return_logits:
        return predictions, list(zip(intent_logits, slot_logits, strict=True))
    return predictions
