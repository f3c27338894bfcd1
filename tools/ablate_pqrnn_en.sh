#!/usr/bin/env bash
# Small ablation of pQRNN regularisation on MultiATIS++ English only
# (docs/RESULTS.md, "Why pQRNN trails here"). Same schedule as run_results.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
# Pinned to the model of the runs in docs/RESULTS.md (projection 512, 3 QRNN
# layers; PQRNNConfig's default until 2026-11-21, with zoneout 0.1 and
# dropout 0.1 as it had when "pqrnn_default" ran).
pqrnn_f512_l3="--config.model.pqrnn.feature_size=512 --config.model.pqrnn.num_layers=3"
common="--config.data.languages=en --config.train.batch_size=128 --config.train.epochs=12 --config.train.learning_rate=3e-3"
mkdir -p workdirs/logs
run() {
  name=$1; shift
  $PY -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:$MODEL $common "$@" \
    --workdir=workdirs/ablate_en_$name > workdirs/logs/ablate_en_$name.train.log 2>&1
  $PY -m pqrnn.bin.evaluate --workdir=workdirs/ablate_en_$name --split=test > workdirs/logs/ablate_en_$name.test.log 2>&1
  echo "$name: $(grep -E '^en ' workdirs/logs/ablate_en_$name.test.log)"
}
# shellcheck disable=SC2086
MODEL=pqrnn run pqrnn_default $pqrnn_f512_l3 --config.model.pqrnn.zoneout=0.1 --config.model.pqrnn.dropout=0.1
# shellcheck disable=SC2086
MODEL=pqrnn run pqrnn_no_dropout_no_zoneout $pqrnn_f512_l3 --config.model.pqrnn.zoneout=0 --config.model.pqrnn.dropout=0
MODEL=bilstm run bilstm_default
