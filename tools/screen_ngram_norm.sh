#!/usr/bin/env bash
# One MultiATIS++ language, pQRNN alone with character bigrams: the n-grams'
# mean (the op's default) against char_ngram_sqrt (sum / sqrt(G)), same
# schedule as tools/run_results.sh (12 epochs, batch 128, lr 3e-3); dev and
# test exact match appended to each run's log.
#   tools/screen_ngram_norm.sh [language, default ja]   (~3 min per run alone)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
lang=${1:-ja}
mkdir -p workdirs/logs
for norm in mean sqrt; do
  extra=""; [ $norm = sqrt ] && extra="--config.projection.char_ngram_sqrt=true"
  name=screen_${lang}_cng2_$norm
  W=workdirs/$name
  $PY -m pqrnn.bin.train --config=pqrnn/configs/multiatis.py:pqrnn --config.data.languages=$lang \
    --config.train.batch_size=128 --config.train.epochs=12 --config.train.learning_rate=3e-3 \
    --config.projection.char_ngram_size=2 $extra --workdir=$W > workdirs/logs/$name.log 2>&1
  for split in validation test; do
    $PY -m pqrnn.bin.evaluate --workdir=$W --split=$split 2>&1 | grep -A2 "^lang" >> workdirs/logs/$name.log
  done
  echo "$name:"; grep -A1 "^lang" workdirs/logs/$name.log | grep -v "^--"
done
