"""tf.data pipelines from Examples, with labels aligned to the projection op.

The text fed to the projection op is `" ".join(example.tokens)`; since
readers guarantee tokens hold no whitespace, the op's token i is example
token i. Label layout, for an example of n tokens (`slot_positions`):

  position:  [BOS]   t_0 ... t_{k-1}   [EOS]   padding
  slots:      -1     tag ids            -1      -1

where k = min(n, max_seq_len) (max_seq_len 0 keeps all; like the op, the
limit excludes BOS/EOS), BOS only with add_bos, EOS only with add_eos. -1
marks positions a loss or metric must ignore. The projection is computed in
the pipeline after batching:
`.ragged_batch().map(project, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from pqrnn.data.example import OUTSIDE, Example
from pqrnn.data.vocab import UNKNOWN_LABEL, LabelVocabs

IGNORE_ID = -1
BOS_TOKEN = "<BOS>"
EOS_TOKEN = "<EOS>"

ProjectionFn = Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


def kept_tokens(num_tokens: int, max_seq_len: int) -> int:
    """How many of `num_tokens` tokens the op keeps (max_seq_len 0: all)."""
    return min(num_tokens, max_seq_len) if max_seq_len > 0 else num_tokens


def slot_positions(
    example: Example,
    vocabs: LabelVocabs,
    *,
    add_bos: bool = False,
    add_eos: bool = False,
    max_seq_len: int = 0,
    strict: bool = False,
) -> np.ndarray:
    """Slot label ids of `example` at the op's token positions (module docstring)."""
    k = kept_tokens(len(example.tokens), max_seq_len)
    ids = vocabs.tags.encode(example.tags[:k], strict=strict)
    return np.array(
        [IGNORE_ID] * add_bos + ids + [IGNORE_ID] * add_eos,
        dtype=np.int32,
    )


def _token_positions(example: Example, add_bos: bool, add_eos: bool, max_seq_len: int) -> list:
    k = kept_tokens(len(example.tokens), max_seq_len)
    return [BOS_TOKEN] * add_bos + list(example.tokens[:k]) + [EOS_TOKEN] * add_eos


