#!/usr/bin/env bash
# MultiATIS++ English with the current default student (projection 2048, 2
# QRNN layers; preset T = 1): pQRNN alone (12 epochs), distilled with 2x
# augmentation (4 epochs) and without augmentation (12 epochs), all at the
# same number of steps (docs/RESULTS.md, "Ablations"). The teacher is the
# multilingual one of tools/distill_results.sh multiatis.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p workdirs/logs
PY=${PY:-.venv/bin/python}
common="--config.data.languages=en --config.train.batch_size=128 --config.train.learning_rate=3e-3"
$PY -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:pqrnn $common --config.train.epochs=12 \
  --workdir=workdirs/ablate_en_f2048_pqrnn > workdirs/logs/ablate_en_f2048_pqrnn.log 2>&1
$PY -m pqrnn.bin.evaluate --workdir=workdirs/ablate_en_f2048_pqrnn --split=test > workdirs/logs/ablate_en_f2048_pqrnn.test.log 2>&1
$PY -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:multiatis $common --config.distill.unknown_teacher_labels=drop \
  --config.train.epochs=4 --config.distill.augmented_amount=2 \
  --workdir=workdirs/ablate_en_f2048_distill_aug2_T1_a05 > workdirs/logs/ablate_en_f2048_distill_aug2_T1_a05.log 2>&1
$PY -m pqrnn.bin.evaluate --workdir=workdirs/ablate_en_f2048_distill_aug2_T1_a05 --split=test > workdirs/logs/ablate_en_f2048_distill_aug2_T1_a05.test.log 2>&1
$PY -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:multiatis $common --config.distill.unknown_teacher_labels=drop \
  --config.train.epochs=12 --config.distill.augmented_logits= \
  --workdir=workdirs/ablate_en_f2048_distill_aug0_T1_a05 > workdirs/logs/ablate_en_f2048_distill_aug0_T1_a05.log 2>&1
$PY -m pqrnn.bin.evaluate --workdir=workdirs/ablate_en_f2048_distill_aug0_T1_a05 --split=test > workdirs/logs/ablate_en_f2048_distill_aug0_T1_a05.test.log 2>&1
grep -H -E '^en ' workdirs/logs/ablate_en_f2048_*.test.log
