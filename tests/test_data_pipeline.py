"""Tests of pqrnn.data.pipeline with a tf.strings stand-in for the projection op.

The stand-in splits on spaces and hashes each token into a bucket, which is
enough here: what the pipeline must get right is token positions, BOS/EOS,
truncation and padding, not the features themselves.
"""

import numpy as np
import pytest

import pqrnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

# isort: split
import tensorflow as tf

from pqrnn.data import Example, LabelVocabs
from pqrnn.data.pipeline import (
    BOS_TOKEN,
    EOS_TOKEN,
    IGNORE_ID,
    make_dataset,
    make_token_dataset,
    predictions_from_ids,
)

FEATURES = 8

EXAMPLES = [
    Example("1", "en", ("fly", "to", "new", "york"), ("O", "O", "B-city", "I-city"), "flight"),
    Example("2", "en", ("wake", "me"), ("O", "B-who"), "alarm"),
    Example(
        "3",
        "de",
        ("flug", "nach", "rom", "am", "montag"),
        ("O", "O", "B-city", "O", "B-day"),
        "flight",
    ),
]


def fake_projection(add_bos=False, add_eos=False, max_seq_len=0):
    """[B] strings -> ([B, T, FEATURES] one-hot hash buckets, [B] lengths)."""

    def project(texts):
        tokens = tf.strings.split(texts, sep=" ")
        if max_seq_len:
            tokens = tokens[:, :max_seq_len]
        pieces = []
        if add_bos:
            pieces.append(tf.fill([tf.shape(texts)[0], 1], "<BOS>"))
        pieces.append(tokens)
        if add_eos:
            pieces.append(tf.fill([tf.shape(texts)[0], 1], "<EOS>"))
        tokens = tf.concat(pieces, axis=1) if len(pieces) > 1 else tokens
        buckets = tf.strings.to_hash_bucket_fast(tokens, FEATURES)
        projection = tf.one_hot(buckets, FEATURES, dtype=tf.float32).to_tensor()
        return projection, tf.cast(tokens.row_lengths(), tf.int32)

    return project


@pytest.fixture(scope="module")
def vocabs():
    return LabelVocabs.build(EXAMPLES)


def batches(dataset):
    return [
        (
            tf.nest.map_structure(lambda t: t.numpy(), f),
            tf.nest.map_structure(lambda t: t.numpy(), labels),
        )
        for f, labels in dataset
    ]


def tag_ids(vocabs, tags):
    return vocabs.tags.encode(tags)


def test_projection_batches_and_label_alignment(vocabs):
    ds = make_dataset(EXAMPLES, vocabs, fake_projection(), batch_size=2)
    (f1, l1), (f2, l2) = batches(ds)
    assert set(f1) == {"projection", "sequence_length", "text", "language"}
    assert f1["projection"].shape == (2, 4, FEATURES) and f1["projection"].dtype == np.float32
    assert f1["sequence_length"].tolist() == [4, 2]
    assert f1["text"].tolist() == [b"fly to new york", b"wake me"]
    assert f1["language"].tolist() == [b"en", b"en"]
    assert l1["intent"].tolist() == vocabs.intents.encode(["flight", "alarm"])
    assert l1["intent"].dtype == np.int32 and l1["slots"].dtype == np.int32
    assert l1["slots"].tolist() == [
        tag_ids(vocabs, ["O", "O", "B-city", "I-city"]),
        tag_ids(vocabs, ["O", "B-who"]) + [IGNORE_ID, IGNORE_ID],
    ]
    assert f2["projection"].shape == (1, 5, FEATURES)
    assert l2["slots"].shape == (1, 5)


def test_bos_eos_and_truncation(vocabs):
    ds = make_dataset(
        EXAMPLES,
        vocabs,
        fake_projection(add_bos=True, add_eos=True, max_seq_len=3),
        batch_size=3,
        add_bos=True,
        add_eos=True,
        max_seq_len=3,
    )
    ((features, labels),) = batches(ds)
    assert features["projection"].shape == (3, 5, FEATURES)
    assert features["sequence_length"].tolist() == [5, 4, 5]
    # The text is not truncated: the op truncates.
    assert features["text"][2] == b"flug nach rom am montag"
    i = IGNORE_ID
    assert labels["slots"].tolist() == [
        [i, *tag_ids(vocabs, ["O", "O", "B-city"]), i],
        [i, *tag_ids(vocabs, ["O", "B-who"]), i, i],
        [i, *tag_ids(vocabs, ["O", "O", "B-city"]), i],
    ]


def test_mismatched_projection_config_fails_with_message(vocabs):
    ds = make_dataset(EXAMPLES, vocabs, fake_projection(add_bos=False), batch_size=3, add_bos=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="same add_bos/add_eos/max_seq_len"):
        batches(ds)


