#!/usr/bin/env bash
# "Float logits" rows of docs/RESULTS.md for one dataset: the pQRNN's PTQ
# int8 file with float logits (export.py's default since 2026-11-22) against
# the all-int8 file (--nofloat_logits, the earlier default), its float32
# file, both baselines (PTQ int8 and float32) and the dev-picked student,
# scored on test and benchmarked interleaved. Expects the workdirs of
# tools/run_results.sh and tools/distill_results.sh, exported
# (export/export.py --workdir=<w> --quantization=ptq for the pQRNN and the
# student).
#   tools/float_logits_results.sh multiatis|mtop
# STUDENT=<workdir> (default: the README's headline student of the dataset).
# ONLY=benchmark skips the exports and the scoring.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dataset=$1
W=workdirs/$dataset
L=workdirs/logs/float_logits_$dataset
mkdir -p workdirs/logs
if [ "$dataset" = multiatis ]; then default_student=workdirs/distill_multiatis_2x_cng2
else default_student=workdirs/distill_mtop_8x_cng2; fi
S=${STUDENT:-$default_student}
P=${W}_pqrnn
graphs=($P/export/model_int8.tflite $P/export_int8logits/model_int8.tflite
        $P/export/model_float32.tflite
        ${W}_bilstm/export/model_int8.tflite ${W}_bilstm/export/model_float32.tflite
        ${W}_transformer/export/model_int8.tflite ${W}_transformer/export/model_float32.tflite
        $S/export/model_int8.tflite)
if [ "${ONLY:-}" != benchmark ]; then
  $PY export/export.py --workdir=$P --quantization=ptq --nofloat_logits \
    --output_dir=$P/export_int8logits --saved_model=false > $L.export_int8logits.log 2>&1
  for m in bilstm transformer; do
    $PY export/export.py --workdir=${W}_$m --quantization=ptq > $L.export_$m.log 2>&1
  done
  for f in "${graphs[@]}"; do
    echo "== $f"
    $PY -m pqrnn.bin.evaluate --tflite=$f --split=test 2>&1 | grep -v "^[IWE][0-9]"
  done > $L.evaluate.log
fi
$PY export/benchmark.py $(printf -- "--graph=%s " "${graphs[@]}") \
  --dataset=$dataset --split=test --num_runs=2000 --num_threads=1 --peak_int8_matmul \
  --output_json=workdirs/${dataset}_benchmark_float_logits.json > $L.benchmark.log 2>&1
echo "done: $L.*.log, workdirs/${dataset}_benchmark_float_logits.json"
