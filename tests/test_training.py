"""End-to-end tests of the training binaries on the generated dataset."""

import json
import os
import socket
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = os.path.join(REPO, "pqrnn", "configs", "smoke.py")


def run(args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def checked(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_train_resume_evaluate_predict(tmp_path):
    workdir = str(tmp_path / "run")
    first = checked(
        run(["pqrnn.bin.train", f"--config={SMOKE}", f"--workdir={workdir}", "--max_steps=60"])
    )
    assert "parameters" in first.stderr and "examples/s" in first.stderr
    with open(os.path.join(workdir, "train_summary.json")) as f:
        assert json.load(f)["steps"] == 60
    # A restart without --config reads the workdir's config and resumes.
    second = checked(run(["pqrnn.bin.train", f"--workdir={workdir}"]))
    assert "resumed from" in second.stderr
    with open(os.path.join(workdir, "train_summary.json")) as f:
        summary = json.load(f)
    from pqrnn.configs import smoke

    epochs = smoke.get_config().train.epochs
    assert summary["steps"] == epochs * 57  # epochs of ceil(1800 / 32) steps.
    assert summary["validation"]["macro"]["intent_accuracy"] > 0.9, summary["validation"]

    predictions = os.path.join(workdir, "predictions_test.jsonl")
    result = checked(
        run(
            [
                "pqrnn.bin.evaluate",
                f"--workdir={workdir}",
                "--split=test",
                f"--predictions_output={predictions}",
            ]
        )
    )
    assert "exact_match" in result.stdout
    with open(os.path.join(workdir, "metrics_test.json")) as f:
        metrics = json.load(f)
    assert set(metrics["per_language"]) == {"en", "de", "fr"}
    # One line per test utterance; their hits average to the reported metric.
    with open(predictions) as f:
        rows = [json.loads(line) for line in f]
    assert sum(m["num_examples"] for m in metrics["per_language"].values()) == len(rows)
    for language, scores in metrics["per_language"].items():
        hits = [r["exact_match"] for r in rows if r["language"] == language]
        assert sum(hits) / len(hits) == pytest.approx(scores["exact_match"])
    # A copy with the first utterance's hit flipped: compare sees exactly that.
    flipped = os.path.join(workdir, "flipped.jsonl")
    rows[0]["exact_match"] = not rows[0]["exact_match"]
    with open(flipped, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    output = os.path.join(workdir, "compare.json")
    compared = checked(
        run(
            ["pqrnn.bin.compare", f"--a={predictions}", f"--b={flipped}", f"--output_json={output}"]
        )
    )
    assert "macro A - B" in compared.stdout
    with open(output) as f:
        result = json.load(f)
    n = metrics["per_language"][rows[0]["language"]]["num_examples"]
    sign = -1 if rows[0]["exact_match"] else 1
    assert result["delta"] == pytest.approx(sign / n / 3)

    predicted = checked(
        run(
            [
                "pqrnn.bin.predict",
                f"--workdir={workdir}",
                "--text=call mom",
                "--text=play some adele",
            ]
        )
    )
    lines = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["call mom", "play some adele"]
    assert all(
        line["intent"] in {"create_call", "play_music", "set_alarm", "get_weather", "set_reminder"}
        for line in lines
    )


def test_an_empty_split_is_an_error_before_any_workdir_file(tmp_path):
    from pqrnn.configs import smoke
    from pqrnn.training import experiment, trainer

    empty = tmp_path / "empty.tsv"
    empty.write_text("tokens\ttags\tintent\n")
    config = smoke.get_config("pqrnn")
    config.data.update(dataset="tsv", train_files=str(empty), validation_files=str(empty))
    with pytest.raises(ValueError, match=r"the train split of tsv .*has no examples \(read 0"):
        experiment.load_examples(config, "train")
    workdir = tmp_path / "run"
    with pytest.raises(ValueError, match="has no examples"):
        trainer.train(config, str(workdir))
    assert not (workdir / "vocabs.json").exists()


def test_max_train_examples_takes_every_language_in_turn(tmp_path):
    """The files store languages one after another; a cap on the training
    examples must not keep the first language alone."""
    from pqrnn.configs import smoke
    from pqrnn.data import Example, catalog, write_tsv
    from pqrnn.training import experiment

    rows = [
        Example(f"{lang}{i}", lang, ("hi",), ("O",), "greet") for lang in "xyz" for i in range(4)
    ]
    path = tmp_path / "train.tsv"
    write_tsv(path, rows)
    config = smoke.get_config("pqrnn")
    config.data.update(dataset="tsv", train_files=str(path), max_train_examples=5)
    examples, _ = experiment.load_examples(config, "train")
    assert [e.id for e in examples] == ["x0", "y0", "z0", "x1", "y1"]
    config.data.max_train_examples = 0
    assert len(experiment.load_examples(config, "train")[0]) == 12
    # The generated dataset is capped the same way (it was not before 2026-12-07).
    config = smoke.get_config("pqrnn")
    everything = experiment.load_examples(config, "train")[0]
    config.data.max_train_examples = 7
    capped = experiment.load_examples(config, "train")[0]
    assert len(capped) == 7 < len(everything)
    assert capped == catalog.interleaved(everything, 7)


def test_a_dataset_with_fewer_batches_than_an_epoch_is_an_error_not_a_hang(tmp_path):
    from pqrnn.configs import smoke
    from pqrnn.training import experiment, trainer

    config = smoke.get_config("pqrnn")
    config.data.languages = "en"

    def one_batch(examples, vocabs, epoch):
        dataset = experiment.make_dataset(config, examples, vocabs, training=True, epoch=epoch)
        return dataset.take(1)

    with pytest.raises(RuntimeError, match="yielded no batch after skipping 1"):
        trainer.train(config, str(tmp_path / "run"), make_train_dataset=one_batch)


@pytest.mark.slow
def test_restart_with_a_different_config_is_refused(tmp_path):
    workdir = str(tmp_path / "run")
    checked(run(["pqrnn.bin.train", f"--config={SMOKE}", f"--workdir={workdir}", "--max_steps=2"]))
    result = run(
        [
            "pqrnn.bin.train",
            f"--config={SMOKE}",
            "--config.train.batch_size=16",
            f"--workdir={workdir}",
        ]
    )
    assert result.returncode != 0
    assert "different config" in result.stderr and "train.batch_size: 32 -> 16" in result.stderr


def test_saved_configs_from_before_an_added_field_read_as_off():
    from pqrnn.training import experiment

    saved = {"projection": {"lowercase": True}, "train": {"seed": 0}}
    upgraded = experiment.upgrade_saved_config(saved)
    assert upgraded["projection"] == {
        "lowercase": True,
        "char_ngram_size": 0,
        "char_ngram_sqrt": False,
        "unseen_word_probability": 0.0,
    }
    assert upgraded["train"] == {"seed": 0, "ema_momentum": 0.0, "language_sampling_exponent": 1.0}
    assert saved == {"projection": {"lowercase": True}, "train": {"seed": 0}}  # not mutated
    # A value that is there is kept.
    kept = experiment.upgrade_saved_config({"projection": {"char_ngram_size": 3}})
    assert kept["projection"]["char_ngram_size"] == 3


@pytest.mark.slow
def test_old_workdir_without_char_ngrams_resumes_and_a_change_is_refused(tmp_path):
    workdir = str(tmp_path / "run")
    checked(run(["pqrnn.bin.train", f"--config={SMOKE}", f"--workdir={workdir}", "--max_steps=2"]))
    path = os.path.join(workdir, "config.json")
    with open(path) as f:
        config = json.load(f)
    del config["projection"]["char_ngram_size"]  # As written before the field existed.
    with open(path, "w") as f:
        json.dump(config, f)
    resumed = checked(
        run(["pqrnn.bin.train", f"--config={SMOKE}", f"--workdir={workdir}", "--max_steps=4"])
    )
    assert "resumed from" in resumed.stderr
    changed = run(
        [
            "pqrnn.bin.train",
            f"--config={SMOKE}",
            "--config.projection.char_ngram_size=3",
            f"--workdir={workdir}",
        ]
    )
    assert changed.returncode != 0
    assert "projection.char_ngram_size: 0 -> 3" in changed.stderr


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_strategy_on_loopback(tmp_path):
    workdir = str(tmp_path / "run")
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pqrnn.bin.train",
                    f"--config={SMOKE}",
                    f"--workdir={workdir}",
                    "--strategy=multi_worker",
                    "--max_steps=6",
                ],
                cwd=REPO,
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=600) for p in processes]
    for p, (_, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert "step 6/6" in outputs[0][1]
    with open(os.path.join(workdir, "train_summary.json")) as f:
        assert json.load(f)["steps"] == 6
    assert os.path.exists(os.path.join(workdir, "checkpoints", "checkpoint"))


def _trained_weights(workdir, seed, steps=3):
    from pqrnn.configs import smoke
    from pqrnn.training import predictor, trainer

    config = smoke.get_config()
    config.train.seed = seed
    trainer.train(config, workdir, max_steps=steps)
    return [w.copy() for w in predictor.TrainedModel.restore(workdir).model.get_weights()]


def test_the_seed_decides_initial_weights_dropout_and_order(tmp_path):
    # config.train.seed is documented as the initialisation and shuffling
    # seed: the same seed trains the same weights, another seed does not.
    import numpy as np

    a = _trained_weights(str(tmp_path / "a"), seed=3)
    b = _trained_weights(str(tmp_path / "b"), seed=3)
    c = _trained_weights(str(tmp_path / "c"), seed=4)
    assert len(a) == len(b) == len(c)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, z) for x, z in zip(a, c, strict=True))


