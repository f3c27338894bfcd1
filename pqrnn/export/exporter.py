"""Exports a trained run: float32 and int8 `.tflite` files and a SavedModel.

    report = export(workdir, ExportOptions())

Steps, in order; nothing is written until every artifact passed its checks:

1. Restore the run (`pqrnn.training.predictor.TrainedModel`); pQRNN models
   are rebuilt as their deploy model (`pqrnn.export.deploy_model`).
2. Convert: float32, and int8 with the run's quantization (QAT weights
   written by export/quantize.py, or post-training calibration).
3. Stamp each file with its model card (`pqrnn.export.model_card`).
4. Check each file (`pqrnn.export.checks`): the op list, and its predictions
   on the dev split against the Keras model it came from.
5. Write the files atomically into the output folder, then the report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence

import tensorflow as tf
from absl import logging

import pqrnn
from pqrnn import decoding, io_utils
from pqrnn.data import catalog
from pqrnn.export import checks, converter, deploy_model, model_card, runner
from pqrnn.training import experiment, predictor

QUANTIZATION_FILE = "quantization.json"  # in the workdir, written by export/quantize.py
QUANTIZATION_CHOICES = ("auto", "qat", "ptq")
REPORT_FILE = "export_report.json"


# Training utterances of the int8 calibration (PTQ's representative dataset).
# 2000 rather than 500: on the MTOP pQRNN (projection 2048) the int8 file's
# dev exact match moved from -0.29 to -0.20 points of float (docs/RESULTS.md).
DEFAULT_NUM_CALIBRATION = 2000


# A PTQ int8 file that fails its dev check is calibrated again on the next
# draws of training utterances, up to 3 draws in all. Of the three distilled
# MultiATIS++ students of sessions 17-18, one missed the 0.5-point check by
# 0.01 on its first draw and passed on the next (docs/EXPORT.md,
# "Calibration draws"); a retry costs one conversion and one dev pass.
DEFAULT_CALIBRATION_DRAWS = 3


# Off by default: clipping the QRNN gate pre-activations of PTQ int8 files
# (DeployQRNN.gate_clip, e.g. 8) resolves the gates 7x finer on MTOP and
# changes 1 point fewer predictions, but did not move exact match measurably
# (docs/EXPORT.md, "Where the int8 loss comes from").
DEFAULT_GATE_CLIP = 0.0


# On: int8 logits cost the MTOP pQRNN up to 0.19 of its 0.4-0.6 exact-match
# points against float on test; float classifiers (float16 weights) cost
# one byte more per classifier weight (34 KB on MTOP) and ~10% latency
# (docs/EXPORT.md, "Float logits").
DEFAULT_FLOAT_LOGITS = True


class ArtifactCheckError(RuntimeError):
    """An exported model failed its checks; nothing was written."""

    def __init__(self, failures: list[str], report: dict, hint: str = ""):
        self.failures = failures
        self.report = report
        super().__init__(
            "refusing to write the exported models (use --force to write them anyway):\n  "
            + "\n  ".join(failures)
            + (f"\n{hint}" if hint else "")
        )


@dataclasses.dataclass
class ExportOptions:
    """How to export a run.

    Attributes:
      output_dir: where the files go (default <workdir>/export).
      quantization: int8 method: "qat" (needs export/quantize.py
        --method=qat first), "ptq" (post-training calibration), or "auto":
        what export/quantize.py chose for the run, else "ptq".
      pooling: QRNN recurrence of pQRNN files: "op" (the PQRNN>QRNNPooling
        kernel) or "builtin" (the Keras layer's WHILE-loop scan).
      gate_clip: pQRNN PTQ int8 files clip the QRNN gate pre-activations to
        [-gate_clip, gate_clip] (0: off; pooling "op" only). The float
        file and QAT files do not.
      float_logits: PTQ int8 files write float32 logits: the classifiers
        (the FULLY_CONNECTED ops producing the outputs) compute in float
        with float16 weights (`pqrnn.export.float_heads`). QAT files keep
        the int8 logits their fake-quant trained for.
      num_calibration: training utterances for int8 calibration.
      calibration_seed: which ones (a seeded shuffle).
      calibration_draws: PTQ int8 files whose dev check fails are converted
        again with the next calibration seeds, up to this many draws in all;
        the first draw that passes is shipped (none passing: the first one,
        with `force`). Every draw tried is listed in the report and in the
        int8 file's card ("calibration_draws"). 1: no retries.
      check_examples: dev utterances to check on (0: the whole split; else
        that many taken round-robin over the languages, `catalog.interleaved`).
      batch_size: utterances per call while checking text models.
      force: write files that fail their checks.
      saved_model: also write the float SavedModel.
      slot_decoding: how slot logits are read (`pqrnn.decoding`: "viterbi",
        the best valid BIO sequence, or "argmax"); the card records it and the
        checks compare Keras and .tflite predictions decoded this way.
    """

    output_dir: str | None = None
    quantization: str = "auto"
    pooling: str = "op"
    gate_clip: float = DEFAULT_GATE_CLIP
    float_logits: bool = DEFAULT_FLOAT_LOGITS
    num_calibration: int = DEFAULT_NUM_CALIBRATION
    calibration_seed: int = 0
    calibration_draws: int = DEFAULT_CALIBRATION_DRAWS
    check_examples: int = 0
    batch_size: int = 64
    force: bool = False
    saved_model: bool = True
    slot_decoding: str = decoding.DEFAULT


@dataclasses.dataclass
class Run:
    """A restored training run and the data the exporter needs."""

    workdir: str
    trained: predictor.TrainedModel
    dev: list
    calibration_texts: list[str]
    raw_config: dict
    train_summary: dict | None = None
    slot_types_by_intent: dict | None = None  # of the training set
    train: list | None = None  # the training examples, for other calibration draws
    calibration_seed: int = 0  # the draw of calibration_texts
    num_calibration: int = DEFAULT_NUM_CALIBRATION  # as asked (token models may get fewer)

    @property
    def config(self):
        return self.trained.config

    @property
    def is_text_model(self) -> bool:
        return not experiment.uses_tokens(self.config)


def load_run(workdir: str, num_calibration: int, calibration_seed: int, check_examples: int) -> Run:
    """Restores `workdir` and loads its dev split and calibration utterances."""
    trained = predictor.TrainedModel.restore(workdir)
    dev, _ = experiment.load_examples(trained.config, "validation")
    if check_examples:
        dev = catalog.interleaved(dev, check_examples)
    train, _ = experiment.load_examples(trained.config, "train")
    texts = _draw_calibration_texts(trained.config, train, num_calibration, calibration_seed)
    paths = experiment.workdir_paths(workdir)
    raw_config = io_utils.read_json(paths["config"])
    summary = io_utils.read_json(paths["summary"]) if os.path.exists(paths["summary"]) else None
    types = decoding.types_by_intent(train)
    return Run(
        workdir,
        trained,
        dev,
        texts,
        raw_config,
        summary,
        types,
        train,
        calibration_seed,
        num_calibration,
    )


def _draw_calibration_texts(config, train: list, count: int, seed: int) -> list[str]:
    """Draw `seed` of `count` calibration utterances (token models: of one length)."""
    return converter.representative_texts(
        train, count, seed, same_length=experiment.uses_tokens(config)
    )


def calibration_texts(run: Run, seed: int) -> list[str]:
    """The calibration utterances of draw `seed` (as `load_run` draws them)."""
    if seed == run.calibration_seed:
        return run.calibration_texts
    if run.train is None:
        raise ValueError("this Run holds no training examples to draw calibration utterances from")
    return _draw_calibration_texts(run.config, run.train, run.num_calibration, seed)


def quantization_settings(workdir: str, requested: str) -> dict:
    """The int8 method: {"method": "qat" | "ptq", ...} (see ExportOptions)."""
    if requested not in QUANTIZATION_CHOICES:
        raise ValueError(f"quantization={requested!r} must be one of {QUANTIZATION_CHOICES}")
    path = os.path.join(workdir, QUANTIZATION_FILE)
    saved = io_utils.read_json(path) if os.path.exists(path) else None
    if saved and saved.get("method") == "ptq":
        # quantize.py's PTQ trial leaves no weights: the exporter converts
        # afresh with its own options, and the trial's dev scores (of an
        # all-int8 file) do not describe that file.
        saved = {"method": "ptq"}
    if requested == "auto":
        return saved or {"method": "ptq"}
    if requested == "qat" and (saved is None or saved.get("method") != "qat"):
        raise FileNotFoundError(
            f"{path} has no QAT result: run `python export/quantize.py --workdir={workdir} "
            "--method=qat` first"
        )
    return saved if saved and saved.get("method") == requested else {"method": requested}


@dataclasses.dataclass
class Artifact:
    """One exported `.tflite` file, its card and its check results."""

    precision: str
    content: bytes
    card: dict
    checks: dict

    @property
    def passed(self) -> bool:
        return self.checks["ops"]["passed"] and self.checks["predictions"]["passed"]

    @property
    def file_name(self) -> str:
        return f"model_{self.precision}.tflite"


def _card(
    run: Run,
    precision: str,
    quantization: dict | None,
    pooling: str,
    slot_decoding: str = decoding.DEFAULT,
) -> dict:
    config = run.config
    vocabs = run.trained.vocabs
    intent_labels, slot_tags = list(vocabs.intents.labels), list(vocabs.tags.labels)
    card = {
        "model": config.model.name,
        "precision": precision,
        "quantization": quantization,
        "pqrnn_version": pqrnn.__version__,
        "intent_labels": intent_labels,
        "slot_tags": slot_tags,
        "outputs": {
            "intent": "float32 [B, I] logits, I = len(intent_labels)",
            "slots": "float32 [B, T, S] logits per token position, S = len(slot_tags)",
            "sequence_length": "int32 [B] token positions per utterance",
        },
        # Read the slot logits as a BIO sequence this way (pqrnn.decoding;
        # docs/EXPORT.md, "Decoding slots").
        "slot_decoding": slot_decoding,
        # The training set's slot types per intent, for "viterbi_intent_types"
        # (as tag ids: model_card.slot_types_by_intent reads them back).
        **(
            {
                "slot_type_ids_by_intent": model_card.encode_slot_types_by_intent(
                    run.slot_types_by_intent, intent_labels, slot_tags
                )
            }
            if decoding.needs_types(slot_decoding)
            else {}
        ),
        "training_config": run.raw_config,
        "training_step": run.trained.step,
        # How the training text was tokenized: apps tokenize raw text the same
        # way (Thai words by ICU; its version as recorded by the training run).
        "tokenizer": {
            "function": "pqrnn.data.tokenize",
            "icu_version": (run.train_summary or {}).get("icu_version"),
        },
    }
    if run.is_text_model:
        projection = experiment.projection_kwargs(config, training=False)
        card["input"] = {
            "signature": "serving_default",
            "kind": "text",
            "name": "text",
            "description": "[B] UTF-8 utterances; tokens are split on Unicode whitespace",
            "max_seq_len": projection["max_seq_len"],
        }
        card["projection"] = projection
        card["qrnn_pooling"] = pooling
    else:
        card["input"] = {
            "signature": "serving_default",
            "kind": "tokens",
            "name": "token_ids",
            "description": (
                "[T] int32 ids of one utterance's words (split on whitespace, lowercased "
                "when 'lowercase', id = index in 'vocabulary', 0 when absent) and "
                "sequence_length [1] = T"
            ),
            "lowercase": bool(config.projection.lowercase),
            "max_seq_len": int(config.projection.max_seq_len),
        }
        card["vocabulary"] = converter.token_vocabulary(run.trained.model)
    return card


def representative_dataset(run: Run, texts: Sequence[str] | None = None):
    """The calibration dataset of a run's int8 conversion (of `texts`,
    default the run's draw)."""
    config = run.config
    return converter.representative_dataset(
        run.calibration_texts if texts is None else texts,
        "text" if run.is_text_model else "tokens",
        lowercase=bool(config.projection.lowercase),
        max_seq_len=int(config.projection.max_seq_len),
        vocabulary=() if run.is_text_model else converter.token_vocabulary(run.trained.model),
    )


def _check(
    run: Run, content: bytes, precision: str, reference: list, pooling: str, batch_size: int
) -> dict:
    config = run.config
    layers = config.model.pqrnn.num_layers if run.is_text_model else 0
    expected = checks.expected_ops(config.model.name, precision, layers, pooling)
    problems = checks.check_ops(content, expected)
    started = time.time()
    predictions = runner.TFLiteNLUModel(content).predict(run.dev, batch_size=batch_size)
    comparison = checks.compare_predictions(reference, predictions, run.dev, precision)
    comparison["seconds"] = round(time.time() - started, 1)
    return {
        "ops": {"passed": not problems, "problems": problems, "counts": checks.op_counts(content)},
        "predictions": comparison,
        "split": "validation",
    }


def build_artifacts(run: Run, options: ExportOptions, quantization: dict):
    """Converts, stamps and checks the float32 and int8 files.

    Args:
      run, options: as `export`.
      quantization: the int8 file's settings (`quantization_settings`, plus
        "gate_clip" where its QRNN gates are clipped; `export` decides).

    Returns:
      (artifacts, saved_model_function, saved_model_trackable).
    """
    config = run.config
    trained = run.trained
    logging.info("Keras predictions on %d dev utterances", len(run.dev))
    types = run.slot_types_by_intent if decoding.needs_types(options.slot_decoding) else None
    keras_predictions = predictor.predict_examples(
        config,
        trained.model,
        trained.vocabs,
        run.dev,
        batch_size=options.batch_size,
        slot_decoding=options.slot_decoding,
        types_by_intent=types,
    )
    if run.is_text_model:
        float_model = deploy_model.build_deploy_model(trained.model, options.pooling)
        float_serve = converter.text_serving_function(config, float_model)
    else:
        float_model = deploy_model.build_deploy_baseline(trained.model)
        float_serve = converter.tokens_serving_function(float_model)

    int8_model, int8_serve, int8_reference = float_model, float_serve, keras_predictions
    if quantization.get("gate_clip"):
        int8_model = deploy_model.build_deploy_model(
            trained.model, options.pooling, gate_clip=quantization["gate_clip"]
        )
        int8_serve = converter.text_serving_function(config, int8_model)
    if quantization["method"] == "qat":
        if not run.is_text_model:
            raise ValueError("QAT is implemented for pQRNN models only; use ptq for baselines")
        from pqrnn.export import qat

        int8_model = qat.restore_qat_model(float_model, run.workdir)
        int8_serve = converter.text_serving_function(config, int8_model)
        logging.info("Keras (QAT) predictions on %d dev utterances", len(run.dev))
        int8_reference = predictor.predict_examples(
            config,
            int8_model,
            trained.vocabs,
            run.dev,
            batch_size=options.batch_size,
            slot_decoding=options.slot_decoding,
            types_by_intent=types,
        )

    def artifact(precision, serve, model, reference, method, seed=None):
        logging.info("converting to %s", precision)
        started = time.time()
        texts = calibration_texts(run, seed) if method is not None else None
        content = converter.convert(
            serve,
            model,
            precision=precision,
            representative=representative_dataset(run, texts) if precision == "int8" else None,
            float_logits=bool(method and method.get("float_logits")),
        )
        logging.info("converted in %.1f s (%d bytes)", time.time() - started, len(content))
        if method is not None:
            method = {**method, "num_calibration": len(texts), "calibration_seed": seed}
        card = _card(run, precision, method, options.pooling, options.slot_decoding)
        content = model_card.add_model_card(content, card)
        logging.info("checking the %s model", precision)
        result = _check(run, content, precision, reference, options.pooling, options.batch_size)
        card["checks"] = result
        return Artifact(precision, model_card.add_model_card(content, card), card, result)

    artifacts = [artifact("float32", float_serve, float_model, keras_predictions, None)]
    draws = options.calibration_draws if quantization["method"] == "ptq" else 1
    tried, first = [], None
    for seed in range(options.calibration_seed, options.calibration_seed + draws):
        int8 = artifact("int8", int8_serve, int8_model, int8_reference, quantization, seed)
        predictions = int8.checks["predictions"]
        tried.append(
            {
                "calibration_seed": seed,
                "passed": int8.passed,
                "exact_match_tflite": predictions["exact_match_tflite"],
                "exact_match_delta_points": predictions["exact_match_delta_points"],
            }
        )
        first = first or int8
        # Op problems do not depend on the calibration; another draw cannot mend them.
        if int8.passed or int8.checks["ops"]["problems"]:
            break
        if seed + 1 < options.calibration_seed + draws:
            logging.warning(
                "int8 file of calibration draw %d fails its dev check (exact match %+.2f "
                "points against Keras); trying draw %d",
                seed,
                predictions["exact_match_delta_points"],
                seed + 1,
            )
    shipped = int8 if int8.passed else first
    if quantization["method"] == "ptq":
        # The card names every draw tried, so the choice is visible in the file.
        shipped.card["quantization"]["calibration_draws"] = tried
        shipped.content = model_card.add_model_card(shipped.content, shipped.card)
    artifacts.append(shipped)
    return artifacts, float_serve, float_model


def atomic_write_dir(target: str, fill: Callable[[str], None]) -> None:
    """Builds a folder with `fill(tmp)` beside `target`, then swaps it in.

    Readers see the old folder or the new one (for an instant, neither:
    POSIX cannot rename over a non-empty folder, so the old one moves away
    first).
    """
    target = os.path.abspath(target)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", dir=parent)
    try:
        fill(tmp)
        os.chmod(tmp, io_utils.artifact_mode(directory=True))  # mkdtemp makes it 0700
        if os.path.exists(target):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old.", dir=parent)
            os.rmdir(old)
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_saved_model(path: str, serve, trackable, card: dict) -> None:
    """Writes the float SavedModel (signature "serving_default") atomically,
    with the model card as assets.extra/pqrnn_model_card.json. Loading it
    needs pqrnn's TF ops (`pqrnn.ops.load_tf_ops()`) first."""

    def fill(tmp):
        module = tf.Module()
        module.model = trackable
        module.serve = serve
        tf.saved_model.save(module, tmp, signatures={"serving_default": serve})
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        with open(os.path.join(tmp, "assets.extra", "pqrnn_model_card.json"), "w") as f:
            json.dump(card, f, indent=2, ensure_ascii=False, sort_keys=True)

    atomic_write_dir(path, fill)


def _summary(artifact: Artifact) -> dict:
    predictions = artifact.checks["predictions"]
    return {
        "file": artifact.file_name,
        "bytes": len(artifact.content),
        "passed": artifact.passed,
        "op_problems": artifact.checks["ops"]["problems"],
        "op_counts": artifact.checks["ops"]["counts"],
        "predictions": {k: v for k, v in predictions.items() if k != "per_language"},
    }


def _check_qat_matches(quantization: dict, run: Run, pooling: str) -> None:
    """Refuses QAT weights that are not of this run's checkpoint or pooling:
    the int8 file would hold older weights than the float file, and its
    check (against the same QAT model) would still pass."""
    step = quantization.get("training_step")
    redo = f"rerun `python export/quantize.py --workdir={run.workdir} --method=qat`"
    if step is None:
        logging.warning(
            "%s records no training step (written before pqrnn recorded it): cannot check that "
            "the QAT weights are of the current checkpoint (step %d); %s if in doubt",
            QUANTIZATION_FILE,
            run.trained.step,
            redo,
        )
    elif step != run.trained.step:
        raise ValueError(
            f"the QAT weights were fine-tuned from step {step}, but {run.workdir} is now at step "
            f"{run.trained.step}: {redo}"
        )
    saved_pooling = quantization.get("pooling")
    if saved_pooling is not None and saved_pooling != pooling:
        raise ValueError(
            f"the QAT weights were fine-tuned with --pooling={saved_pooling}, the export asks for "
            f"--pooling={pooling}: {redo} --pooling={pooling}, or export with "
            f"--pooling={saved_pooling}"
        )


def export(workdir: str, options: ExportOptions | None = None) -> dict:
    """Exports the run in `workdir`; returns the report (also written as JSON).

    Raises:
      ArtifactCheckError: a file failed its checks and options.force is off
        (nothing is written).
    """
    options = options or ExportOptions()
    if options.calibration_draws < 1:
        raise ValueError(f"calibration_draws={options.calibration_draws} must be at least 1")
    output_dir = options.output_dir or os.path.join(workdir, "export")
    quantization = quantization_settings(workdir, options.quantization)
    run = load_run(
        workdir, options.num_calibration, options.calibration_seed, options.check_examples
    )
    if quantization["method"] == "qat":
        _check_qat_matches(quantization, run, options.pooling)
    if (
        quantization["method"] == "ptq"
        and run.is_text_model
        and options.pooling == "op"
        and options.gate_clip
    ):
        quantization = {**quantization, "gate_clip": options.gate_clip}
    if quantization["method"] == "ptq" and options.float_logits:
        quantization = {**quantization, "float_logits": True}
    artifacts, float_serve, float_model = build_artifacts(run, options, quantization)
    report = {
        "workdir": workdir,
        "model": run.config.model.name,
        "quantization": quantization,
        "pooling": options.pooling if run.is_text_model else None,
        "artifacts": {a.precision: _summary(a) for a in artifacts},
    }
    int8_settings = next(a for a in artifacts if a.precision == "int8").card["quantization"]
    if "calibration_draws" in int8_settings:
        report["calibration_draws"] = int8_settings["calibration_draws"]
    failures = [
        f"{a.file_name}: {problem}"
        for a in artifacts
        for problem in a.checks["ops"]["problems"]
        + (
            []
            if a.checks["predictions"]["passed"]
            else [
                f"predictions fail '{a.checks['predictions']['criterion']}': identical "
                f"{100 * a.checks['predictions']['identical']:.2f}%, exact match "
                f"{100 * a.checks['predictions']['exact_match_tflite']:.2f} vs Keras "
                f"{100 * a.checks['predictions']['exact_match_keras']:.2f}"
            ]
        )
    ]
    hint = ""
    if quantization["method"] == "qat" and any(
        a.precision == "int8" and not a.checks["predictions"]["passed"] for a in artifacts
    ):
        # The QAT file is checked against the QAT Keras model; on some models
        # TFLite's int8 kernels stray further from its fake-quant than PTQ's
        # calibrated file does from the float model (docs/EXPORT.md).
        hint = (
            "the int8 file was quantized with QAT and is checked against the QAT Keras model; "
            "--quantization=ptq (checked against the float model) may pass where it does not"
        )
    report["failures"] = failures
    if failures and not options.force:
        raise ArtifactCheckError(failures, report, hint)

    def saved_model(path):
        write_saved_model(path, float_serve, float_model, artifacts[0].card)

    write_outputs(output_dir, artifacts, report, saved_model if options.saved_model else None)
    return report


def write_outputs(
    output_dir: str,
    artifacts: Sequence[Artifact],
    report: dict,
    saved_model: Callable[[str], None] | None = None,
) -> None:
    """Writes the files, then the report, into `output_dir`.

    Each file is replaced atomically, but not the folder as one unit: the
    old report goes first and the new one, which names every file with its
    SHA-256, comes last, so a folder without `export_report.json` holds an
    interrupted export (files of two exports, possibly).
    """
    report_path = os.path.join(output_dir, REPORT_FILE)
    if os.path.exists(report_path):
        os.remove(report_path)
    for artifact in artifacts:
        path = os.path.join(output_dir, artifact.file_name)
        io_utils.atomic_write_bytes(path, artifact.content)
        report["artifacts"][artifact.precision]["sha256"] = hashlib.sha256(
            artifact.content
        ).hexdigest()
        logging.info("wrote %s (%d bytes)", path, len(artifact.content))
    if saved_model is not None:
        path = os.path.join(output_dir, "saved_model")
        saved_model(path)
        logging.info("wrote %s", path)
    io_utils.atomic_write_json(report_path, report)


def format_report(report: dict) -> str:
    """The export report as a small table."""
    lines = [
        f"{report['model']} ({report['quantization']['method']} int8"
        + (f", pooling {report['pooling']})" if report["pooling"] else ")"),
        f"{'file':24} {'bytes':>9} {'identical':>9} {'EM keras':>8} {'EM tflite':>9}  check",
    ]
    for summary in report["artifacts"].values():
        p = summary["predictions"]
        lines.append(
            f"{summary['file']:24} {summary['bytes']:9d} {100 * p['identical']:8.2f}% "
            f"{100 * p['exact_match_keras']:8.2f} {100 * p['exact_match_tflite']:9.2f}  "
            + ("passed" if summary["passed"] else "FAILED")
        )
    if len(report.get("calibration_draws", [])) > 1:
        lines.append(
            "int8 calibration draws: "
            + ", ".join(
                f"seed {d['calibration_seed']} {d['exact_match_delta_points']:+.2f} "
                + ("passed" if d["passed"] else "failed")
                for d in report["calibration_draws"]
            )
        )
    for failure in report.get("failures", []):
        lines.append(f"  ! {failure}")
    return "\n".join(lines)
