"""Tests of pqrnn.layers.IntentHead and pqrnn.layers.SlotHead."""

import numpy as np
import pytest
import tensorflow as tf

from pqrnn import testing
from pqrnn.layers import IntentHead, SlotHead

RNG = np.random.default_rng(2)
ENCODINGS = RNG.standard_normal((3, 6, 8)).astype(np.float32)
LENGTHS = np.array([6, 2, 1], np.int32)


def test_intent_head_contract():
    testing.run_layer_test(
        IntentHead,
        dict(num_intents=5, dropout=0.1),
        ENCODINGS,
        call_kwargs={"sequence_length": LENGTHS},
        expected_output_shape=(3, 5),
    )


def test_intent_head_padding_invariance():
    head = IntentHead(5)
    testing.assert_padding_invariant(
        lambda x, lengths: head(x, sequence_length=lengths),
        ENCODINGS,
        LENGTHS,
        per_token=False,
    )


def test_intent_head_pools_real_tokens_only():
    head = IntentHead(5)
    head(ENCODINGS)
    # A one-token example pools exactly that token's encoding.
    single = head(ENCODINGS, sequence_length=LENGTHS)[2]
    expected = head.classifier(ENCODINGS[2:3, 0])[0]
    np.testing.assert_allclose(single, expected, atol=1e-6)
    # No real token at all: the pooled vector is zero, the logits are the bias.
    empty = head(ENCODINGS, sequence_length=np.zeros([3], np.int32))
    np.testing.assert_allclose(empty, np.tile(head.classifier.bias.numpy(), (3, 1)))


def test_intent_head_huge_scores_stay_finite():
    head = IntentHead(2)
    head(ENCODINGS)
    head.attention_score.kernel.assign(tf.fill([8, 1], 1e3))
    assert np.all(np.isfinite(head(ENCODINGS, sequence_length=LENGTHS)))


def test_slot_head_contract():
    head = testing.run_layer_test(
        SlotHead,
        dict(num_tags=7, dropout=0.1),
        ENCODINGS,
        expected_output_shape=(3, 6, 7),
    )
    assert head.compute_mask(ENCODINGS, tf.ones([3, 6], tf.bool)) is None


def test_heads_reject_bad_arguments():
    with pytest.raises(ValueError, match="num_intents"):
        IntentHead(0)
    with pytest.raises(ValueError, match="dropout"):
        SlotHead(3, dropout=1.0)
