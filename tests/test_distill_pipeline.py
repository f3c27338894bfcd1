"""End to end on the generated data: teacher -> logits -> augmented logits ->
distilled student (resumed) -> evaluation. Tiny sizes and a few steps."""

import json
import os

import pytest

import pqrnn  # noqa: F401
from pqrnn import metrics
from pqrnn.configs import distill as distill_config
from pqrnn.configs import teacher as teacher_config
from pqrnn.distill import logits_io
from pqrnn.distill.student import distill
from pqrnn.distill.teacher import run_teacher
from pqrnn.training import predictor


def tiny_teacher_config():
    config = teacher_config.get_config("smoke")
    config.data.languages = "en"
    config.model.char_bilstm.update(word_dim=8, char_dim=4, char_filters=4, lstm_units=8)
    config.train.update(batch_size=64, log_every=2)
    return config


@pytest.mark.slow
def test_teacher_then_distill_then_resume(tmp_path):
    teacher_dir = str(tmp_path / "teacher")
    written = run_teacher(tiny_teacher_config(), teacher_dir, max_steps=3, augment_amount=0.25)
    train = logits_io.read_logits(written["train"])
    augmented = logits_io.read_logits(written["augmented"])
    assert len(train) == 600 and len(augmented) == 150
    assert all(r.has_labels for r in augmented.records)
    assert all(r.source_id and "~aug" in r.id for r in augmented.records)
    assert augmented.header.metadata["augment"]["amount"] == 0.25
    with open(os.path.join(teacher_dir, "teacher_metrics_validation.json")) as f:
        teacher_metrics = json.load(f)
    assert teacher_metrics["macro"]["num_examples"] == 150
    # Its per-utterance predictions agree with its metrics, and compare reads them.
    hits = metrics.read_hits(os.path.join(teacher_dir, "teacher_predictions_validation.jsonl"))
    assert len(hits) == 150
    assert sum(hits.values()) / 150 == pytest.approx(
        teacher_metrics["per_language"]["en"]["exact_match"]
    )
    # Running it again trains nothing and rewrites nothing.
    mtime = os.path.getmtime(written["augmented"])
    run_teacher(
        tiny_teacher_config(), teacher_dir, max_steps=3, augment_amount=0.25, skip_eval=True
    )
    assert os.path.getmtime(written["augmented"]) == mtime
    # A larger transfer set goes beside the default one, and starts with it:
    # distill.augmented_amount takes a prefix of such a file.
    bigger = run_teacher(
        tiny_teacher_config(),
        teacher_dir,
        max_steps=3,
        augment_amount=0.5,
        skip_eval=True,
        logits_dir=str(tmp_path / "logits_big"),
    )
    assert os.path.dirname(bigger["augmented"]) == str(tmp_path / "logits_big")
    assert os.path.getmtime(written["augmented"]) == mtime
    larger = logits_io.read_logits(bigger["augmented"]).records
    assert len(larger) == 300
    assert [r.id for r in larger[:150]] == [r.id for r in augmented.records]
    assert [r.tokens for r in larger[:150]] == [r.tokens for r in augmented.records]

    config = distill_config.get_config("smoke")
    config.data.languages = "en"
    config.projection.update(add_bos_tag=True, add_eos_tag=True)  # Rows must skip BOS/EOS.
    config.train.update(batch_size=64, log_every=2, checkpoint_every=2)
    config.distill.update(
        teacher_logits=written["train"], augmented_logits=written["augmented"], alpha=0.3
    )
    student_dir = str(tmp_path / "student")
    first = distill(config, student_dir, max_steps=2)
    assert first["steps"] == 2 and first["train_examples"] == 750
    assert first["resumed_from_step"] == 0
    second = distill(config, student_dir, max_steps=4)
    assert second["steps"] == 4 and second["resumed_from_step"] == 2
    trained = predictor.TrainedModel.restore(student_dir)
    assert trained.step == 4 and trained.config.distill.alpha == 0.3
    assert second["validation"]["macro"]["num_examples"] == 150
    # The teacher rewrites the augmented file (another amount, same path):
    # the student stops instead of resuming towards other targets.
    run_teacher(
        tiny_teacher_config(),
        teacher_dir,
        max_steps=3,
        augment_amount=0.5,
        skip_eval=True,
        logits_dir=os.path.dirname(written["augmented"]),
    )
    with pytest.raises(ValueError, match=r"teacher logits changed since this student started"):
        distill(config, student_dir, max_steps=6)


@pytest.mark.slow
def test_a_teacher_workdir_from_before_an_added_field_resumes(tmp_path):
    # teacher_config.json written before train.ema_momentum existed: the
    # binary resuming without --config reads the field as off.
    import subprocess
    import sys

    teacher_dir = str(tmp_path / "teacher")
    run_teacher(tiny_teacher_config(), teacher_dir, max_steps=2, skip_eval=True)
    path = os.path.join(teacher_dir, "teacher_config.json")
    with open(path) as f:
        saved = json.load(f)
    del saved["train"]["ema_momentum"]
    with open(path, "w") as f:
        json.dump(saved, f)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pqrnn.bin.teacher",
            f"--workdir={teacher_dir}",
            "--skip_eval",
            "--max_steps=3",
        ],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
