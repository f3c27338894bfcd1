"""Quantizes a trained run for int8 export (the library of export/quantize.py).

QAT: fine-tune the deploy model under tfmot fake-quantization and keep the
weights in <workdir>/qat/. PTQ: nothing to train; the exporter calibrates
at conversion. Either way the int8 model is converted and scored on the dev
split here, and the choice is written to <workdir>/quantization.json for
export/export.py.
"""

from __future__ import annotations

import os
import time

from absl import logging

from pqrnn import io_utils, metrics
from pqrnn.export import converter, deploy_model, exporter, runner
from pqrnn.training import experiment, predictor

METHODS = ("qat", "ptq")


def quantize(
    workdir: str,
    *,
    method: str,
    qat_epochs: float = 2.0,
    qat_learning_rate: float | None = None,
    num_calibration: int = exporter.DEFAULT_NUM_CALIBRATION,
    calibration_seed: int = 0,
    check_examples: int = 0,
    pooling: str = "op",
    batch_size: int = 64,
) -> dict:
    """Quantizes the run in `workdir`; returns (and writes) the summary.

    Args:
      workdir: a training workdir.
      method: "qat" or "ptq" (baselines: "ptq" only).
      qat_epochs: QAT passes over the training split.
      qat_learning_rate: QAT learning rate (default: a tenth of the run's).
      num_calibration, calibration_seed: the representative dataset.
      check_examples: dev utterances to score (0: all).
      pooling: "op" or "builtin" (see ExportOptions).
      batch_size: utterances per prediction batch.

    Returns:
      {"method", ..., "dev": {"exact_match_float_keras",
      "exact_match_int8_tflite", "int8_vs_float_points", ...}}.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} must be one of {METHODS}")
    run = exporter.load_run(workdir, num_calibration, calibration_seed, check_examples)
    config, trained = run.config, run.trained
    if method == "qat" and not run.is_text_model:
        raise ValueError(
            f"QAT is implemented for pQRNN models; {config.model.name} exports with --method=ptq"
        )
    started = time.time()
    summary = {
        "method": method,
        "pooling": pooling if run.is_text_model else None,
        # The exporter refuses QAT weights fine-tuned from another step.
        "training_step": trained.step,
        "num_calibration": len(run.calibration_texts),
        "calibration_seed": calibration_seed,
    }
    float_predictions = trained.predict(run.dev, batch_size=batch_size)
    dev = {"num_examples": len(run.dev)}
    dev["exact_match_float_keras"] = metrics.evaluate(float_predictions, run.dev)["macro"][
        "exact_match"
    ]

    if run.is_text_model:
        model = deploy_model.build_deploy_model(trained.model, pooling)
    else:
        model = deploy_model.build_deploy_baseline(trained.model)
    if method == "qat":
        from pqrnn.export import qat

        learning_rate = qat_learning_rate or config.train.learning_rate / 10
        model = qat.build_qat_model(model)
        train, _ = experiment.load_examples(config, "train")
        result = qat.fine_tune(
            model, config, train, trained.vocabs, epochs=qat_epochs, learning_rate=learning_rate
        )
        summary.update(
            epochs=qat_epochs,
            learning_rate=learning_rate,
            steps=result["steps"],
            final_loss=result["loss"],
            train_seconds=round(result["seconds"], 1),
            checkpoint=os.path.relpath(qat.save_qat_model(model, workdir), workdir),
        )
        qat_predictions = predictor.predict_examples(
            config, model, trained.vocabs, run.dev, batch_size=batch_size
        )
        dev["exact_match_qat_keras"] = metrics.evaluate(qat_predictions, run.dev)["macro"][
            "exact_match"
        ]

    if run.is_text_model:
        serve = converter.text_serving_function(config, model)
    else:
        serve = converter.tokens_serving_function(model)
    representative = exporter.representative_dataset(run)
    content = converter.convert(serve, model, precision="int8", representative=representative)
    card = exporter._card(run, "int8", {"method": method}, pooling)  # noqa: SLF001
    from pqrnn.export import model_card

    content = model_card.add_model_card(content, card)
    int8_predictions = runner.TFLiteNLUModel(content).predict(run.dev, batch_size=batch_size)
    dev["exact_match_int8_tflite"] = metrics.evaluate(int8_predictions, run.dev)["macro"][
        "exact_match"
    ]
    dev["int8_vs_float_points"] = 100 * (
        dev["exact_match_int8_tflite"] - dev["exact_match_float_keras"]
    )
    dev["int8_bytes"] = len(content)
    summary["dev"] = dev
    summary["seconds"] = round(time.time() - started, 1)
    io_utils.atomic_write_json(os.path.join(workdir, exporter.QUANTIZATION_FILE), summary)
    logging.info("quantization summary: %s", summary)
    return summary


def format_summary(summary: dict) -> str:
    """A few lines for the terminal."""
    dev = summary["dev"]
    lines = [f"method {summary['method']}, dev split ({dev['num_examples']} utterances):"]
    lines.append(f"  exact match, float Keras model : {100 * dev['exact_match_float_keras']:6.2f}")
    if "exact_match_qat_keras" in dev:
        lines.append(
            f"  exact match, QAT Keras model   : {100 * dev['exact_match_qat_keras']:6.2f}"
        )
    lines.append(
        f"  exact match, int8 .tflite      : {100 * dev['exact_match_int8_tflite']:6.2f} "
        f"({dev['int8_vs_float_points']:+.2f} points vs float; {dev['int8_bytes']} bytes)"
    )
    return "\n".join(lines)
