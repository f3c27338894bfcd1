"""Turns an experiment config into data, vocabularies, models and datasets.

Everything a binary needs to go from `config` to tensors lives here, so that
train, evaluate, predict, export and distill agree on the details (which
languages, which projection attributes, how labels line up with tokens).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import ml_collections
import tensorflow as tf
import tf_keras as keras
from absl import logging

from pqrnn import models, ops
from pqrnn.data import catalog, synthetic, word_noise
from pqrnn.data.example import Example, ReadReport
from pqrnn.data.user_tsv import read_tsv
from pqrnn.data.vocab import LabelVocabs

TOKEN_MODELS = ("bilstm", "transformer", "char_bilstm")


def languages(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    """The languages of the experiment, resolving "all"."""
    dataset = config.data.dataset
    every = {
        "mtop": catalog.MTOP_LANGUAGES,
        "multiatis": catalog.MULTIATIS_LANGUAGES,
        "synthetic": synthetic.LANGUAGES,
    }.get(dataset)
    if config.data.languages == "all":
        if every is None:
            return ()
        return tuple(every)
    chosen = tuple(s.strip() for s in config.data.languages.split(",") if s.strip())
    if every is not None:
        unknown = sorted(set(chosen) - set(every))
        if unknown:
            raise ValueError(f"{dataset} has no language(s) {unknown}; expected some of {every}")
    return chosen


def load_examples(
    config: ml_collections.ConfigDict, split: str
) -> tuple[list[Example], ReadReport]:
    """All examples of `split` ("train", "validation" or "test") over the
    experiment's languages, with the readers' combined report."""
    split = catalog.canonical_split(split)
    data = config.data
    if data.dataset == "synthetic":
        generated = synthetic.generate(split, languages(config), seed=config.train.seed)
        report = ReadReport(paths=[f"<synthetic {split}>"], rows_read=len(generated))
        report.rows_kept = len(generated)
        pairs = [(generated, report)]
    elif data.dataset == "tsv":
        files = [f for f in data[f"{split}_files"].split(",") if f]
        if not files:
            raise ValueError(f"dataset 'tsv' needs --config.data.{split}_files")
        pairs = [read_tsv(f, strict=data.strict) for f in files]
    else:
        pairs = [
            catalog.load_split(
                data.dataset,
                language,
                split,
                root=data.root,
                strict=data.strict,
                drop_overlap=data.drop_overlap,
            )
            for language in languages(config)
        ]
    examples = [e for part, _ in pairs for e in part]
    report = ReadReport.combine(r for _, r in pairs)
    if split == "train" and data.max_train_examples:
        # Round-robin over languages: the first N rows of the files would be
        # the first languages' alone.
        examples = catalog.interleaved(examples, data.max_train_examples)
    logging.info("%s: %d examples (%s)", split, len(examples), _report_counts(report))
    if not examples:
        # An empty split would train on nothing or score 0.00 everywhere.
        raise ValueError(
            f"the {split} split of {data.dataset} ({data.languages or 'all languages'}) "
            f"has no examples ({_report_counts(report)}): check the data files and "
            "--config.data.*"
        )
    return examples, report


def _report_counts(report: ReadReport) -> str:
    parts = [f"read {report.rows_read}", f"kept {report.rows_kept}"]
    for name in ("filtered", "skipped", "repaired", "normalized"):
        total = sum(getattr(report, name).values())
        if total:
            parts.append(f"{name} {total}")
    return ", ".join(parts)


# Config fields added after runs were already saved, with the value that
# means what those runs did: a saved config.json lacking one is read as if it
# had it, so old workdirs still evaluate, export and resume.
ADDED_FIELDS: dict[tuple[str, str], object] = {
    ("projection", "char_ngram_size"): 0,
    ("projection", "char_ngram_sqrt"): False,
    ("train", "ema_momentum"): 0.0,
    ("projection", "unseen_word_probability"): 0.0,
    ("train", "language_sampling_exponent"): 1.0,
}


def upgrade_saved_config(saved: dict) -> dict:
    """`saved` (a run's config.json) with every field of ADDED_FIELDS present."""
    upgraded = {
        key: dict(value) if isinstance(value, dict) else value for key, value in saved.items()
    }
    for (section, field), value in ADDED_FIELDS.items():
        if isinstance(upgraded.get(section), dict):
            upgraded[section].setdefault(field, value)
    return upgraded


def projection_kwargs(config: ml_collections.ConfigDict, training: bool = False) -> dict:
    """Attributes of the projection op for this experiment."""
    p = config.projection
    return dict(
        feature_size=config.model.pqrnn.feature_size,
        max_seq_len=p.max_seq_len,
        add_bos_tag=p.add_bos_tag,
        add_eos_tag=p.add_eos_tag,
        word_novelty_bits=p.word_novelty_bits,
        doc_size_levels=p.doc_size_levels,
        distortion_probability=p.distortion_probability if training else 0.0,
        lowercase=p.lowercase,
        seed=config.train.seed,
        char_ngram_size=p.char_ngram_size,
        char_ngram_sqrt=p.char_ngram_sqrt,
    )


def uses_tokens(config: ml_collections.ConfigDict) -> bool:
    """Whether the model reads word tokens (baselines) instead of projections."""
    return config.model.name in TOKEN_MODELS


def token_vocabulary(config: ml_collections.ConfigDict, train: Sequence[Example]) -> list[str]:
    """The baselines' word vocabulary (lowercased like the projection)."""
    lower = config.projection.lowercase
    return models.build_vocabulary([t.lower() if lower else t for t in e.tokens] for e in train)


def build_model(
    config: ml_collections.ConfigDict, vocabs: LabelVocabs, vocabulary: Sequence[str] = ()
) -> keras.Model:
    """The model named by config.model.name, sized for `vocabs`."""
    name = config.model.name
    if name == "pqrnn":
        return models.build_joint_model(
            models.PQRNNConfig.from_dict(config.model.pqrnn.to_dict()),
            vocabs.intents.size,
            vocabs.tags.size,
        )
    if name == "bilstm":
        return models.build_bilstm_model(
            models.BiLSTMConfig.from_dict(config.model.bilstm.to_dict()),
            vocabulary,
            vocabs.intents.size,
            vocabs.tags.size,
        )
    if name == "transformer":
        return models.build_transformer_model(
            models.TransformerConfig.from_dict(config.model.transformer.to_dict()),
            vocabulary,
            vocabs.intents.size,
            vocabs.tags.size,
        )
    if name == "char_bilstm":  # A distillation teacher (pqrnn/configs/teacher.py).
        from pqrnn.distill import char_bilstm

        return char_bilstm.build_char_bilstm_model(
            char_bilstm.CharBiLSTMConfig.from_dict(config.model.char_bilstm.to_dict()),
            vocabulary,
            vocabs.intents.size,
            vocabs.tags.size,
        )
    raise ValueError(f"unknown model {name!r}")


def make_dataset(
    config: ml_collections.ConfigDict,
    examples: Sequence[Example],
    vocabs: LabelVocabs,
    *,
    training: bool,
    batch_size: int | None = None,
    epoch: int = 0,
    extra_columns: dict | None = None,
) -> tf.data.Dataset:
    """(features, labels) batches for the experiment's model.

    Training batches are shuffled with a seed derived from the epoch, so a
    resumed run sees the same order as an uninterrupted one. `extra_columns`
    go to `pipeline.make_dataset` (distillation passes teacher logits).
    """
    from pqrnn.data import pipeline

    p = config.projection
    common = dict(
        batch_size=batch_size or config.train.batch_size,
        shuffle=training,
        seed=config.train.seed * 1000 + epoch,
        drop_remainder=False,
        add_bos=p.add_bos_tag if not uses_tokens(config) else False,
        add_eos=p.add_eos_tag if not uses_tokens(config) else False,
        max_seq_len=p.max_seq_len,
        extra_columns=extra_columns,
    )
    unseen = p.unseen_word_probability
    word_noise.check_probability(unseen)
    if uses_tokens(config):
        if unseen > 0:
            raise ValueError(
                "projection.unseen_word_probability applies to projection models only; "
                f"{config.model.name} reads a word vocabulary"
            )
        dataset = pipeline.make_token_dataset(examples, vocabs, **common)
        if p.lowercase:

            def lower(features, labels):
                features["tokens"] = tf.strings.lower(features["tokens"], encoding="utf-8")
                return features, labels

            dataset = dataset.map(lower, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset
    projection_fn = functools.partial(
        ops.sequence_string_projection, **projection_kwargs(config, training=training)
    )
    if training and unseen > 0:
        project = projection_fn

        def projection_fn_with_unseen_words(texts):
            return project(word_noise.replace_words(texts, unseen, config.train.seed, epoch))

        projection_fn = projection_fn_with_unseen_words
    return pipeline.make_dataset(examples, vocabs, projection_fn, **common)


def workdir_paths(workdir: str) -> dict[str, str]:
    """Where a run keeps each of its files."""
    return {
        "config": os.path.join(workdir, "config.json"),
        "vocabs": os.path.join(workdir, "vocabs.json"),
        "vocabulary": os.path.join(workdir, "token_vocabulary.txt"),
        "checkpoints": os.path.join(workdir, "checkpoints"),
        "logs": os.path.join(workdir, "logs"),
        "summary": os.path.join(workdir, "train_summary.json"),
    }
