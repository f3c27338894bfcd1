"""The training loop: resumable, distributed with tf.distribute, with progress.

`train(config, workdir)` is what `python -m pqrnn.bin.train` runs. The workdir
is both the output and what a restarted run resumes from:

  workdir/config.json          the experiment config (a restart must match it)
  workdir/vocabs.json          intent and slot-tag vocabularies (from train)
  workdir/token_vocabulary.txt the baselines' word vocabulary
  workdir/checkpoints/         tf.train checkpoints (model, optimizer, step)
  workdir/logs/{train,validation}/  TensorBoard event files
  workdir/train_summary.json   parameters, time, throughput, final metrics

Checkpoints are written by tf.train.CheckpointManager, which writes the data
files first and then atomically replaces the `checkpoint` state file, so a run
killed at any moment resumes from the last complete checkpoint. Each epoch's
shuffle order is derived from (seed, epoch), and a resumed run skips the
batches already seen, so it follows the same data order as an uninterrupted
run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Sequence

import ml_collections
import tensorflow as tf
import tf_keras as keras
from absl import logging

from pqrnn import io_utils, metrics, models
from pqrnn.data import sampling, tokenizer
from pqrnn.data.example import Example, ReadReport
from pqrnn.data.vocab import LabelVocabs
from pqrnn.training import experiment, predictor

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name: str) -> tf.distribute.Strategy:
    """A tf.distribute strategy by name (multi_worker reads TF_CONFIG)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; expected one of {STRATEGIES}")


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `peak`, then cosine decay to 0 at `total_steps`."""

    def __init__(self, peak: float, warmup_steps: int, total_steps: int):
        self.peak = peak
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(max(self.warmup_steps, 1), tf.float32)
        total = tf.cast(max(self.total_steps, self.warmup_steps + 1), tf.float32)
        progress = tf.clip_by_value((step - warmup) / (total - warmup), 0.0, 1.0)
        cosine = 0.5 * self.peak * (1.0 + tf.cos(math.pi * progress))
        return tf.where(step < warmup, self.peak * step / warmup, cosine)

    def get_config(self):
        return dict(peak=self.peak, warmup_steps=self.warmup_steps, total_steps=self.total_steps)


def _check_or_write_config(config: ml_collections.ConfigDict, path: str, is_chief: bool) -> None:
    wanted = json.loads(config.to_json())
    if os.path.exists(path):
        saved = experiment.upgrade_saved_config(io_utils.read_json(path))
        if saved != wanted:
            diffs = _diff(saved, wanted)
            raise ValueError(
                f"{path} holds a different config; a restarted run must use the same one "
                f"(or a new --workdir). Differences (saved -> given): {diffs}"
            )
    elif is_chief:
        io_utils.atomic_write_json(path, wanted)


def _diff(a, b, prefix="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{prefix}{key}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: {a!r} -> {b!r}"]


@dataclasses.dataclass
class Losses:
    """Per-replica losses of one batch, already scaled for summing across replicas."""

    total: tf.Tensor
    intent: tf.Tensor
    slots: tf.Tensor


def joint_loss(
    outputs: dict, labels: dict, global_batch_size: int, slot_loss_weight: float, num_replicas: int
) -> Losses:
    """Intent cross-entropy plus slot cross-entropy over real tokens."""
    intent = tf.nn.compute_average_loss(
        keras.losses.sparse_categorical_crossentropy(
            labels["intent"], outputs["intent"], from_logits=True
        ),
        global_batch_size=global_batch_size,
    )
    slots = models.losses.masked_sparse_ce(labels["slots"], outputs["slots"]) / num_replicas
    return Losses(intent + slot_loss_weight * slots, intent, slots)


class Progress:
    """Periodic progress lines: step, epoch, loss, examples/s, ETA.

    The ETA divides the steps left by a moving average of the recent
    intervals' time per step (each new interval weighs `SMOOTHING`), not by
    the average since the process started: a run paused (SIGSTOP, a shared
    machine's other job) or slowed for a while shows the time left at its
    current speed again within a few lines.
    """

    SMOOTHING = 0.3

    def __init__(self, total_steps: int, start_step: int, batch_size: int):
        self.total_steps = total_steps
        self.batch_size = batch_size
        self.start = self.last_time = time.perf_counter()
        self.last_step = self.start_step = start_step
        self.examples_per_second = 0.0
        self.seconds_per_step: float | None = None

    def eta_seconds(self, step: int) -> float:
        """Seconds left at the smoothed recent speed (0 before any interval)."""
        return max(self.total_steps - step, 0) * (self.seconds_per_step or 0.0)

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> dict[str, float]:
        now = time.perf_counter()
        steps = step - self.last_step
        seconds = max(now - self.last_time, 1e-9)
        rate = steps * self.batch_size / seconds
        overall = (step - self.start_step) * self.batch_size / max(now - self.start, 1e-9)
        self.examples_per_second = overall
        if steps > 0:
            latest = seconds / steps
            previous = self.seconds_per_step
            self.seconds_per_step = (
                latest if previous is None else previous + self.SMOOTHING * (latest - previous)
            )
        logging.info(
            "step %d/%d (%.0f%%) epoch %d  loss %.4f (intent %.4f, slots %.4f)  "
            "%.0f examples/s  ETA %s",
            step,
            self.total_steps,
            100.0 * step / max(self.total_steps, 1),
            epoch + 1,
            losses["total"],
            losses["intent"],
            losses["slots"],
            rate,
            format_duration(self.eta_seconds(step)),
        )
        self.last_time, self.last_step = now, step
        return {"examples_per_second": rate}


def format_duration(seconds: float) -> str:
    """HH:MM:SS, with days in front past 24 hours ("2d 03:07:05")."""
    seconds = int(round(max(seconds, 0.0)))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}d {text}" if days else text


def evaluate_examples(trained_config, model, vocabs, examples) -> dict:
    """pqrnn.metrics.evaluate of the model's predictions on `examples`."""
    predictions = predictor.predict_examples(trained_config, model, vocabs, examples)
    return metrics.evaluate(predictions, examples)


def _write_scalars(writer, step: int, values: dict[str, float]) -> None:
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.scalar(name, value)
    writer.flush()


def train(
    config: ml_collections.ConfigDict,
    workdir: str,
    strategy: str = "default",
    max_steps: int = 0,
    loss_fn: Callable | None = None,
    extra_checkpoint_objects: dict | None = None,
    train_examples: Sequence[Example] | None = None,
    make_train_dataset: Callable | None = None,
) -> dict:
    """Trains (or resumes) the experiment in `workdir`; returns the summary.

    Args:
      config: the experiment config (pqrnn/configs).
      workdir: output folder and resume point.
      strategy: "default", "mirrored" or "multi_worker" (tf.distribute).
      max_steps: stop after this global step (0: train all epochs); used by
        tests and to split long runs.
      loss_fn: replaces `joint_loss` (distillation passes its own); called
        as loss_fn(outputs, labels, features, global_batch_size, num_replicas).
      extra_checkpoint_objects: more trackables to checkpoint.
      train_examples: replaces the config's training split (distillation
        trains on a teacher's transfer set). The vocabularies are still
        built from them unless workdir/vocabs.json already exists.
      make_train_dataset: replaces `experiment.make_dataset` for training
        batches: called as make_train_dataset(examples, vocabs, epoch), it
        must be deterministic given `epoch` (resuming relies on it) and may
        add features for `loss_fn` (distillation adds teacher logits).
    """
    if not 0.0 <= config.train.ema_momentum < 1.0:
        raise ValueError(f"train.ema_momentum must be in [0, 1), got {config.train.ema_momentum}")
    sampling.check_exponent(config.train.language_sampling_exponent)
    dist = make_strategy(strategy)
    is_chief = _is_chief(dist)
    paths = experiment.workdir_paths(workdir)
    os.makedirs(workdir, exist_ok=True)
    _check_or_write_config(config, paths["config"], is_chief)

    if train_examples is None:
        train_examples, train_report = experiment.load_examples(config, "train")
    else:
        train_examples = list(train_examples)
        train_report = ReadReport(
            paths=["<given>"], rows_read=len(train_examples), rows_kept=len(train_examples)
        )
    if make_train_dataset is None:

        def make_train_dataset(examples, vocabs, epoch):
            return experiment.make_dataset(config, examples, vocabs, training=True, epoch=epoch)

    validation_examples, validation_report = experiment.load_examples(config, "validation")
    if os.path.exists(paths["vocabs"]):
        vocabs = predictor.load_vocabs(paths["vocabs"])
    else:
        vocabs = LabelVocabs.build(train_examples)
        if is_chief:
            predictor.save_vocabs(paths["vocabs"], vocabs)
    vocabulary: list[str] = []
    if experiment.uses_tokens(config):
        if os.path.exists(paths["vocabulary"]):
            with open(paths["vocabulary"], encoding="utf-8") as f:
                vocabulary = f.read().split("\n")[:-1]
        else:
            vocabulary = experiment.token_vocabulary(config, train_examples)
            if is_chief:
                io_utils.atomic_write_text(
                    paths["vocabulary"], "".join(w + "\n" for w in vocabulary)
                )

    t = config.train
    # After the vocabularies, which count each example once.
    logging.info("%s", sampling.describe(train_examples, t.language_sampling_exponent))
    num_unique_examples = len(train_examples)
    train_examples = sampling.balance_languages(train_examples, t.language_sampling_exponent)
    steps_per_epoch = math.ceil(len(train_examples) / t.batch_size)
    total_steps = t.epochs * steps_per_epoch
    if max_steps:
        total_steps = min(total_steps, max_steps)

    # Initial weights, dropout and zoneout masks follow config.train.seed
    # (Python, NumPy and TensorFlow's global seed). A resumed run restores
    # the weights; its later dropout masks differ from an uninterrupted run.
    keras.utils.set_random_seed(t.seed)
    with dist.scope():
        model = experiment.build_model(config, vocabs, vocabulary)
        schedule = WarmupCosine(t.learning_rate, t.warmup_steps, t.epochs * steps_per_epoch)
        optimizer = keras.optimizers.AdamW(
            learning_rate=schedule,
            weight_decay=t.weight_decay,
            global_clipnorm=t.clip_norm,
            use_ema=t.ema_momentum > 0,
            ema_momentum=t.ema_momentum or 0.99,
        )
        step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        checkpoint = tf.train.Checkpoint(
            model=model, optimizer=optimizer, step=step_var, **(extra_checkpoint_objects or {})
        )
    num_params = models.count_params(model)
    logging.info(
        "model %s: %s parameters; %d train examples, %d steps/epoch, %d steps",
        config.model.name,
        f"{num_params:,}",
        len(train_examples),
        steps_per_epoch,
        total_steps,
    )
    checkpoint_dir = paths["checkpoints"] if is_chief else _worker_temp_dir(paths["checkpoints"])
    manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir, max_to_keep=t.keep_checkpoints)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        logging.info("resumed from %s (step %d)", manager.latest_checkpoint, int(step_var.numpy()))

    num_replicas = dist.num_replicas_in_sync
    compute_loss = loss_fn or (
        lambda outputs, labels, features, gbs, nr: joint_loss(
            outputs, labels, gbs, t.slot_loss_weight, nr
        )
    )

    def replica_step(features, labels):
        inputs = predictor.model_inputs(model, features)
        with tf.GradientTape() as tape:
            outputs = model(inputs, training=True)
            losses = compute_loss(outputs, labels, features, t.batch_size, num_replicas)
            total = losses.total
            if model.losses:  # Weight regularizers, if a model config adds any.
                total += tf.add_n(model.losses) / num_replicas
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return losses.total, losses.intent, losses.slots

    def distributed_step(features, labels):
        per_replica = dist.run(replica_step, args=(features, labels))
        return [dist.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for v in per_replica]

    if num_replicas == 1 and not isinstance(dist, tf.distribute.MultiWorkerMirroredStrategy):
        # Batches differ in length T and the last one in size B: trace once
        # with both dimensions unknown instead of once per shape.
        spec = make_train_dataset(train_examples[:1], vocabs, 0).element_spec
        train_step = tf.function(distributed_step, input_signature=_relax(spec))
    else:
        train_step = tf.function(distributed_step, reduce_retracing=True)

    def summary_writer(name):
        if not is_chief:
            return tf.summary.create_noop_writer()
        return tf.summary.create_file_writer(os.path.join(paths["logs"], name))

    writer, eval_writer = summary_writer("train"), summary_writer("validation")
    step = first_step = int(step_var.numpy())
    last_saved = step if manager.latest_checkpoint else -1

    def save(force=False):
        nonlocal last_saved
        if force or last_saved != step:
            manager.save(checkpoint_number=step)
            last_saved = step

    progress = Progress(total_steps, step, t.batch_size)
    start_time = time.perf_counter()
    running = {"total": 0.0, "intent": 0.0, "slots": 0.0}
    running_n = 0
    validation = None
    while step < total_steps:
        epoch = step // steps_per_epoch
        started_at = step
        dataset = make_train_dataset(train_examples, vocabs, epoch)
        seen = step - epoch * steps_per_epoch
        if seen:
            logging.info("epoch %d: skipping %d batches already trained on", epoch + 1, seen)
            dataset = dataset.skip(seen)
        for features, labels in dist.experimental_distribute_dataset(dataset):
            total, intent, slots = train_step(features, labels)
            step += 1
            step_var.assign(step)
            running["total"] += float(total)
            running["intent"] += float(intent)
            running["slots"] += float(slots)
            running_n += 1
            if step % t.log_every == 0 or step == total_steps:
                averages = {k: v / running_n for k, v in running.items()}
                rates = progress.log(step, epoch, averages)
                _write_scalars(
                    writer,
                    step,
                    {f"loss/{k}": v for k, v in averages.items()}
                    | rates
                    | {"learning_rate": float(schedule(step))},
                )
                running = dict.fromkeys(running, 0.0)
                running_n = 0
            if step % t.checkpoint_every == 0:
                save()
            if step >= total_steps:
                break
        if step == started_at:
            # Would loop forever: the pass over this epoch yielded no batch.
            raise RuntimeError(
                f"epoch {epoch + 1}: the training dataset yielded no batch after skipping "
                f"{seen} (an epoch should have {steps_per_epoch}): the "
                "training data shrank since this run started, or make_train_dataset yields fewer "
                "batches than ceil(examples / batch_size)"
            )
        epoch_done = step % steps_per_epoch == 0
        if epoch_done or step >= total_steps:
            save()
        if (
            epoch_done
            and t.eval_every_epochs
            and (step // steps_per_epoch) % t.eval_every_epochs == 0
            and step < total_steps
        ):
            validation = evaluate_examples(config, model, vocabs, validation_examples)
            _log_metrics("validation", validation, eval_writer, step)
    if t.ema_momentum and step >= t.epochs * steps_per_epoch:
        # At the schedule's end (not at a max_steps stop, which a later run
        # resumes) the moving average replaces the trained weights, in the
        # model and in the last checkpoint. Idempotent: the averages are
        # checkpointed with the optimizer, so a finished run restarted
        # assigns them again.
        with dist.scope():  # a restarted finished run has not built it yet (build restores)
            optimizer.build(model.trainable_variables)
        optimizer.finalize_variable_values(model.trainable_variables)
        logging.info("weights replaced by their moving average (momentum %s)", t.ema_momentum)
        save(force=True)
    save()
    train_seconds = time.perf_counter() - start_time
    validation = evaluate_examples(config, model, vocabs, validation_examples)
    _log_metrics("validation", validation, eval_writer, step)
    summary = {
        "model": config.model.name,
        "parameters": num_params,
        "steps": step,
        "resumed_from_step": first_step,
        "train_examples": num_unique_examples,
        "examples_per_epoch": len(train_examples),  # more with language_sampling_exponent < 1
        "train_read_report": experiment._report_counts(train_report),
        "validation_read_report": experiment._report_counts(validation_report),
        "train_seconds_this_run": round(train_seconds, 1),
        "examples_per_second": round(progress.examples_per_second, 1),
        "validation": validation,
        # Thai text that pqrnn.data.tokenize read (MTOP train) was segmented by
        # this ICU's dictionary; apps should segment with a close version.
        # None: PyICU absent, so no Thai was read.
        "icu_version": tokenizer.icu_version(),
    }
    if is_chief:
        io_utils.atomic_write_json(paths["summary"], summary)
    return summary


def _relax(spec):
    """The element spec with every dimension unknown (rank kept)."""
    return tf.nest.map_structure(
        lambda s: tf.TensorSpec([None] * s.shape.rank, s.dtype, s.name), spec
    )


def _log_metrics(split: str, results: dict, writer, step: int) -> None:
    logging.info("%s metrics at step %d:\n%s", split, step, metrics.format_table(results))
    _write_scalars(
        writer,
        step,
        {f"{split}/{k}": v for k, v in results["macro"].items() if isinstance(v, float)},
    )


def _is_chief(strategy: tf.distribute.Strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def _worker_temp_dir(checkpoint_dir: str) -> str:
    # Non-chief workers must write their copy of a checkpoint somewhere else
    # (MultiWorkerMirroredStrategy saves on every worker).
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return os.path.join(checkpoint_dir, f".worker_{resolver.task_type}_{resolver.task_id}")
