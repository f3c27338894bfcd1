#!/usr/bin/env bash
# Paired bootstrap comparisons behind docs/RESULTS.md's "Is the difference
# real?" table: per-utterance test predictions of the exported files
# (pqrnn.bin.evaluate --predictions_output, into workdirs/predictions/),
# then pqrnn.bin.compare on the pairs the targets of issues #4 and #5 name.
# Needs the exported files of tools/export_results.sh and
# tools/distill_results.sh.
# (The 4x-steps student is included where STEPS=4 tools/distill_results.sh ran.)
#   tools/compare_results.sh        # ~15 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
out=workdirs/predictions
mkdir -p "$out" workdirs/logs
# predict <name> <workdir>/export/<file>.tflite
predict() {
  [ -s "$out/$1.jsonl" ] || $PY -m pqrnn.bin.evaluate --tflite="$2" --split=test \
    --output_json="$out/$1.metrics.json" --predictions_output="$out/$1.jsonl" \
    > "workdirs/logs/predict_$1.log" 2>&1
}
# compare <a> <b>: A - B, printed and written to $out/<a>__<b>.json
compare() {
  echo "== $1 - $2"
  $PY -m pqrnn.bin.compare --a="$out/$1.jsonl" --b="$out/$2.jsonl" \
    --output_json="$out/$1__$2.json" 2>/dev/null | tail -1
}
for d in multiatis mtop; do
  predict ${d}_pqrnn_float32 workdirs/${d}_pqrnn/export/model_float32.tflite
  predict ${d}_pqrnn_int8 workdirs/${d}_pqrnn/export/model_int8.tflite
  for s in distill_$d distill_${d}_2x distill_${d}_4x; do
    [ -e workdirs/$s/export/model_int8.tflite ] && predict ${s}_int8 workdirs/$s/export/model_int8.tflite
  done
  for b in bilstm transformer; do
    predict ${d}_${b}_float32 workdirs/${d}_$b/export/model_float32.tflite
    predict ${d}_${b}_int8 workdirs/${d}_$b/export/model_int8.tflite
  done
done
for d in multiatis mtop; do
  compare ${d}_pqrnn_int8 ${d}_pqrnn_float32
  for s in distill_$d distill_${d}_2x distill_${d}_4x; do
    [ -e "$out/${s}_int8.jsonl" ] || continue
    compare ${s}_int8 ${d}_pqrnn_int8
    for b in bilstm_float32 bilstm_int8 transformer_float32 transformer_int8; do
      compare ${s}_int8 ${d}_$b
    done
  done
done
