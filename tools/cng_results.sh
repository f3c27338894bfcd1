#!/usr/bin/env bash
# Character n-grams in the projection (docs/RESULTS.md, "Character n-grams"):
# paired comparisons of the runs made with CNG=<n> (tools/run_results.sh,
# tools/distill_results.sh) against the same runs without, and one
# interleaved latency benchmark of the int8 students with and without.
#   tools/cng_results.sh compare     # per-utterance predictions + paired bootstrap
#   tools/cng_results.sh benchmark   # the latency run (quiet machine)
# Runs it expects (each one command, logs in workdirs/logs/):
#   CNG=2|3|4 tools/run_results.sh multiatis pqrnn; CNG=2|3 tools/run_results.sh mtop pqrnn
#   CNG=2|3 tools/distill_results.sh multiatis student; ... export   (mtop: CNG=3)
# Missing runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
out=workdirs/predictions
mkdir -p "$out" workdirs/logs
what=${1:-compare}

# keras <name> <workdir>: test predictions of a Keras workdir.
keras() {
  [ -e "workdirs/$2/metrics_test.json" ] || return 0
  [ -s "$out/$1.jsonl" ] || $PY -m pqrnn.bin.evaluate --workdir="workdirs/$2" --split=test \
    --predictions_output="$out/$1.jsonl" > "workdirs/logs/predict_$1.log" 2>&1
}
# tflite <name> <file>: test predictions of a .tflite file.
tflite() {
  [ -e "$2" ] || return 0
  [ -s "$out/$1.jsonl" ] || $PY -m pqrnn.bin.evaluate --tflite="$2" --split=test \
    --output_json="$out/$1.metrics.json" --predictions_output="$out/$1.jsonl" \
    > "workdirs/logs/predict_$1.log" 2>&1
}
compare() {
  [ -s "$out/$1.jsonl" ] && [ -s "$out/$2.jsonl" ] || return 0
  echo "== $1 - $2"
  $PY -m pqrnn.bin.compare --a="$out/$1.jsonl" --b="$out/$2.jsonl" \
    --output_json="$out/$1__$2.json" 2>/dev/null | tail -1
}

if [ "$what" = compare ]; then
  for d in multiatis mtop; do
    keras ${d}_pqrnn_keras ${d}_pqrnn
    for n in 2 3 4; do
      keras ${d}_pqrnn_cng${n}_keras ${d}_pqrnn_cng$n
      compare ${d}_pqrnn_cng${n}_keras ${d}_pqrnn_keras
      tflite distill_${d}_cng${n}_int8 workdirs/distill_${d}_cng$n/export/model_int8.tflite
      compare distill_${d}_cng${n}_int8 distill_${d}_int8
      for b in bilstm_float32 transformer_float32; do
        compare distill_${d}_cng${n}_int8 ${d}_$b
      done
    done
  done
elif [ "$what" = benchmark ]; then
  # The int8 student without n-grams first (ratios are to it), then with,
  # then the 2x-steps students without and with bigrams,
  # then the baselines' float32 files (their fastest).
  for d in multiatis mtop; do
    graphs=(--graph=workdirs/distill_$d/export/model_int8.tflite)
    for f in workdirs/distill_${d}_cng{2,3,4}/export/model_int8.tflite \
             workdirs/distill_${d}_2x{,_cng2}/export/model_int8.tflite; do
      [ -e "$f" ] && graphs+=(--graph=$f)
    done
    graphs+=(--graph=workdirs/${d}_bilstm/export/model_float32.tflite
             --graph=workdirs/${d}_transformer/export/model_float32.tflite)
    $PY export/benchmark.py "${graphs[@]}" --dataset=$d --split=test --num_runs=2000 \
      --num_threads=1 --output_json=workdirs/${d}_benchmark_cng.json 2>&1 \
      | grep -v "^[IWE][0-9]" | tee workdirs/logs/benchmark_cng_$d.log
  done
else
  echo "usage: $0 compare|benchmark" >&2
  exit 2
fi