def test_token_dataset_layout(vocabs):
    ds = make_token_dataset(EXAMPLES, vocabs, batch_size=3, add_bos=True, max_seq_len=4)
    ((features, labels),) = batches(ds)
    assert set(features) == {"tokens", "sequence_length", "text", "language"}
    assert features["tokens"].tolist() == [
        [BOS_TOKEN.encode(), b"fly", b"to", b"new", b"york"],
        [BOS_TOKEN.encode(), b"wake", b"me", b"", b""],
        [BOS_TOKEN.encode(), b"flug", b"nach", b"rom", b"am"],
    ]
    assert features["sequence_length"].tolist() == [5, 3, 5]
    assert labels["slots"].shape == (3, 5) and labels["slots"][1, 3:].tolist() == [-1, -1]
    ds = make_dataset(
        EXAMPLES,
        vocabs,
        fake_projection(add_eos=True),
        batch_size=1,
        add_eos=True,
        include_tokens=True,
    )
    features, _ = batches(ds)[1]
    assert features["tokens"].tolist() == [[b"wake", b"me", EOS_TOKEN.encode()]]
    assert "projection" in features


def test_shuffle_seed_repeat_and_drop_remainder(vocabs):
    def order(seed):
        ds = make_token_dataset(EXAMPLES, vocabs, batch_size=1, shuffle=True, seed=seed, repeat=2)
        return [f["text"][0] for f, _ in batches(ds)]

    assert order(3) == order(3)
    assert any(order(seed) != order(3) for seed in (4, 5, 6))  # The seed matters.
    assert any(order(seed)[:3] != order(seed)[3:] for seed in (3, 4, 5))  # Reshuffled per repeat.
    assert len(order(3)) == 6 and sorted(order(3)[:3]) == sorted(e.text.encode() for e in EXAMPLES)
    ds = make_token_dataset(EXAMPLES, vocabs, batch_size=2, drop_remainder=True)
    assert [f["text"].shape[0] for f, _ in batches(ds)] == [2]
    ds = make_token_dataset(EXAMPLES, vocabs, batch_size=2, repeat=True)
    assert len(batches(ds.take(5))) == 5
    assert ds.element_spec[1]["slots"].shape.as_list() == [None, None]


def test_unknown_labels(vocabs):
    unseen = [Example("9", "en", ("hi",), ("B-new",), "greet")]
    ((_, labels),) = batches(make_token_dataset(unseen, vocabs, batch_size=1))
    assert labels["intent"].tolist() == [vocabs.intents.unknown_id]
    assert labels["slots"].tolist() == [[vocabs.tags.unknown_id]]
    with pytest.raises(KeyError, match="'B-new' is not in the tags vocabulary"):
        make_token_dataset(unseen, vocabs, batch_size=1, strict_labels=True)


def test_bad_arguments(vocabs):
    with pytest.raises(ValueError, match="batch_size"):
        make_token_dataset(EXAMPLES, vocabs, batch_size=0)
    with pytest.raises(ValueError, match="at least one example"):
        make_token_dataset([], vocabs, batch_size=1)


def test_predictions_from_ids_round_trip(vocabs):
    ds = make_token_dataset(
        EXAMPLES, vocabs, batch_size=3, add_bos=True, add_eos=True, max_seq_len=3
    )
    ((_, labels),) = batches(ds)
    slot_ids = np.where(labels["slots"] < 0, 0, labels["slots"])
    predictions = predictions_from_ids(
        EXAMPLES, labels["intent"], slot_ids, vocabs, add_bos=True, max_seq_len=3
    )
    assert predictions[0] == ("flight", ("O", "O", "B-city", "O"))  # 4th token truncated -> O
    assert predictions[1] == ("alarm", ("O", "B-who"))
    assert predictions[2][1] == ("O", "O", "B-city", "O", "O")
    unk = vocabs.tags.unknown_id
    assert predictions_from_ids(EXAMPLES[1:2], [0], [[unk, unk]], vocabs)[0][1] == ("O", "O")
    with pytest.raises(ValueError, match="expected one of each"):
        predictions_from_ids(EXAMPLES, [0], [[0]], vocabs)


def test_real_projection_op_sees_the_same_tokens(vocabs):
    """With pqrnn.ops (when built): the op's token count equals the labels'
    for normalized examples whose raw tokens held all kinds of whitespace."""
    import functools

    from pqrnn import _lib, ops

    try:
        ops.load_tf_ops()
    except _lib.OpLibraryNotFoundError as e:
        pytest.skip(str(e))
    from pqrnn.data import normalize_tokens

    raw = [
        (("fly\u00a0to", "new\u3000york", "\u2028"), ("O", "B-city", "O")),
        (("a\u200ab", "\u0085c", "d\u205f"), ("B-who", "I-who", "O")),
        (("x",) * 7, ("O",) * 7),
    ]
    examples = [
        Example(str(i), "en", *normalize_tokens(t, g)[:2], "flight") for i, (t, g) in enumerate(raw)
    ]
    projection_fn = functools.partial(
        ops.sequence_string_projection,
        feature_size=FEATURES,
        max_seq_len=5,
        add_bos_tag=True,
        add_eos_tag=True,
    )
    ds = make_dataset(
        examples, vocabs, projection_fn, batch_size=3, add_bos=True, add_eos=True, max_seq_len=5
    )
    ((features, labels),) = batches(ds)
    assert features["sequence_length"].tolist() == [6, 6, 7]
    assert features["projection"].shape == (3, 7, FEATURES)
    assert labels["slots"].shape == (3, 7)
