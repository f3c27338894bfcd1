#!/usr/bin/env bash
# Trains and evaluates every model of docs/RESULTS.md ("Intent + slots without
# pre-training"), one after the other, on the real data in ../shared/data.
#   tools/run_results.sh [multiatis|mtop|all] [pqrnn bilstm transformer]
# Workdirs go to workdirs/<dataset>_<model>; logs to workdirs/logs/. A second
# run resumes unfinished trainings and re-evaluates. CNG=n turns on the
# projection's character n-grams of size n (pqrnn only; workdir and logs get
# the suffix _cng<n>), SQRT=1 with it scales their sum by 1/sqrt(G) (suffix
# _sqrt), and STEPS=k trains k times the epochs (suffix _<k>x, before the
# others).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
datasets=${1:-all}
shift || true
models=${*:-pqrnn bilstm transformer}
[ "$datasets" = all ] && datasets="multiatis mtop"
mkdir -p workdirs/logs
for dataset in $datasets; do
  case $dataset in
    multiatis) epochs=12 ;;
    mtop) epochs=6 ;;
    *) echo "unknown dataset $dataset" >&2; exit 2 ;;
  esac
  overrides="--config.train.batch_size=128 --config.train.learning_rate=3e-3"
  for model in $models; do
    suffix=""; extra="--config.train.epochs=$((epochs * ${STEPS:-1}))"
    if [ -n "${STEPS:-}" ] && [ "$STEPS" != 1 ]; then suffix=_${STEPS}x; fi
    if [ -n "${CNG:-}" ] && [ "$model" = pqrnn ]; then
      suffix=${suffix}_cng$CNG; extra="$extra --config.projection.char_ngram_size=$CNG"
      if [ -n "${SQRT:-}" ]; then
        suffix=${suffix}_sqrt; extra="$extra --config.projection.char_ngram_sqrt=true"
      fi
    fi
    workdir=workdirs/${dataset}_${model}$suffix
    log=workdirs/logs/${dataset}_${model}$suffix
    echo "=== $(date -u +%H:%M:%S) train $dataset $model"
    /usr/bin/time -v $PY -m pqrnn.bin.train --config=pqrnn/configs/$dataset.py:$model $overrides $extra \
      --workdir=$workdir > $log.train.log 2>&1
    echo "=== $(date -u +%H:%M:%S) evaluate $dataset $model"
    $PY -m pqrnn.bin.evaluate --workdir=$workdir --split=test > $log.test.log 2>&1
    tail -n 12 $log.test.log
  done
done
