#!/usr/bin/env bash
# Small ablation of pQRNN regularisation on MultiATIS++ English only
# (docs/RESULTS.md, "Why pQRNN trails here"). Same schedule as run_results.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
common="--config.data.languages=en --config.train.batch_size=128 --config.train.epochs=12 --config.train.learning_rate=3e-3"
mkdir -p workdirs/logs
run() {
  name=$1; shift
  $PY -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:$MODEL $common "$@" \
    --workdir=workdirs/ablate_en_$name > workdirs/logs/ablate_en_$name.train.log 2>&1
  $PY -m pqrnn.bin.evaluate --workdir=workdirs/ablate_en_$name --split=test > workdirs/logs/ablate_en_$name.test.log 2>&1
  echo "$name: $(grep -E '^en ' workdirs/logs/ablate_en_$name.test.log)"
}
MODEL=pqrnn run pqrnn_default
MODEL=pqrnn run pqrnn_no_dropout_no_zoneout --config.model.pqrnn.zoneout=0 --config.model.pqrnn.dropout=0
MODEL=bilstm run bilstm_default
