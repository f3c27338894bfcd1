"""Quantize, export, evaluate and reload a smoke-trained pQRNN (and a BiLSTM).

The smoke models are trained for a few dozen steps only: these tests check
the machinery (files, cards, op lists, checks, refusal), not accuracy.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import pqrnn  # noqa: F401
from pqrnn import decoding
from pqrnn.configs import smoke
from pqrnn.data.tokenizer import icu_version
from pqrnn.export import checks, exporter, flatbuffer, model_card, quantize_run, runner

pytestmark = pytest.mark.slow  # trains two smoke models (~1.5 min in all)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_EXAMPLES = 150


def _train(tmp_path_factory, model: str, steps: int) -> str:
    from pqrnn.training import trainer

    workdir = str(tmp_path_factory.mktemp(f"smoke_{model}") / "run")
    trainer.train(smoke.get_config(model), workdir, max_steps=steps)
    return workdir


@pytest.fixture(scope="module")
def pqrnn_workdir(tmp_path_factory, tflite_ops_library) -> str:
    return _train(tmp_path_factory, "pqrnn", 100)


@pytest.fixture(scope="module")
def exported(pqrnn_workdir) -> tuple[str, dict]:
    out = os.path.join(pqrnn_workdir, "export_ptq")
    options = exporter.ExportOptions(
        output_dir=out,
        quantization="ptq",
        check_examples=CHECK_EXAMPLES,
        force=True,
        gate_clip=8.0,
        calibration_seed=3,
        calibration_draws=1,
    )
    return out, exporter.export(pqrnn_workdir, options)


def test_export_writes_checked_artifacts_with_cards(exported):
    out, report = exported
    assert sorted(os.listdir(out)) == [
        exporter.REPORT_FILE,
        "model_float32.tflite",
        "model_int8.tflite",
        "saved_model",
    ]
    for precision in ("float32", "int8"):
        summary = report["artifacts"][precision]
        assert summary["op_problems"] == [], summary["op_problems"]
        assert summary["op_counts"][checks.POOLING_OP] == 1  # the smoke model has one layer
        assert "WHILE" not in summary["op_counts"]
        # The padding mask is computed once (pqrnn.export.deploy_model.PaddingMask).
        assert summary["op_counts"]["LESS"] == 1 and summary["op_counts"]["RANGE"] == 1
        card = model_card.read_model_card(os.path.join(out, summary["file"]))
        assert card["precision"] == precision and card["model"] == "pqrnn"
        assert card["input"]["kind"] == "text" and card["projection"]["feature_size"] == 128
        assert card["intent_labels"][-1] == "<unk>" and "O" in card["slot_tags"]
        assert card["checks"]["predictions"]["num_examples"] == CHECK_EXAMPLES
        # The 150 checked dev utterances cover every language (50 each).
        assert set(card["checks"]["predictions"]["per_language"]) == {"en", "de", "fr"}
        assert card["training_config"]["model"]["name"] == "pqrnn"
        assert card["slot_decoding"] == "viterbi"
        assert card["tokenizer"] == {
            "function": "pqrnn.data.tokenize",
            "icu_version": icu_version(),
        }
    assert report["artifacts"]["float32"]["predictions"]["identical"] >= 0.995
    assert report["artifacts"]["int8"]["bytes"] < report["artifacts"]["float32"]["bytes"]
    with open(os.path.join(out, exporter.REPORT_FILE)) as f:
        settings = json.load(f)["quantization"]
    assert settings["method"] == "ptq" and settings["gate_clip"] == 8.0
    # The int8 file clips the gates (fused into CONV_2D) and scales them back:
    # one MUL more per QRNN layer than the float file, no MINIMUM/MAXIMUM.
    counts = {p: report["artifacts"][p]["op_counts"] for p in ("float32", "int8")}
    assert counts["int8"]["MUL"] == counts["float32"]["MUL"] + 1
    assert "MINIMUM" not in counts["int8"] and "MAXIMUM" not in counts["int8"]
    int8_card = model_card.read_model_card(os.path.join(out, "model_int8.tflite"))
    assert int8_card["quantization"]["gate_clip"] == 8.0
    # The card says which calibration utterances were drawn.
    assert int8_card["quantization"]["calibration_seed"] == 3
    assert int8_card["quantization"]["num_calibration"] > 0
    # Float logits (the PTQ default): the intent and slot classifiers compute
    # in float (float16 weights); the other FULLY_CONNECTED ops (bottleneck,
    # attention score) are int8.
    assert int8_card["quantization"]["float_logits"] is True
    records = checks.op_records(open(os.path.join(out, "model_int8.tflite"), "rb").read())
    kinds = sorted(
        r.input_types[:2] + r.output_types for r in records if r.name == "FULLY_CONNECTED"
    )
    assert kinds == [("FLOAT32", "FLOAT32", "FLOAT32")] * 2 + [("INT8", "INT8", "INT8")] * 2
    assert sum(r.input_types == ("FLOAT16",) for r in records if r.name == "DEQUANTIZE") == 2


def test_int8_model_ops_are_int8_builtins_around_the_custom_ops(exported):
    out, _ = exported
    content = open(os.path.join(out, "model_int8.tflite"), "rb").read()
    records = checks.op_records(content)
    assert records[0].name == checks.PROJECTION_OP
    assert checks.float_ops(records) == []
    conv = [r for r in records if r.name == "CONV_2D"]
    assert conv and all(t in ("INT8", "INT32") for r in conv for t in r.input_types)


def test_tflite_runs_batched_and_matches_single_utterances(exported):
    out, _ = exported
    model = runner.TFLiteNLUModel(os.path.join(out, "model_float32.tflite"))
    texts = ["call mom", "what is the weather in paris tomorrow", "wake me up at 7 am"]
    batched = model.predict_texts(texts)
    assert batched == [model.predict_texts([t])[0] for t in texts]
    assert all(len(tags) == len(t.split()) for t, (_, tags) in zip(texts, batched, strict=True))


def test_saved_model_matches_float_tflite(exported):
    import tensorflow as tf

    from pqrnn import ops

    out, _ = exported
    ops.load_tf_ops()
    loaded = tf.saved_model.load(os.path.join(out, "saved_model"))
    text = np.array([b"play some adele", b"call bob smith now"])
    expected = loaded.signatures["serving_default"](text=tf.constant(text))
    actual = runner.TFLiteNLUModel(os.path.join(out, "model_float32.tflite")).run(
        ["play some adele", "call bob smith now"]
    )
    np.testing.assert_allclose(actual["intent"], expected["intent"].numpy(), atol=1e-4)
    card = json.load(
        open(os.path.join(out, "saved_model", "assets.extra", "pqrnn_model_card.json"))
    )
    assert card["precision"] == "float32"


def test_export_refuses_a_model_that_fails_its_checks(pqrnn_workdir, monkeypatch):
    monkeypatch.setattr(checks, "INT8_EXACT_MATCH_TOLERANCE", -101.0)  # nothing can pass
    out = os.path.join(pqrnn_workdir, "export_refused")
    options = exporter.ExportOptions(
        output_dir=out,
        quantization="ptq",
        check_examples=50,
        saved_model=False,
        calibration_draws=2,
    )
    with pytest.raises(exporter.ArtifactCheckError, match="model_int8.tflite") as raised:
        exporter.export(pqrnn_workdir, options)
    assert not os.path.exists(out)
    # Both draws were tried and failed; the report names them.
    draws = raised.value.report["calibration_draws"]
    assert [(d["calibration_seed"], d["passed"]) for d in draws] == [(0, False), (1, False)]


def test_a_failing_calibration_draw_is_calibrated_again(pqrnn_workdir, monkeypatch):
    monkeypatch.setattr(checks, "INT8_EXACT_MATCH_TOLERANCE", 101.0)  # every draw can pass...
    real_check = exporter._check
    int8_contents = []

    def check(run, content, precision, *args):
        result = real_check(run, content, precision, *args)
        if precision == "int8":
            int8_contents.append(content)
            if len(int8_contents) == 1:  # ...but the first one is made to fail
                result["predictions"] = {**result["predictions"], "passed": False}
        return result

    monkeypatch.setattr(exporter, "_check", check)
    out = os.path.join(pqrnn_workdir, "export_redrawn")
    options = exporter.ExportOptions(
        output_dir=out,
        quantization="ptq",
        check_examples=50,
        saved_model=False,
        num_calibration=40,  # of the smoke set's few hundred: the draws differ
    )
    report = exporter.export(pqrnn_workdir, options)
    assert len(int8_contents) == 2  # draw 1 passed, so draw 2 was not tried
    draws = report["calibration_draws"]
    assert [(d["calibration_seed"], d["passed"]) for d in draws] == [(0, False), (1, True)]
    assert "seed 0" in exporter.format_report(report) and "failed" in exporter.format_report(report)
    path = os.path.join(out, "model_int8.tflite")
    card = model_card.read_model_card(path)
    assert card["quantization"]["calibration_seed"] == 1
    assert card["quantization"]["calibration_draws"] == draws
    assert card["checks"]["predictions"]["passed"]

    # The shipped file is draw 1's conversion, and the two draws calibrated differently.
    def quantized(content):
        # The non-empty buffers under one card (restamping empties old ones),
        # and every tensor's scales and zero points (calibration sets them).
        model = flatbuffer.read(model_card.add_model_card(content, {"model": "same card"}))
        buffers = [bytes(b.data) for b in model.buffers if b.data is not None and len(b.data)]
        ranges = [
            (list(t.quantization.scale), list(t.quantization.zeroPoint))
            for graph in model.subgraphs
            for t in graph.tensors
            if t.quantization is not None and t.quantization.scale is not None
        ]
        return buffers, ranges

    shipped = open(path, "rb").read()
    assert quantized(shipped) == quantized(int8_contents[1])
    assert quantized(int8_contents[0])[1] != quantized(int8_contents[1])[1]


def test_other_calibration_draws_are_the_draws_load_run_makes(pqrnn_workdir):
    run = exporter.load_run(pqrnn_workdir, 40, 0, 10)
    assert exporter.calibration_texts(run, 0) is run.calibration_texts
    other = exporter.load_run(pqrnn_workdir, 40, 2, 10)
    assert exporter.calibration_texts(run, 2) == other.calibration_texts
    assert other.calibration_texts != run.calibration_texts and len(other.calibration_texts) == 40


def test_qat_then_export_uses_the_qat_weights(pqrnn_workdir):
    summary = quantize_run.quantize(
        pqrnn_workdir, method="qat", qat_epochs=0.3, check_examples=CHECK_EXAMPLES
    )
    assert summary["steps"] > 0 and os.path.exists(
        os.path.join(pqrnn_workdir, "qat", "qat_model.index")
    )
    assert summary["training_step"] == 100 and summary["pooling"] == "op"
    from pqrnn.training import predictor

    qat_checkpoint = os.path.join(pqrnn_workdir, "qat", "qat_model")
    with pytest.raises(ValueError, match="is not a checkpoint of the model"):
        predictor.TrainedModel.restore(pqrnn_workdir, checkpoint=qat_checkpoint)
    assert summary["dev"]["num_examples"] == CHECK_EXAMPLES
    out = os.path.join(pqrnn_workdir, "export_qat")
    report = exporter.export(
        pqrnn_workdir,
        exporter.ExportOptions(
            output_dir=out, check_examples=CHECK_EXAMPLES, force=True, saved_model=False
        ),
    )
    assert report["quantization"]["method"] == "qat"
    card = model_card.read_model_card(os.path.join(out, "model_int8.tflite"))
    assert card["quantization"]["method"] == "qat"
    assert card["checks"]["ops"]["problems"] == []


def test_export_refuses_qat_weights_of_an_older_step_or_other_pooling(pqrnn_workdir, tmp_path):
    from pqrnn.training import trainer

    workdir = str(tmp_path / "run")
    shutil.copytree(pqrnn_workdir, workdir)
    quantize_run.quantize(workdir, method="qat", qat_epochs=0.1, check_examples=CHECK_EXAMPLES)
    options = exporter.ExportOptions(
        output_dir=str(tmp_path / "out"), check_examples=CHECK_EXAMPLES, saved_model=False
    )
    with pytest.raises(ValueError, match="--pooling=builtin"):
        exporter.export(workdir, dataclasses.replace(options, pooling="builtin"))
    trainer.train(smoke.get_config("pqrnn"), workdir, max_steps=102)  # Training goes on.
    with pytest.raises(ValueError, match="fine-tuned from step 100, but .* is now at step 102"):
        exporter.export(workdir, options)
    assert not os.path.exists(tmp_path / "out")


def test_a_refused_qat_file_points_to_ptq(pqrnn_workdir, tmp_path, monkeypatch):
    workdir = str(tmp_path / "run")
    shutil.copytree(pqrnn_workdir, workdir)  # QAT writes into its workdir
    quantize_run.quantize(workdir, method="qat", qat_epochs=0.1, check_examples=CHECK_EXAMPLES)
    monkeypatch.setattr(checks, "INT8_EXACT_MATCH_TOLERANCE", -101.0)  # nothing can pass
    options = exporter.ExportOptions(
        output_dir=str(tmp_path / "out"), check_examples=CHECK_EXAMPLES, saved_model=False
    )
    with pytest.raises(exporter.ArtifactCheckError, match="--quantization=ptq"):
        exporter.export(workdir, options)
    assert not os.path.exists(tmp_path / "out")


def _evaluate(*flags):
    """Runs the evaluate binary as a user does."""
    return subprocess.run(
        [sys.executable, "-m", "pqrnn.bin.evaluate", *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_evaluate_binary_reads_everything_from_the_card(exported):
    out, _ = exported
    path = os.path.join(out, "model_int8.tflite")
    result = _evaluate(f"--tflite={path}", "--split=test")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "exact_match" in result.stdout and "int8" in result.stdout
    with open(os.path.join(out, "model_int8.metrics_test.json")) as f:
        metrics = json.load(f)
    assert set(metrics["per_language"]) == {"en", "de", "fr"}
    assert metrics["precision"] == "int8" and metrics["macro"]["num_examples"] == 450
    assert metrics["slot_decoding"] == "viterbi"  # as the card says

    # With typos in every token: its own metrics file (the clean one stays),
    # every token counted as edited, and the model reads the edited words
    # worse than the words it was trained on.
    typo = _evaluate(f"--tflite={path}", "--split=test", "--typo_probability=1", "--typo_seed=3")
    assert typo.returncode == 0, typo.stderr[-3000:]
    assert "typos in" in typo.stdout
    with open(os.path.join(out, "model_int8.metrics_test_typos1_seed3.json")) as f:
        typo_metrics = json.load(f)
    assert typo_metrics["typos"]["tokens_edited"] == typo_metrics["typos"]["tokens"] > 450
    assert typo_metrics["macro"]["exact_match"] < metrics["macro"]["exact_match"]
    with open(os.path.join(out, "model_int8.metrics_test.json")) as f:
        assert json.load(f) == metrics
    refused = _evaluate(f"--tflite={path}", "--typo_probability=2")
    assert refused.returncode != 0 and "must be in [0, 1]" in refused.stderr


def test_viterbi_keeps_valid_argmax_sequences_and_repairs_the_others(pqrnn_workdir, exported):
    from pqrnn.training import experiment, predictor

    trained = predictor.TrainedModel.restore(pqrnn_workdir)
    examples, _ = experiment.load_examples(trained.config, "validation")
    out, _ = exported
    with open(os.path.join(out, "model_float32.tflite"), "rb") as f:
        content = f.read()
    tflite = runner.TFLiteNLUModel(content)
    for predict in (trained.predict, tflite.predict):
        argmax = predict(examples, slot_decoding="argmax")
        viterbi = predict(examples, slot_decoding="viterbi")
        repaired = 0
        for (intent_a, tags_a), (intent_v, tags_v) in zip(argmax, viterbi, strict=True):
            assert intent_a == intent_v and decoding.is_valid_bio(tags_v)
            if decoding.is_valid_bio(tags_a):
                assert tags_v == tags_a  # the unconstrained best is also the best valid one
            else:
                repaired += 1
        assert repaired > 0  # a 100-step smoke model emits invalid sequences to repair
    # A card without slot_decoding (files written before it) reads by argmax.
    card = dict(tflite.card)
    del card["slot_decoding"]
    old = runner.TFLiteNLUModel(model_card.add_model_card(content, card))
    assert old.slot_decoding == "argmax"
    assert old.predict(examples[:50]) == tflite.predict(examples[:50], slot_decoding="argmax")
    # Slot types of the predicted intent only: the table travels in the card,
    # and the file decodes as the Keras model does.
    with pytest.raises(ValueError, match="slot types by intent"):
        tflite.predict(examples[:5], slot_decoding="viterbi_intent_types")
    table = trained.slot_types_by_intent()
    ids = model_card.encode_slot_types_by_intent(
        table, tflite.card["intent_labels"], tflite.card["slot_tags"]
    )
    typed = runner.TFLiteNLUModel(
        model_card.add_model_card(
            content,
            {
                **tflite.card,
                "slot_decoding": "viterbi_intent_types",
                "slot_type_ids_by_intent": ids,
            },
        )
    )
    assert model_card.slot_types_by_intent(typed.card) == table
    # Files written before 2026-12-07 carry the table itself; they read the same.
    old_typed = runner.TFLiteNLUModel(
        model_card.add_model_card(
            content,
            {**tflite.card, "slot_decoding": "viterbi_intent_types", "slot_types_by_intent": table},
        )
    )
    keras_typed = trained.predict(examples, slot_decoding="viterbi_intent_types")
    tflite_typed = typed.predict(examples)
    assert old_typed.predict(examples) == tflite_typed
    same = sum(a == b for a, b in zip(keras_typed, tflite_typed, strict=True))
    assert same >= 0.99 * len(examples)
    for intent, tags in keras_typed:
        if intent in table:  # an intent the table lacks ("<unk>") constrains nothing
            assert {t[2:] for t in tags if t != "O"} <= set(table[intent])


def test_export_with_intent_types_carries_the_table_as_tag_ids(pqrnn_workdir, tmp_path):
    from pqrnn.training import predictor

    out = str(tmp_path / "typed")
    exporter.export(
        pqrnn_workdir,
        exporter.ExportOptions(
            output_dir=out,
            quantization="ptq",
            check_examples=50,
            saved_model=False,
            slot_decoding="viterbi_intent_types",
        ),
    )
    card = model_card.read_model_card(os.path.join(out, "model_int8.tflite"))
    assert card["slot_decoding"] == "viterbi_intent_types" and "slot_types_by_intent" not in card
    table = predictor.TrainedModel.restore(pqrnn_workdir).slot_types_by_intent()
    assert model_card.slot_types_by_intent(card) == table


@pytest.fixture(scope="module")
def bilstm_export(tmp_path_factory, tflite_ops_library) -> str:
    workdir = _train(tmp_path_factory, "bilstm", 60)
    out = os.path.join(workdir, "export")
    exporter.export(
        workdir,
        exporter.ExportOptions(output_dir=out, check_examples=60, force=True, saved_model=False),
    )
    return out


def test_bilstm_exports_with_fused_lstm_and_resets_its_state(bilstm_export):
    path = os.path.join(bilstm_export, "model_float32.tflite")
    card = model_card.read_model_card(path)
    assert card["input"]["kind"] == "tokens" and card["vocabulary"][0] == "[UNK]"
    counts = checks.op_counts(open(path, "rb").read())
    assert counts.get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 2 and "WHILE" not in counts
    assert not any(name.startswith("HASHTABLE") for name in counts)  # the lookup is the app's
    model = runner.TFLiteNLUModel(path)
    assert model.stateful
    first = model.run(["set an alarm for noon"])["slots"]
    model.run(["call my brother now please"])
    np.testing.assert_array_equal(model.run(["set an alarm for noon"])["slots"], first)
    fresh = runner.TFLiteNLUModel(path).run(["set an alarm for noon"])["slots"]
    np.testing.assert_array_equal(first, fresh)