def make_dataset(
    examples: Sequence[Example],
    vocabs: LabelVocabs,
    projection_fn: ProjectionFn | None = None,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    repeat: bool | int = False,
    drop_remainder: bool = False,
    add_bos: bool = False,
    add_eos: bool = False,
    max_seq_len: int = 0,
    include_tokens: bool = False,
    strict_labels: bool = False,
    extra_columns: Mapping[str, Sequence[np.ndarray]] | None = None,
) -> tf.data.Dataset:
    """A batched dataset of (features, labels) dicts for Keras `fit`/`evaluate`.

    Args:
      examples: the examples (e.g. from a reader).
      vocabs: label vocabularies (built from the training examples).
      projection_fn: maps texts [B] tf.string to (projection [B, T, F]
        float32, sequence_length [B] int32), e.g. a partial of
        `pqrnn.ops.sequence_string_projection`. It must be configured with
        the same add_bos/add_eos/max_seq_len as this call: the pipeline
        checks that its sequence_length equals the labels' and fails with a
        message if not. None: no projection (token features only).
      batch_size: examples per batch.
      shuffle: shuffle the examples (buffer: all of them) before batching,
        differently at each repetition.
      seed: shuffle seed; the same seed gives the same order.
      repeat: True repeats forever, an int that many times, False once.
      drop_remainder: drop a last, smaller batch.
      add_bos: position 0 is a BOS row (label -1).
      add_eos: a last EOS row (label -1).
      max_seq_len: tokens kept per example, BOS/EOS excluded; 0 keeps all.
      include_tokens: add a "tokens" feature (always there without a
        projection_fn).
      strict_labels: raise UnknownLabelError for a label missing from
        `vocabs` instead of mapping it to the "<unk>" id.
      extra_columns: more per-example features carried through unchanged
        (shuffled and batched with their example), e.g. a teacher's logits
        for distillation: name -> one array per example, in example order.
        Arrays of shape [L_i, ...] (L_i may differ) are batched to
        [B, max L_i, ...], padded with 0. The caller aligns rows with the
        token positions above if it needs to.

    Returns:
      A dataset of (features, labels):
        features["projection"]: [B, T, F] float32 (with projection_fn)
        features["sequence_length"]: [B] int32, BOS/EOS included
        features["tokens"]: [B, T] string, padded with "" (token mode)
        features["text"]: [B] string, the untruncated " ".join(tokens)
        features["language"]: [B] string
        features[name]: for each of extra_columns
        labels["intent"]: [B] int32
        labels["slots"]: [B, T] int32, -1 at BOS, EOS and padding
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if max_seq_len < 0:
        raise ValueError(f"max_seq_len must be >= 0, got {max_seq_len}")
    if not examples:
        raise ValueError("make_dataset needs at least one example")
    with_tokens = include_tokens or projection_fn is None
    slots = [
        slot_positions(
            e,
            vocabs,
            add_bos=add_bos,
            add_eos=add_eos,
            max_seq_len=max_seq_len,
            strict=strict_labels,
        )
        for e in examples
    ]
    lengths = np.array([len(s) for s in slots], dtype=np.int32)
    columns = {
        "text": tf.constant([e.text for e in examples], tf.string),
        "language": tf.constant([e.language for e in examples], tf.string),
        "intent": tf.constant(
            vocabs.intents.encode([e.intent for e in examples], strict=strict_labels), tf.int32
        ),
        "length": tf.constant(lengths),
        "slots": tf.RaggedTensor.from_row_lengths(np.concatenate(slots).astype(np.int32), lengths),
    }
    if with_tokens:
        token_rows = [_token_positions(e, add_bos, add_eos, max_seq_len) for e in examples]
        columns["tokens"] = tf.RaggedTensor.from_row_lengths(
            tf.constant([t for row in token_rows for t in row], tf.string), lengths
        )
    extra_names = _add_extra_columns(columns, extra_columns or {}, len(examples))
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        dataset = dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    if repeat is True:
        dataset = dataset.repeat()
    elif repeat:
        dataset = dataset.repeat(int(repeat))
    dataset = dataset.ragged_batch(batch_size, drop_remainder=drop_remainder)

    def to_features_and_labels(batch):
        features = {
            "sequence_length": batch["length"],
            "text": batch["text"],
            "language": batch["language"],
        }
        if with_tokens:
            features["tokens"] = batch["tokens"].to_tensor(default_value="")
        for name, key in extra_names.items():
            value = batch[key]
            features[name] = value.to_tensor() if isinstance(value, tf.RaggedTensor) else value
        if projection_fn is not None:
            projection, sequence_length = projection_fn(batch["text"])
            check = tf.debugging.assert_equal(
                tf.cast(sequence_length, tf.int32),
                batch["length"],
                message=(
                    "projection_fn's sequence_length differs from the labels' token count: "
                    "configure it with the same add_bos/add_eos/max_seq_len as make_dataset, "
                    "and feed it examples whose tokens hold no whitespace"
                ),
            )
            with tf.control_dependencies([check]):
                features["projection"] = tf.identity(projection)
            features["sequence_length"] = tf.cast(sequence_length, tf.int32)
        labels = {
            "intent": batch["intent"],
            "slots": batch["slots"].to_tensor(default_value=IGNORE_ID),
        }
        return features, labels

    dataset = dataset.map(to_features_and_labels, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


_FEATURE_NAMES = ("projection", "sequence_length", "tokens", "text", "language")


def _add_extra_columns(columns: dict, extra_columns: Mapping, num_examples: int) -> dict:
    """Adds `extra_columns` to `columns` (under private keys); returns name -> key."""
    names = {}
    for name, rows in extra_columns.items():
        if name in _FEATURE_NAMES:
            raise ValueError(f"extra column {name!r} would replace the pipeline's own feature")
        if len(rows) != num_examples:
            raise ValueError(
                f"extra column {name!r} has {len(rows)} rows for {num_examples} examples"
            )
        arrays = [np.asarray(row) for row in rows]
        key = f"extra:{name}"
        if all(a.shape == arrays[0].shape for a in arrays):
            columns[key] = tf.constant(np.stack(arrays))
        else:
            columns[key] = tf.RaggedTensor.from_row_lengths(
                np.concatenate(arrays), [len(a) for a in arrays]
            )
        names[name] = key
    return names


def make_token_dataset(
    examples: Sequence[Example], vocabs: LabelVocabs, **kwargs
) -> tf.data.Dataset:
    """`make_dataset` without a projection: features "tokens" [B, T] string
    (padded with "", "<BOS>"/"<EOS>" rows when asked), "sequence_length",
    "text", "language"; same labels. For word-embedding baselines."""
    return make_dataset(examples, vocabs, None, **kwargs)


def predictions_from_ids(
    examples: Sequence[Example],
    intent_ids: Sequence[int] | np.ndarray,
    slot_ids: Sequence[Sequence[int]] | np.ndarray,
    vocabs: LabelVocabs,
    *,
    add_bos: bool = False,
    max_seq_len: int = 0,
) -> list[tuple[str, tuple[str, ...]]]:
    """Turns a model's argmax outputs back into (intent, tags) per example.

    Args:
      examples: the examples, in the order the model saw them.
      intent_ids: [N] predicted intent ids.
      slot_ids: [N, T] predicted tag ids at the op's token positions (T may
        differ between batches if given as a list of rows).
      vocabs: the vocabularies the model was trained with.
      add_bos, max_seq_len: as given to `make_dataset`.

    Returns:
      One (intent, tags) per example, tags one per example token: tokens
      beyond max_seq_len get "O", a predicted "<unk>" tag becomes "O". This is
      the input `pqrnn.metrics.evaluate` expects.
    """
    if not len(examples) == len(intent_ids) == len(slot_ids):
        raise ValueError(
            f"{len(examples)} examples, {len(intent_ids)} intent predictions and "
            f"{len(slot_ids)} slot predictions: expected one of each per example"
        )
    out = []
    for example, intent_id, row in zip(examples, intent_ids, slot_ids, strict=True):
        n = len(example.tokens)
        k = kept_tokens(n, max_seq_len)
        row = np.asarray(row)[int(add_bos) : int(add_bos) + k]
        if len(row) != k:
            raise ValueError(
                f"example {example.id!r}: expected {k} slot predictions after BOS, got {len(row)}"
            )
        tags = [OUTSIDE if t == UNKNOWN_LABEL else t for t in vocabs.tags.decode(row)]
        tags += [OUTSIDE] * (n - k)
        out.append((vocabs.intents.label(int(intent_id)), tuple(tags)))
    return out
