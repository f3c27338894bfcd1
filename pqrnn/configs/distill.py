r"""Distillation students: a pQRNN trained on a teacher's logits (docs/DISTILLATION.md).

    python -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:smoke \
        --workdir=workdirs/distill_smoke              # ~2 min on 2 cores
    python -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:multiatis \
        --workdir=workdirs/distill_multiatis
    python -m pqrnn.bin.evaluate --workdir=workdirs/distill_multiatis --split=test

The arg picks the dataset (smoke, multiatis, mtop) and the student preset;
the teacher's logits default to where `pqrnn.bin.teacher` writes them for
pqrnn/configs/teacher.py:<dataset> in workdirs/teacher_<dataset>. The
teacher is read, never trained, here.

distill:
  teacher_logits: comma list of logits files covering the training set
    (joined to it by (language, id); every training example needs one).
  augmented_logits: comma list of logits files of augmented utterances
    ("" for none).
  augmented_amount: augmented utterances used per training utterance (the
    first round(amount * N) records; < 0: all of them).
  augmented_only: train on the augmented utterances alone.
  alpha: weight of the hard-label cross-entropy; 1 - alpha weighs
    T^2 * KL(teacher || student) at temperature T.
  temperature: T.
  teacher_logit_scale: multiplies the teacher's logits (after the norm).
  teacher_logit_norm: "none" or "standardize" (zero mean, unit variance per
    logit vector, before the scale).
  unknown_teacher_labels: "error" or "drop" a teacher label the student's
    vocabulary (built from the training set) does not have.
  hard_labels: for augmented utterances, "teacher" (its intent argmax and
    per-token tag argmax, made valid BIO by turning a stray "I-X" into
    "B-X"), "teacher_viterbi" (its intent argmax and its best valid BIO tag
    sequence, pqrnn.decoding) or "augmentation" (the tags the augmentation
    derived).
"""

import ml_collections

from pqrnn.configs import mtop, multiatis, smoke

_DATASETS = {"smoke": smoke, "multiatis": multiatis, "mtop": mtop}


def get_config(arg: str = "smoke"):
    dataset = arg or "smoke"
    if dataset not in _DATASETS:
        raise ValueError(f"distill preset {arg!r}: expected one of {sorted(_DATASETS)}")
    config = _DATASETS[dataset].get_config("pqrnn")
    logits = f"workdirs/teacher_{dataset}/logits"
    config.distill = ml_collections.ConfigDict(
        dict(
            teacher_logits=f"{logits}/train.tfrecord",
            augmented_logits=f"{logits}/augmented.tfrecord",
            augmented_amount=-1.0,
            augmented_only=False,
            alpha=0.5,
            temperature=1.0,
            teacher_logit_scale=1.0,
            teacher_logit_norm="none",
            unknown_teacher_labels="error",
            hard_labels="teacher",
        )
    )
    # With augmentation amount 2 an epoch holds three times the training set:
    # a third of the epochs of the pQRNN trained alone (tools/run_results.sh,
    # 12 and 6 epochs) gives the student the same number of steps.
    if dataset == "multiatis":
        config.train.update(epochs=4, batch_size=128, learning_rate=3e-3)
    elif dataset == "mtop":
        config.train.update(epochs=2, batch_size=128, learning_rate=3e-3)
    return config
