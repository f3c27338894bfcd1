#!/usr/bin/env bash
# Distillation rows of docs/RESULTS.md for one dataset: teacher (trained
# here, scored, logits of train + 2x augmented utterances), the distilled
# pQRNN student with the same number of training examples as the pQRNN
# trained alone (tools/run_results.sh), its test metrics, and its float and
# int8 (PTQ) .tflite files scored on test.
#   tools/distill_results.sh multiatis|mtop [teacher|student|export|all]
# STEPS=k trains the student k times as long (k x the epochs; workdir
# workdirs/distill_<dataset>_<k>x instead of workdirs/distill_<dataset>).
# CNG=n gives the student the projection's character n-grams of size n
# (workdir suffix _cng<n>; the teacher is the same). SQRT=1 with CNG
# scales the n-grams' sum by 1/sqrt(G) instead of taking their mean
# (--config.projection.char_ngram_sqrt; workdir suffix _sqrt after _cng<n>).
# AUG=a trains on a augmented utterances per training utterance instead of
# 2, at the same number of steps: the teacher writes a larger transfer set
# to $T/logits_big (amount AUG_FILE, default a; its records start with
# the default file's, and the student takes the first round(a * N)), and
# the epochs shrink by 3 / (1 + a), which must come out whole (workdir
# suffix _aug<a>).
# DIST=p trains the student with the projection's training-time distortion
# (one random character edit in a fraction p of the tokens;
# --config.projection.distortion_probability; workdir suffix _dist<p>).
# UNSEEN=q replaces a fraction q of the student's training tokens by random
# strings of their utterance's characters, so it learns to label unseen
# words from context (--config.projection.unseen_word_probability;
# pqrnn/data/word_noise.py; workdir suffix _unseen<q> after _dist<p>).
# SEED=s trains the student with initialisation and shuffling seed s
# instead of 0 (--config.train.seed; workdir suffix _seed<s>); the teacher
# is the same.
# BOTTLENECK=b gives the student a bottleneck of width b instead of the
# preset's (--config.model.pqrnn.bottleneck; workdir suffix _b<b> after
# _sqrt).
# EMA=m replaces the student's weights by their moving average with
# momentum m at the end (--config.train.ema_momentum; workdir suffix
# _ema<m> after _seed<s>).
# LANG_ALPHA=a repeats each language's training examples (and their
# augmented copies) round((n_max / n_L)^(1 - a)) times per epoch
# (--config.train.language_sampling_exponent; pqrnn/data/sampling.py;
# workdir suffix _lang<a> after _ema<m>).
# CAL=k exports int8 starting from calibration draw k instead of 0
# (export/export.py --calibration_seed). Since 2026-12-07 the exporter
# itself tries the next draws when one fails its dev check
# (--calibration_draws, default 3; docs/EXPORT.md "Calibration draws").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dataset=$1
step=${2:-all}
L=workdirs/logs
mkdir -p $L
if [ "$dataset" = multiatis ]; then
  teacher_epochs=8; student_epochs=4   # no-teacher pQRNN: 12 epochs of 1x data
else
  teacher_epochs=4; student_epochs=2   # no-teacher pQRNN: 6 epochs of 1x data
fi
STEPS=${STEPS:-1}
student_epochs=$((student_epochs * STEPS))
T=workdirs/teacher_$dataset
S=workdirs/distill_$dataset
[ "$STEPS" = 1 ] || S=${S}_${STEPS}x
student_extra=""
if [ -n "${CNG:-}" ]; then
  S=${S}_cng$CNG; student_extra="--config.projection.char_ngram_size=$CNG"
  if [ -n "${SQRT:-}" ]; then
    S=${S}_sqrt; student_extra="$student_extra --config.projection.char_ngram_sqrt=true"
  fi
fi
if [ -n "${BOTTLENECK:-}" ]; then
  S=${S}_b$BOTTLENECK; student_extra="$student_extra --config.model.pqrnn.bottleneck=$BOTTLENECK"
fi
teacher_extra=""
if [ -n "${AUG:-}" ]; then
  total=$((student_epochs * 3))
  if [ $((total % (1 + AUG))) != 0 ]; then
    echo "AUG=$AUG: $total epochs of 1x data do not divide into epochs of $((1 + AUG))x data" >&2
    exit 2
  fi
  student_epochs=$((total / (1 + AUG)))
  S=${S}_aug$AUG
  student_extra="$student_extra --config.distill.augmented_logits=$T/logits_big/augmented.tfrecord"
  student_extra="$student_extra --config.distill.augmented_amount=$AUG"
  teacher_extra="--augment_amount=${AUG_FILE:-$AUG} --logits_dir=$T/logits_big"
fi
if [ -n "${DIST:-}" ]; then
  S=${S}_dist$DIST; student_extra="$student_extra --config.projection.distortion_probability=$DIST"
fi
if [ -n "${UNSEEN:-}" ]; then
  S=${S}_unseen$UNSEEN; student_extra="$student_extra --config.projection.unseen_word_probability=$UNSEEN"
fi
if [ -n "${SEED:-}" ] && [ "$SEED" != 0 ]; then
  S=${S}_seed$SEED; student_extra="$student_extra --config.train.seed=$SEED"
fi
if [ -n "${EMA:-}" ]; then
  S=${S}_ema$EMA; student_extra="$student_extra --config.train.ema_momentum=$EMA"
fi
if [ -n "${LANG_ALPHA:-}" ]; then
  S=${S}_lang$LANG_ALPHA; student_extra="$student_extra --config.train.language_sampling_exponent=$LANG_ALPHA"
fi
name=$(basename $S)
if [ "$step" = teacher ] || [ "$step" = all ]; then
  $PY -m pqrnn.bin.teacher --config=pqrnn/configs/teacher.py:$dataset \
    --config.train.epochs=$teacher_epochs --config.train.batch_size=128 \
    --config.train.learning_rate=3e-3 --workdir=$T > $L/teacher_$dataset.log 2>&1
  if [ -n "$teacher_extra" ]; then   # the trained teacher only labels
    $PY -m pqrnn.bin.teacher --workdir=$T --skip_eval $teacher_extra > $L/teacher_${dataset}_aug${AUG_FILE:-$AUG}.log 2>&1
  fi
fi
if [ "$step" = student ] || [ "$step" = all ]; then
  $PY -m pqrnn.bin.distill --config=pqrnn/configs/distill.py:$dataset \
    --config.train.batch_size=128 --config.train.learning_rate=3e-3 \
    --config.train.epochs=$student_epochs $student_extra --workdir=$S > $L/$name.log 2>&1
  $PY -m pqrnn.bin.evaluate --workdir=$S --split=test > $L/$name.test.log 2>&1
fi
if [ "$step" = export ] || [ "$step" = all ]; then
  $PY export/export.py --workdir=$S --quantization=ptq ${CAL:+--calibration_seed=$CAL} > $L/$name.export.log 2>&1
  for f in $S/export/model_float32.tflite $S/export/model_int8.tflite; do
    echo "== $f"
    $PY -m pqrnn.bin.evaluate --tflite=$f --split=test 2>&1 | grep -v "^[IWE][0-9]"
  done > $L/$name.export_test.log
fi
echo "done: $L/teacher_$dataset.log, $L/$name.*log"
