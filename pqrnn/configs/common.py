"""The experiment config schema and its defaults; presets override fields."""

from __future__ import annotations

import ml_collections

from pqrnn.models.config import BiLSTMConfig, PQRNNConfig, TransformerConfig

MODELS = ("pqrnn", "bilstm", "transformer")


def base_config(model: str = "pqrnn") -> ml_collections.ConfigDict:
    """Every field of an experiment, with defaults.

    data:
      dataset: "multiatis", "mtop", "synthetic" (ships with the code) or "tsv"
        (your own data in the format of docs/DATA.md).
      languages: comma list, or "all" for every language of the dataset.
      root: the real-data folder (default $PQRNN_SHARED_DATA or ../shared/data).
      train_files / validation_files / test_files: for dataset "tsv", comma
        lists of files.
      strict: raise on the first malformed row instead of warning and
        skipping it (skips are counted in the run's summary either way).
      drop_overlap: MTOP train only, drop rows with overlapping slots.
      max_train_examples: keep only this many training examples (0 = all),
        taken round-robin over the languages (file order within each).
    projection: attributes of the projection op (feature_size is the model's),
      and one training-time input noise that is not the op's:
      unseen_word_probability: per-token probability that a training token
        is replaced by a random string of its utterance's characters, so the
        model learns to label words it has never seen from their context
        (pqrnn.data.word_noise; projection models only; 0 = off).
    model: name plus one sub-config per model family (pqrnn.models.config).
    train:
      batch_size: global batch size (split across replicas).
      epochs: passes over the training data.
      learning_rate, warmup_steps, weight_decay, clip_norm: AdamW with a
        linear warmup and cosine decay to 0 over the run.
      slot_loss_weight: weight of the slot loss beside the intent loss.
      seed: initialisation and shuffling seed.
      log_every: steps between progress lines (loss, examples/s, ETA).
      checkpoint_every: steps between checkpoints (and at every epoch end).
      keep_checkpoints: checkpoints kept in workdir/checkpoints.
      eval_every_epochs: validation metrics every this many epochs (0: only
        at the end).
      ema_momentum: 0 (off), or the momentum of an exponential moving
        average of the weights (AdamW's use_ema, e.g. 0.999) that replaces
        the trained weights when the run ends; mid-run validation reads the
        trained weights, the final checkpoint and everything after it the
        average.
      language_sampling_exponent: α in [0, 1]; each language's examples
        are repeated round((n_max / n_L)^(1 - α)) times per epoch, so the
        languages are seen about in proportion to n_L^α (1 = the natural
        mix, off; 0.5 = the usual choice of multilingual models;
        pqrnn.data.sampling).
    """
    config = ml_collections.ConfigDict()
    config.data = ml_collections.ConfigDict(
        dict(
            dataset="synthetic",
            languages="all",
            root=ml_collections.FieldReference(None, field_type=str),
            train_files="",
            validation_files="",
            test_files="",
            strict=False,
            drop_overlap=False,
            max_train_examples=0,
        )
    )
    config.projection = ml_collections.ConfigDict(
        dict(
            max_seq_len=64,
            add_bos_tag=False,
            add_eos_tag=False,
            word_novelty_bits=0,
            doc_size_levels=0,
            distortion_probability=0.0,
            unseen_word_probability=0.0,
            lowercase=True,
            char_ngram_size=0,
            char_ngram_sqrt=False,
        )
    )
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    config.model = ml_collections.ConfigDict(
        dict(
            name=model,
            pqrnn=PQRNNConfig().to_dict(),
            bilstm=BiLSTMConfig().to_dict(),
            transformer=TransformerConfig().to_dict(),
        )
    )
    config.train = ml_collections.ConfigDict(
        dict(
            batch_size=64,
            epochs=10,
            learning_rate=2e-3,
            warmup_steps=200,
            weight_decay=1e-4,
            clip_norm=1.0,
            slot_loss_weight=1.0,
            seed=0,
            log_every=50,
            checkpoint_every=500,
            keep_checkpoints=2,
            eval_every_epochs=0,
            ema_momentum=0.0,
            language_sampling_exponent=1.0,
        )
    )
    return config
