"""Tests of pqrnn.models.losses and the masked slot accuracy metric."""

import numpy as np
import pytest
import tensorflow as tf

from pqrnn.models import MaskedSlotAccuracy
from pqrnn.models.losses import IGNORE_LABEL, masked_sparse_ce

LOGITS = np.random.default_rng(6).standard_normal((2, 3, 4)).astype(np.float32)
LABELS = np.array([[1, 3, IGNORE_LABEL], [IGNORE_LABEL, 0, 2]])


def manual_ce():
    log_probs = tf.nn.log_softmax(LOGITS).numpy()
    picked = [
        -log_probs[b, t, LABELS[b, t]] for b in range(2) for t in range(3) if LABELS[b, t] >= 0
    ]
    return np.mean(picked)


def test_mean_over_labelled_tokens():
    np.testing.assert_allclose(masked_sparse_ce(LABELS, LOGITS), manual_ce(), rtol=1e-6)
    np.testing.assert_allclose(masked_sparse_ce(LABELS[..., None], LOGITS), manual_ce(), rtol=1e-6)
    probabilities = tf.nn.softmax(LOGITS)
    np.testing.assert_allclose(
        masked_sparse_ce(LABELS, probabilities, from_logits=False), manual_ce(), rtol=1e-4
    )


def test_ignored_positions_do_not_matter():
    changed = LOGITS.copy()
    changed[0, 2] = 1e4  # a labelled -1 position
    np.testing.assert_allclose(masked_sparse_ce(LABELS, changed), manual_ce(), rtol=1e-6)
    assert float(masked_sparse_ce(np.full((2, 3), -1), LOGITS)) == 0.0


def test_gradient_only_reaches_labelled_logits():
    logits = tf.constant(LOGITS)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = masked_sparse_ce(LABELS, logits)
    gradient = tape.gradient(loss, logits).numpy()
    assert np.all(gradient[LABELS < 0] == 0) and np.all(np.abs(gradient[LABELS >= 0]).sum(-1) > 0)


def test_masked_slot_accuracy():
    metric = MaskedSlotAccuracy()
    predictions = np.argmax(LOGITS, -1)
    hits = [
        predictions[b, t] == LABELS[b, t] for b in range(2) for t in range(3) if LABELS[b, t] >= 0
    ]
    metric.update_state(LABELS, LOGITS)
    assert float(metric.result()) == pytest.approx(np.mean(hits))
    metric.reset_state()
    metric.update_state(LABELS, tf.one_hot(np.maximum(LABELS, 0), 4))
    assert float(metric.result()) == 1.0
    metric.update_state(LABELS, LOGITS, sample_weight=np.array([0.0, 0.0]))
    assert float(metric.result()) == 1.0
