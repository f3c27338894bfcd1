"""The student's loss: hard labels plus the teacher's softened distribution.

For the intent, and for every labelled token's slot tag (Hinton et al.,
2015, "Distilling the Knowledge in a Neural Network"):

    loss = alpha * CE(label, student) + (1 - alpha) * T^2 * KL(p_T || q_T)

where p_T = softmax(teacher / T), q_T = softmax(student / T). T^2 keeps the
soft term's gradients on the scale of the hard term's as T grows. Slot
losses are averaged over labelled positions only: padding, BOS and EOS rows
(label -1) have no teacher row and contribute nothing.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
import tf_keras as keras

from pqrnn.models.losses import masked_sparse_ce

TEACHER_INTENT = "teacher_intent_logits"
TEACHER_SLOTS = "teacher_slot_logits"


def tempered_kl(teacher_logits, student_logits, temperature: float):
    """KL(softmax(teacher/T) || softmax(student/T)) over the last axis, times T^2.

    Example:
    >>> x = tf.constant([[1.0, 2.0, 0.5]])
    >>> float(tempered_kl(x, x, 2.0)[0])
    0.0
    """
    t = tf.cast(temperature, tf.float32)
    teacher_log_p = tf.nn.log_softmax(tf.cast(teacher_logits, tf.float32) / t, axis=-1)
    student_log_q = tf.nn.log_softmax(tf.cast(student_logits, tf.float32) / t, axis=-1)
    kl = tf.reduce_sum(tf.exp(teacher_log_p) * (teacher_log_p - student_log_q), axis=-1)
    return kl * t * t


@dataclasses.dataclass(frozen=True)
class DistillationLoss:
    """A `loss_fn` for `pqrnn.training.trainer.train` that distills a teacher.

    It reads the teacher's logits from the batch's features
    (`features["teacher_intent_logits"]` [B, I] and
    `features["teacher_slot_logits"]` [B, T, S], aligned with the student's
    positions; `pqrnn.distill.transfer_set` puts them there).

    Args:
      alpha: weight of the hard-label cross-entropy; 1 - alpha goes to the
        soft (teacher) term. alpha=0 is pure distillation.
      temperature: T, softens both distributions.
      slot_loss_weight: weight of the slot loss beside the intent loss.

    Example:
    >>> loss = DistillationLoss(alpha=0.5, temperature=2.0)
    >>> outputs = {"intent": tf.zeros([2, 3]), "slots": tf.zeros([2, 4, 5])}
    >>> features = {"teacher_intent_logits": tf.zeros([2, 3]),
    ...             "teacher_slot_logits": tf.zeros([2, 4, 5])}
    >>> labels = {"intent": tf.constant([0, 1]), "slots": -tf.ones([2, 4], tf.int32)}
    >>> round(float(loss(outputs, labels, features, 2, 1).total), 4)  # 0.5 * ln 3
    0.5493
    """

    alpha: float = 0.5
    temperature: float = 2.0
    slot_loss_weight: float = 1.0

    def __post_init__(self):
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if self.temperature <= 0.0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")

    def __call__(self, outputs, labels, features, global_batch_size: int, num_replicas: int):
        from pqrnn.training.trainer import Losses

        hard_intent = keras.losses.sparse_categorical_crossentropy(
            labels["intent"], outputs["intent"], from_logits=True
        )
        soft_intent = tempered_kl(features[TEACHER_INTENT], outputs["intent"], self.temperature)
        intent = tf.nn.compute_average_loss(
            self.alpha * hard_intent + (1.0 - self.alpha) * soft_intent,
            global_batch_size=global_batch_size,
        )
        slot_labels = labels["slots"]
        hard_slots = masked_sparse_ce(slot_labels, outputs["slots"])
        weights = tf.cast(slot_labels >= 0, tf.float32)
        soft = tempered_kl(features[TEACHER_SLOTS], outputs["slots"], self.temperature)
        soft_slots = tf.math.divide_no_nan(tf.reduce_sum(soft * weights), tf.reduce_sum(weights))
        slots = (self.alpha * hard_slots + (1.0 - self.alpha) * soft_slots) / num_replicas
        return Losses(intent + self.slot_loss_weight * slots, intent, slots)
