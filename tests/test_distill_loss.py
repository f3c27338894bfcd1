"""The student loss: hard/soft mix, temperature, masking."""

import numpy as np
import pytest
import tensorflow as tf

import pqrnn  # noqa: F401
from pqrnn.distill.losses import TEACHER_INTENT, TEACHER_SLOTS, DistillationLoss, tempered_kl
from pqrnn.training.trainer import joint_loss

RNG = np.random.default_rng(0)
OUTPUTS = {
    "intent": tf.constant(RNG.normal(size=[3, 4]), tf.float32),
    "slots": tf.constant(RNG.normal(size=[3, 5, 6]), tf.float32),
}
LABELS = {
    "intent": tf.constant([0, 3, 1]),
    "slots": tf.constant([[-1, 2, 0, 1, -1], [-1, 5, -1, -1, -1], [-1, 0, 0, 0, 4]]),
}
FEATURES = {
    TEACHER_INTENT: tf.constant(RNG.normal(size=[3, 4]), tf.float32),
    TEACHER_SLOTS: tf.constant(RNG.normal(size=[3, 5, 6]), tf.float32),
}


def numpy_kl(teacher, student, t):
    def log_softmax(x):
        x = x / t
        x = x - x.max(-1, keepdims=True)
        return x - np.log(np.exp(x).sum(-1, keepdims=True))

    p, q = log_softmax(teacher), log_softmax(student)
    return (np.exp(p) * (p - q)).sum(-1) * t * t


def test_tempered_kl_matches_numpy():
    t, s = FEATURES[TEACHER_SLOTS].numpy(), OUTPUTS["slots"].numpy()
    np.testing.assert_allclose(tempered_kl(t, s, 3.0).numpy(), numpy_kl(t, s, 3.0), rtol=1e-5)


def test_alpha_one_is_the_joint_loss():
    ours = DistillationLoss(alpha=1.0)(OUTPUTS, LABELS, FEATURES, 3, 1)
    joint = joint_loss(OUTPUTS, LABELS, 3, 1.0, 1)
    np.testing.assert_allclose(float(ours.total), float(joint.total), rtol=1e-6)


def test_alpha_zero_is_the_masked_kl():
    temperature = 2.0
    loss = DistillationLoss(alpha=0.0, temperature=temperature)(OUTPUTS, LABELS, FEATURES, 3, 1)
    intent = numpy_kl(FEATURES[TEACHER_INTENT].numpy(), OUTPUTS["intent"].numpy(), temperature)
    np.testing.assert_allclose(float(loss.intent), intent.mean(), rtol=1e-5)
    per_token = numpy_kl(FEATURES[TEACHER_SLOTS].numpy(), OUTPUTS["slots"].numpy(), temperature)
    mask = LABELS["slots"].numpy() >= 0
    np.testing.assert_allclose(float(loss.slots), per_token[mask].mean(), rtol=1e-5)


def test_ignored_positions_and_a_perfect_student():
    # Teacher rows at ignored positions (BOS/EOS/padding) change nothing.
    changed = dict(FEATURES)
    mask = (LABELS["slots"] >= 0)[..., None]
    changed[TEACHER_SLOTS] = tf.where(mask, FEATURES[TEACHER_SLOTS], 99.0)
    loss = DistillationLoss(alpha=0.3)
    np.testing.assert_allclose(
        float(loss(OUTPUTS, LABELS, changed, 3, 1).total),
        float(loss(OUTPUTS, LABELS, FEATURES, 3, 1).total),
        rtol=1e-6,
    )
    same = {TEACHER_INTENT: OUTPUTS["intent"], TEACHER_SLOTS: OUTPUTS["slots"]}
    assert abs(float(DistillationLoss(alpha=0.0)(OUTPUTS, LABELS, same, 3, 1).total)) < 1e-5


def test_gradients_flow_and_arguments_are_checked():
    student = tf.Variable(OUTPUTS["slots"])
    with tf.GradientTape() as tape:
        outputs = {"intent": OUTPUTS["intent"], "slots": student}
        total = DistillationLoss(alpha=0.0, temperature=4.0)(outputs, LABELS, FEATURES, 3, 1).total
    grad = tape.gradient(total, student).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    assert np.all(grad[~(LABELS["slots"].numpy() >= 0)] == 0)
    with pytest.raises(ValueError, match="alpha"):
        DistillationLoss(alpha=1.5)
    with pytest.raises(ValueError, match="temperature"):
        DistillationLoss(temperature=0.0)
