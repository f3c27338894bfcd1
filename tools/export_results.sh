#!/usr/bin/env bash
# Int8 export rows of docs/RESULTS.md ("Int8 export") for one dataset:
# quantize + export the pQRNN, export the baselines, score every .tflite on
# test, benchmark all of them interleaved. Expects the workdirs of
# tools/run_results.sh (workdirs/<dataset>_{pqrnn,bilstm,transformer}).
# The distilled students (workdirs/distill_<dataset> and, trained twice as
# long, workdirs/distill_<dataset>_2x; tools/distill_results.sh) are
# benchmarked too when their exports exist.
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
P=${W}_pqrnn
# exporting: false with ONLY=benchmark, which then only lists the files.
exporting() { [ "${ONLY:-}" != benchmark ]; }
if [ "$qat_epochs" = ptq ]; then
  exporting && $PY export/export.py --workdir=$P --quantization=ptq > $L.export_pqrnn.log 2>&1
  pqrnn_graphs=($P/export/model_int8.tflite $P/export/model_float32.tflite)
  if [ -d $P/qat ]; then
    # The QAT file of an earlier quantize.py run, for comparison; --force
    # writes it even where it fails the exporter's check (its report says so).
    exporting && $PY export/export.py --workdir=$P --quantization=qat --force \
      --output_dir=$P/export_qat --saved_model=false > $L.export_pqrnn_qat.log 2>&1
    pqrnn_graphs+=($P/export_qat/model_int8.tflite)
  fi
else
  if exporting && [ "$qat_epochs" != reuse ]; then
    $PY export/quantize.py --workdir=$P --method=qat --qat_epochs=$qat_epochs > $L.quantize.log 2>&1
  fi
  exporting && $PY export/export.py --workdir=$P > $L.export_pqrnn.log 2>&1
  exporting && $PY export/export.py --workdir=$P --quantization=ptq \
    --output_dir=$P/export_ptq --saved_model=false > $L.export_pqrnn_ptq.log 2>&1
  pqrnn_graphs=($P/export/model_int8.tflite $P/export/model_float32.tflite
                $P/export_ptq/model_int8.tflite)
fi
graphs=("${pqrnn_graphs[@]}"
        ${W}_bilstm/export/model_int8.tflite ${W}_bilstm/export/model_float32.tflite
        ${W}_transformer/export/model_int8.tflite ${W}_transformer/export/model_float32.tflite)
if exporting; then
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