def test_teacher_ensemble_members_get_their_own_seeds():
    from pqrnn.configs import teacher as teacher_config
    from pqrnn.distill import teacher

    config = teacher_config.get_config("smoke")
    config.train.seed = 5
    seeds = [teacher._member_config(config, i).train.seed for i in range(3)]
    assert seeds == [5, 6, 7]
    assert config.train.seed == 5  # not mutated


def _ema_config(momentum):
    from pqrnn.configs import smoke

    config = smoke.get_config()
    config.train.epochs = 1
    config.data.max_train_examples = 3 * config.train.batch_size  # three steps
    config.train.ema_momentum = momentum
    return config


def _weights(workdir):
    from pqrnn.training import predictor

    return [w.copy() for w in predictor.TrainedModel.restore(workdir).model.get_weights()]


def test_ema_replaces_the_weights_by_their_moving_average_at_the_end(tmp_path):
    # After k steps the average is m^k w0 + sum_i m^(k-i) (1 - m) w_i, where
    # w_i are the weights after step i of the same run without the average
    # (training itself is the same with or without it).
    import numpy as np
    import tf_keras as keras

    from pqrnn.training import experiment, predictor, trainer

    m = 0.6
    trainer.train(_ema_config(m), str(tmp_path / "ema"))
    ema = _weights(str(tmp_path / "ema"))
    raw = []
    for k in (1, 2, 3):
        workdir = str(tmp_path / f"raw{k}")
        trainer.train(_ema_config(0.0), workdir, max_steps=k)  # the same 3-step schedule
        raw.append(_weights(workdir))
    config = _ema_config(0.0)
    keras.utils.set_random_seed(config.train.seed)  # as train() builds the model
    vocabs = predictor.load_vocabs(experiment.workdir_paths(str(tmp_path / "raw3"))["vocabs"])
    w0 = experiment.build_model(config, vocabs, []).get_weights()
    moved = [not np.array_equal(a, b) for a, b in zip(w0, raw[-1], strict=True)]
    assert sum(moved) > len(moved) // 2
    for i, (e, t) in enumerate(zip(ema, moved, strict=True)):
        w = [w0[i]] + [r[i] for r in raw]
        expected = m**3 * w[0] + sum(m ** (3 - k) * (1 - m) * w[k] for k in (1, 2, 3))
        np.testing.assert_allclose(e, expected if t else w[3], rtol=1e-5, atol=1e-7)
    assert not np.allclose(ema[0], raw[-1][0], rtol=1e-3)  # the average is not the last weights
    # A finished run restarted keeps the average (assigned again, not
    # averaged twice).
    trainer.train(_ema_config(m), str(tmp_path / "ema"))
    for a, b in zip(ema, _weights(str(tmp_path / "ema")), strict=True):
        np.testing.assert_array_equal(a, b)


def test_ema_momentum_outside_0_1_is_refused(tmp_path):
    from pqrnn.configs import smoke
    from pqrnn.training import trainer

    config = smoke.get_config()
    config.train.ema_momentum = 1.0
    with pytest.raises(ValueError, match="ema_momentum"):
        trainer.train(config, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run")  # refused before anything is written
