r"""Distillation teachers: train one, then write its logits (docs/DISTILLATION.md).

    python -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:smoke \
        --workdir=workdirs/teacher_smoke            # ~3 min on 2 cores
    python -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:multiatis \
        --workdir=workdirs/teacher_multiatis
    python -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:mtop \
        --workdir=workdirs/teacher_mtop
    python -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:mtop,bert \
        --config.bert.checkpoint=/path/to/bert_base_multi --workdir=workdirs/teacher_mtop_bert

The arg is "<dataset>[,<kind>]": dataset smoke (generated data), multiatis or
mtop; kind char_bilstm (default: word + character-CNN BiLSTM, trained from
scratch by pqrnn's trainer, `ensemble_size` members averaged) or bert (a
local KerasHub/Hugging Face BERT checkpoint fine-tuned with KerasHub; on a
CPU expect hours per epoch for mBERT-base on MTOP).

Fields beyond the experiment's (pqrnn/configs/common.py):
  model.char_bilstm: pqrnn.distill.char_bilstm.CharBiLSTMConfig.
  teacher.kind: "char_bilstm" or "bert".
  teacher.ensemble_size: char_bilstm members (workdir/member_<i> when > 1).
  teacher.eval_splits: splits the teacher is scored on
    (teacher_metrics_<split>.json).
  teacher.augment.*: pqrnn.distill.augment.AugmentConfig (methods as a comma
    list; amount = augmented utterances per training utterance, 0: none).
  teacher.label_batch_size: inference batch size when writing logits.
  teacher.compression: "" or "GZIP" for the logits files.
  bert.*: the BERT fine-tuning (checkpoint: a local folder, required).
"""

import ml_collections

from pqrnn.configs import mtop, multiatis, smoke
from pqrnn.distill.augment import METHODS
from pqrnn.distill.char_bilstm import CharBiLSTMConfig

KINDS = ("char_bilstm", "bert")
_DATASETS = {"smoke": smoke, "multiatis": multiatis, "mtop": mtop}


def get_config(arg: str = "smoke"):
    dataset, _, kind = (arg or "smoke").partition(",")
    kind = kind or "char_bilstm"
    if dataset not in _DATASETS or kind not in KINDS:
        raise ValueError(
            f"teacher preset {arg!r}: expected '<dataset>[,<kind>]' with dataset in "
            f"{sorted(_DATASETS)} and kind in {KINDS}"
        )
    config = _DATASETS[dataset].get_config("bilstm")
    config.model.name = "char_bilstm"
    config.model.char_bilstm = CharBiLSTMConfig().to_dict()
    config.teacher = ml_collections.ConfigDict(
        dict(
            kind=kind,
            ensemble_size=1,
            eval_splits="validation,test",
            label_batch_size=256,
            compression="",
            augment=dict(
                amount=2.0,
                methods=",".join(METHODS),
                dropout_rate=0.15,
                replace_rate=0.5,
                seed=0,
            ),
        )
    )
    config.bert = ml_collections.ConfigDict(
        dict(
            checkpoint="",
            max_subwords=128,
            epochs=3,
            batch_size=32,
            learning_rate=5e-5,
            warmup_fraction=0.1,
            weight_decay=0.01,
            dropout=0.1,
        )
    )
    if dataset == "smoke":
        config.model.char_bilstm.update(
            word_dim=32, char_dim=16, char_filters=16, lstm_units=64, num_layers=1
        )
        config.train.update(epochs=10, learning_rate=5e-3)
        config.teacher.eval_splits = "validation"
        config.bert.update(epochs=2, batch_size=16, learning_rate=1e-3)
    elif dataset == "multiatis":
        # The run of docs/RESULTS.md ("Distillation"): 40 min on 2 shared cores.
        config.train.update(epochs=8, batch_size=128, learning_rate=3e-3)
    else:
        # The run of docs/RESULTS.md: 36 min on 2 shared cores.
        config.train.update(epochs=4, batch_size=128, learning_rate=3e-3)
    return config
