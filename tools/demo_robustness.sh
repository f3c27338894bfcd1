#!/usr/bin/env bash
# How often does the README demo's int8 export pass the exporter's checks?
# Trains the smoke preset with several seeds (a seed stands in for another
# machine's floating-point rounding), quantizes it as `make demo` does and
# runs the checked export; prints one line per seed and the pass count.
#
#   tools/demo_robustness.sh [SEEDS (default "0 1 2 3 4 5 6 7")] [extra train flags...]
#   e.g. tools/demo_robustness.sh "0 1 2 3" --config.train.epochs=3
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SEEDS=${1:-0 1 2 3 4 5 6 7}
shift || true
ROOT=${ROOT:-/tmp/pqrnn_demo_robustness}
METHOD=${METHOD:-qat}
passed=0 total=0
for seed in $SEEDS; do
  wd=$ROOT/seed$seed
  rm -rf "$wd"
  log=$ROOT/seed$seed.log
  mkdir -p "$ROOT"
  {
    $PY -m pqrnn.bin.train --config=pqrnn/configs/smoke.py --workdir="$wd" \
      --config.train.seed="$seed" "$@" &&
      $PY export/quantize.py --workdir="$wd" --method="$METHOD" &&
      $PY export/export.py --workdir="$wd" --saved_model=false
  } >"$log" 2>&1
  rc=$?
  total=$((total + 1))
  [ $rc -eq 0 ] && passed=$((passed + 1))
  echo "seed $seed rc=$rc $(grep -E 'exact match, (float|QAT|int8)' "$log" | sed 's/ *exact match, //' | tr -s ' ' | tr '\n' ';')"
  grep -E 'model_int8.tflite' "$log" | tail -1
done
echo "passed $passed of $total"
