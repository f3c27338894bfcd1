#!/usr/bin/env bash
# Does training give the same bits on this machine, and does the vector
# instruction set TensorFlow's oneDNN kernels use change them? Trains the
# smoke preset (3 epochs, 171 steps, seed 0) four times into $OUT (default a
# temporary folder): twice as installed, once with oneDNN capped at AVX2
# (ONEDNN_MAX_CPU_ISA=AVX2, what a machine without AVX-512 runs) and once
# with oneDNN's TensorFlow ops off (TF_ENABLE_ONEDNN_OPTS=0), then compares
# each run's weights with the first (tools/compare_checkpoints.py).
# docs/RELIABILITY.md ("Bit-reproducibility across machines") cites it.
#   tools/isa_reproducibility.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-$(mktemp -d)}
"$PY" -c 'from pqrnn.export.benchmark import cpu_description; print("CPU:", cpu_description())'
train() {  # name, then environment assignments
  local name=$1; shift
  env "$@" "$PY" -m pqrnn.bin.train --config=pqrnn/configs/smoke.py --config.train.epochs=3 \
    --workdir="$OUT/$name" > "$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log" >&2; exit 1; }
  echo "$name: $(grep -E '^avg ' "$OUT/$name.log" | tail -1)"
}
train default
train default_again
train onednn_avx2 ONEDNN_MAX_CPU_ISA=AVX2
train onednn_off TF_ENABLE_ONEDNN_OPTS=0
"$PY" tools/compare_checkpoints.py --workdir="$OUT/default" --workdir="$OUT/default_again" \
  --workdir="$OUT/onednn_avx2" --workdir="$OUT/onednn_off" 2>&1 | grep ' against '
