#!/usr/bin/env bash
# Where a .tflite file's time goes, by machine-code kernel: samples
# export/benchmark.py (one thread, real test utterances of DATASET) with
# `perf record -e cpu-clock` (a software clock, so it works where hardware
# counters are "not supported") and prints the kernels that take the most of
# the samples spent in TFLite's runtime and pqrnn's op library, after the
# CPU's model and the instruction sets that decide which XNNPACK kernels run
# (pqrnn.export.benchmark.cpu_description, as export/benchmark.py prints it). The shares do not depend on other
# load on the machine; the latency lines printed beside them do.
#
#   tools/kernel_profile.sh DATASET GRAPH [GRAPH ...]
#   e.g. tools/kernel_profile.sh multiatis \
#          workdirs/multiatis_pqrnn/export/model_int8.tflite \
#          workdirs/multiatis_pqrnn/export/model_float32.tflite
# Needs perf (Debian: linux-perf). RUNS (default 8000) timed invokes per
# graph; TOP (default 8) kernels per graph.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dataset=$1
shift
RUNS=${RUNS:-8000}
TOP=${TOP:-8}
command -v perf > /dev/null || { echo "perf not found (Debian: apt-get install linux-perf)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PY" -c 'from pqrnn.export.benchmark import cpu_description; print("CPU:", cpu_description())'
# The shared objects to report: TFLite's runtime as the installed
# interpreter package ships it (libpywrap_*.so beside ai_edge_litert's
# interpreter) and pqrnn's op library; DSOS=a.so,b.so overrides.
dsos=${DSOS:-$("$PY" -c '
import glob, os
import ai_edge_litert
from pqrnn import _lib
where = os.path.dirname(ai_edge_litert.__file__)
runtime = sorted(os.path.basename(p) for p in glob.glob(os.path.join(where, "libpywrap_*.so")))
if not runtime:
    raise SystemExit("no libpywrap_*.so in %s; set DSOS=<runtime>.so,%s" % (where, _lib.TFLITE_OPS_LIBRARY))
print(",".join(runtime + [_lib.TFLITE_OPS_LIBRARY]))
')}
echo "profiled libraries: $dsos"
for g in "$@"; do
  echo
  echo "== $g"
  perf record -q -e cpu-clock -F 4000 -o "$tmp/perf.data" \
    "$PY" -m export.benchmark --graph="$g" --dataset="$dataset" --num_runs="$RUNS" \
    > "$tmp/bench.log" 2>&1
  grep -E "^Per utterance" "$tmp/bench.log" || { cat "$tmp/bench.log" >&2; exit 1; }
  perf report -i "$tmp/perf.data" --no-children --dsos="$dsos" --percentage=relative \
    --sort=dso,symbol --stdio 2> /dev/null | grep -E '^ +[0-9.]+%' \
    | sed -E 's/^ +([0-9.]+)% +([^ ]+) +\[[^]]*\] +(.*[^ ]) *$/\1\t\2\t\3/; s/ {3,}.*$//' \
    > "$tmp/kernels.tsv"
  echo "share of the samples in TFLite's runtime and pqrnn's ops:"
  awk -F'\t' '{by[$2] += $1} END {for (d in by) printf "  %6.2f%%  %s\n", by[d], d}' \
    "$tmp/kernels.tsv" | sort -rn
  awk -F'\t' '$3 ~ /^xnn_.*gemm/ {mm += $1}
    END {printf "  %6.2f%%  of it in XNNPACK matrix kernels (xnn_*gemm*)\n", mm}' "$tmp/kernels.tsv"
  echo "by kernel:"
  awk -F'\t' -v top="$TOP" 'NR <= top {printf "  %6.2f%%  %s\n", $1, $3}' "$tmp/kernels.tsv"
done
