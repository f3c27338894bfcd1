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
# run <name> <binary> <preset> <flags...>: trains workdirs/ablate_en_f2048_<name>, scores it on test.
run() {
  name=ablate_en_f2048_$1 binary=$2 preset=$3; shift 3
  # shellcheck disable=SC2086
  $PY -m pqrnn.bin.$binary --config=pqrnn/configs/$preset $common "$@" \
    --workdir=workdirs/$name > workdirs/logs/$name.log 2>&1
  $PY -m pqrnn.bin.evaluate --workdir=workdirs/$name --split=test > workdirs/logs/$name.test.log 2>&1
}
run pqrnn train multiatis.py:pqrnn --config.train.epochs=12
run distill_aug2_T1_a05 distill distill.py:multiatis --config.distill.unknown_teacher_labels=drop \
  --config.train.epochs=4 --config.distill.augmented_amount=2
run distill_aug0_T1_a05 distill distill.py:multiatis --config.distill.unknown_teacher_labels=drop \
  --config.train.epochs=12 --config.distill.augmented_logits=
grep -H -E '^en ' workdirs/logs/ablate_en_f2048_*.test.log
