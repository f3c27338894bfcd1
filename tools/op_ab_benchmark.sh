#!/usr/bin/env bash
# Before/after latency of a change to pqrnn's TFLite op library on the same
# .tflite files: builds the library at OLD_COMMIT (a git worktree, this
# checkout's .venv) and at the working tree, then alternates them, ROUNDS
# times, in export/benchmark.py runs over the given graphs (real test
# utterances of DATASET, one thread). The files and the runtime are the same
# in both; only the custom-op code differs.
#
#   tools/op_ab_benchmark.sh OLD_COMMIT DATASET GRAPH [GRAPH ...]
#   e.g. tools/op_ab_benchmark.sh f43df54 multiatis \
#          workdirs/distill_multiatis_2x_cng2/export/model_int8.tflite \
#          workdirs/distill_multiatis_2x/export/model_int8.tflite
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 dataset=$2
shift 2
ROUNDS=${ROUNDS:-3}
here=$PWD
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/old" >/dev/null 2>&1 || true; rm -rf "$tmp"; cp "$here/pqrnn/lib/_pqrnn_tflite_ops.so.keep" "$here/pqrnn/lib/_pqrnn_tflite_ops.so" 2>/dev/null || true; rm -f "$here/pqrnn/lib/_pqrnn_tflite_ops.so.keep"' EXIT

make -s ops
cp pqrnn/lib/_pqrnn_tflite_ops.so "$tmp/new.so"
cp pqrnn/lib/_pqrnn_tflite_ops.so pqrnn/lib/_pqrnn_tflite_ops.so.keep
git worktree add -q --detach "$tmp/old" "$old"
make -s -C "$tmp/old" VENV="$here/.venv" pqrnn/lib/_pqrnn_tflite_ops.so
cp "$tmp/old/pqrnn/lib/_pqrnn_tflite_ops.so" "$tmp/old.so"

graphs=()
for g in "$@"; do graphs+=(--graph="$g"); done
for round in $(seq "$ROUNDS"); do
  for v in old new; do
    cp "$tmp/$v.so" pqrnn/lib/_pqrnn_tflite_ops.so
    echo "== round $round, op library $v ($([ $v = old ] && echo "$old" || echo "working tree"))"
    .venv/bin/python export/benchmark.py "${graphs[@]}" --dataset="$dataset" --split=test \
      --num_runs=2000 --num_threads=1 2>&1 | grep -E "^[a-z_0-9]+/.*\.tflite " || true
  done
done
