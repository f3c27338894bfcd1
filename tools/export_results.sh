#!/usr/bin/env bash
# Int8 export rows of docs/RESULTS.md ("Int8 export") for one dataset:
# quantize + export the pQRNN, export the baselines, score every .tflite on
# test, benchmark all of them interleaved. Expects the workdirs of
# tools/run_results.sh (workdirs/<dataset>_{pqrnn,bilstm,transformer}).
# The distilled student (workdirs/distill_<dataset>, tools/distill_results.sh)
# is benchmarked too when its export exists.
# The student trained twice as long (workdirs/distill_<dataset>_2x, STEPS=2
# tools/distill_results.sh) is benchmarked too when its export exists.
#   tools/export_results.sh multiatis|mtop [qat_epochs|reuse|ptq]
# ONLY=benchmark skips everything but the benchmark (same arguments).
# reuse: keep the QAT weights of an earlier run (<workdir>/qat/) and only
# export, score and benchmark again (e.g. after a change to the served graph).
# ptq: the pQRNN's int8 file is the PTQ one (export/); the QAT weights of an
# earlier quantize.py run, if any, give a comparison file (export_qat/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dataset=$1
qat_epochs=${2:-2}
W=workdirs/$dataset
L=workdirs/logs/export_$dataset
mkdir -p workdirs/logs
if [ "$qat_epochs" = ptq ]; then
  pqrnn_graphs=(${W}_pqrnn/export/model_int8.tflite ${W}_pqrnn/export/model_float32.tflite)
  if [ -d ${W}_pqrnn/qat ]; then pqrnn_graphs+=(${W}_pqrnn/export_qat/model_int8.tflite); fi
else
  pqrnn_graphs=(${W}_pqrnn/export/model_int8.tflite ${W}_pqrnn/export/model_float32.tflite
                ${W}_pqrnn/export_ptq/model_int8.tflite)
fi
graphs=("${pqrnn_graphs[@]}"
        ${W}_bilstm/export/model_int8.tflite ${W}_bilstm/export/model_float32.tflite
        ${W}_transformer/export/model_int8.tflite ${W}_transformer/export/model_float32.tflite)
if [ "${ONLY:-}" != benchmark ]; then
  if [ "$qat_epochs" = ptq ]; then
    $PY export/export.py --workdir=${W}_pqrnn --quantization=ptq > $L.export_pqrnn.log 2>&1
    if [ -d ${W}_pqrnn/qat ]; then
      # The QAT file of an earlier quantize.py run, for comparison; --force
      # writes it even where it fails the exporter's check (its report says so).
      $PY export/export.py --workdir=${W}_pqrnn --quantization=qat --force \
        --output_dir=${W}_pqrnn/export_qat --saved_model=false > $L.export_pqrnn_qat.log 2>&1
    fi
  else
    if [ "$qat_epochs" != reuse ]; then
      $PY export/quantize.py --workdir=${W}_pqrnn --method=qat --qat_epochs=$qat_epochs > $L.quantize.log 2>&1
    fi
    $PY export/export.py --workdir=${W}_pqrnn > $L.export_pqrnn.log 2>&1
    $PY export/export.py --workdir=${W}_pqrnn --quantization=ptq \
      --output_dir=${W}_pqrnn/export_ptq --saved_model=false > $L.export_pqrnn_ptq.log 2>&1
  fi
  for m in bilstm transformer; do
    $PY export/export.py --workdir=${W}_$m > $L.export_$m.log 2>&1
  done
  for f in "${graphs[@]}"; do
    echo "== $f"
    $PY -m pqrnn.bin.evaluate --tflite=$f --split=test 2>&1 | grep -v "^[IWE][0-9]"
  done > $L.evaluate.log
fi
bench_graphs=("${graphs[@]}")
for student in workdirs/distill_${dataset}{,_2x}/export/model_int8.tflite; do
  if [ -f $student ]; then bench_graphs+=($student); fi
done
$PY export/benchmark.py $(printf -- "--graph=%s " "${bench_graphs[@]}") \
  --dataset=$dataset --split=test --num_runs=2000 --num_threads=1 --peak_int8_matmul \
  --output_json=workdirs/${dataset}_benchmark.json > $L.benchmark.log 2>&1
echo "done: $L.*.log, workdirs/${dataset}_benchmark.json"
