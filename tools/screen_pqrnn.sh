#!/usr/bin/env bash
# Screens pQRNN variants on MultiATIS++ (all 9 languages), selected on the
# validation split (test is scored once, for the variant that is kept).
#   tools/screen_pqrnn.sh <variant> [<variant> ...]
# Variants (same schedule as tools/run_results.sh; sizes are explicit, so a
# variant means the same model whatever PQRNNConfig's defaults are):
#   f512_l3      feature 512, bottleneck 96, 3 QRNN layers, state 64 (the
#                default before 2026-11-21)
#   distort01    f512_l3 + projection distortion 0.1 during training
#   f2048_l2     feature 2048, bottleneck 96, 2 QRNN layers (the default now)
#   f4096_l1     feature 4096, bottleneck 96, 1 QRNN layer
#   f3072_b64_l2 feature 3072, bottleneck 64, 2 QRNN layers
# DATASET=mtop screens on MTOP (6 epochs). Workdirs go to
# workdirs/<dataset>_screen_<variant>; logs to workdirs/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATASET=${DATASET:-multiatis}
case $DATASET in
  multiatis) schedule="--config.train.batch_size=128 --config.train.epochs=12 --config.train.learning_rate=3e-3" ;;
  mtop) schedule="--config.train.batch_size=128 --config.train.epochs=6 --config.train.learning_rate=3e-3" ;;
  *) echo "unknown DATASET $DATASET" >&2; exit 2 ;;
esac
mkdir -p workdirs/logs
for variant in "$@"; do
  f512_l3="--config.model.pqrnn.feature_size=512 --config.model.pqrnn.num_layers=3"
  case $variant in
    f512_l3) flags="$f512_l3" ;;
    distort01) flags="$f512_l3 --config.projection.distortion_probability=0.1" ;;
    f2048_l2) flags="--config.model.pqrnn.feature_size=2048 --config.model.pqrnn.num_layers=2" ;;
    f4096_l1) flags="--config.model.pqrnn.feature_size=4096 --config.model.pqrnn.num_layers=1" ;;
    f3072_b64_l2) flags="--config.model.pqrnn.feature_size=3072 --config.model.pqrnn.bottleneck=64 --config.model.pqrnn.num_layers=2" ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  name=${DATASET}_screen_${variant}
  workdir=workdirs/$name
  echo "=== $(date -u +%H:%M:%S) train $name"
  # shellcheck disable=SC2086
  $PY -m pqrnn.bin.train --config=pqrnn/configs/$DATASET.py:pqrnn $schedule $flags \
    --workdir=$workdir > workdirs/logs/$name.train.log 2>&1
  echo "=== $(date -u +%H:%M:%S) evaluate $name (validation)"
  $PY -m pqrnn.bin.evaluate --workdir=$workdir --split=validation > workdirs/logs/$name.validation.log 2>&1
  tail -n 4 workdirs/logs/$name.validation.log
done
