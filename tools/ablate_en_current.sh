#!/usr/bin/env bash
# Distillation ablations on MultiATIS++ English with the current default
# student (projection 2048, 2 QRNN layers; preset T = 1, alpha = 0.5): pQRNN
# alone, then the student over augmentation amount, temperature and alpha,
# every run at the same number of steps as pQRNN alone (12 epochs of the
# English training set; amount a: 12 / (1 + a) epochs). docs/RESULTS.md,
# "Ablations". The teacher is the multilingual one of
# tools/distill_results.sh multiatis (its English logits and augmented
# utterances).
# Ends with each run's paired bootstrap against pQRNN alone (pqrnn.bin.compare).
#   tools/ablate_en_current.sh [name ...]     (default: all; ~5 min a run on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p workdirs/logs workdirs/predictions
PY=${PY:-.venv/bin/python}
common="--config.data.languages=en --config.train.batch_size=128 --config.train.learning_rate=3e-3"
drop="--config.distill.unknown_teacher_labels=drop"
# run <name> <binary> <preset> <flags...>: trains workdirs/ablate_en_f2048_<name>, scores it on test.
run() {
  name=ablate_en_f2048_$1 binary=$2 preset=$3; shift 3
  # shellcheck disable=SC2086
  $PY -m pqrnn.bin.$binary --config=pqrnn/configs/$preset $common "$@" \
    --workdir=workdirs/$name > workdirs/logs/$name.log 2>&1
  $PY -m pqrnn.bin.evaluate --workdir=workdirs/$name --split=test \
    --predictions_output=workdirs/predictions/$name.jsonl > workdirs/logs/$name.test.log 2>&1
  echo "$name: $(grep -E '^en ' workdirs/logs/$name.test.log)"
}
want() { [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $1 "* ]]; }
selected=("$@")
d="distill distill.py:multiatis $drop"
# shellcheck disable=SC2086
{
want pqrnn && run pqrnn train multiatis.py:pqrnn --config.train.epochs=12
want distill_aug2_T1_a05 && run distill_aug2_T1_a05 $d --config.train.epochs=4 \
  --config.distill.augmented_amount=2
want distill_aug0_T1_a05 && run distill_aug0_T1_a05 $d --config.train.epochs=12 \
  --config.distill.augmented_logits=
want distill_aug1_T1_a05 && run distill_aug1_T1_a05 $d --config.train.epochs=6 \
  --config.distill.augmented_amount=1
want distill_aug0_T2_a05 && run distill_aug0_T2_a05 $d --config.train.epochs=12 \
  --config.distill.augmented_logits= --config.distill.temperature=2
want distill_aug0_T4_a05 && run distill_aug0_T4_a05 $d --config.train.epochs=12 \
  --config.distill.augmented_logits= --config.distill.temperature=4
want distill_aug0_T1_a0 && run distill_aug0_T1_a0 $d --config.train.epochs=12 \
  --config.distill.augmented_logits= --config.distill.alpha=0
want distill_aug0_T1_a09 && run distill_aug0_T1_a09 $d --config.train.epochs=12 \
  --config.distill.augmented_logits= --config.distill.alpha=0.9
want distill_aug2_noteacher && run distill_aug2_noteacher $d --config.train.epochs=4 \
  --config.distill.augmented_amount=2 --config.distill.alpha=1 \
  --config.distill.hard_labels=augmentation
}
# Each run against pQRNN alone: paired bootstrap on the English test set.
for f in workdirs/predictions/ablate_en_f2048_*.jsonl; do
  a=$(basename "$f" .jsonl)
  [ "$a" = ablate_en_f2048_pqrnn ] && continue
  echo "$a - pqrnn alone: $($PY -m pqrnn.bin.compare --a="$f" \
    --b=workdirs/predictions/ablate_en_f2048_pqrnn.jsonl 2>/dev/null | tail -1)"
done
