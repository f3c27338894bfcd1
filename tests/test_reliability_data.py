"""Data faults: every reader warns (or raises, when strict) naming file and line,
and counts the fault in its report; `pqrnn.bin.evaluate` carries the counts
into its metrics file. docs/RELIABILITY.md lists the cases.

Each reader gets a file of: good row, faulty row, good row. Non-strict: the
faulty row is skipped, counted by reason, logged as a warning naming
path:line. Strict: DataFormatError naming the same path and line.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import subprocess
import sys

import pytest

from pqrnn.data import (
    DataFormatError,
    Example,
    LabelVocabs,
    UnknownLabelError,
    read_mtop,
    read_mtop_train_flat,
    read_multiatis,
    read_tsv,
)

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

# reader, file name, header line (None: headerless), a good row.
TSV = (read_tsv, "data.tsv", b"id\tlanguage\ttokens\ttags\tintent",
       b"g\ten\twake me up\tO O B-time\tset_alarm")  # fmt: skip
MULTIATIS = (read_multiatis, "train_EN.tsv", b"id\tutterance\tslot_labels\tintent",
             b"1\twake me up\tO O B-time\tset_alarm")  # fmt: skip
MTOP = (read_mtop, "en/eval.txt", None,
        (FIXTURES / "mtop" / "en" / "eval.txt").read_bytes().split(b"\n")[0])  # fmt: skip
_flat = (FIXTURES / "mtop_train_flat" / "en" / "train.tsv").read_bytes().split(b"\n")
MTOP_FLAT = (read_mtop_train_flat, "en/train.tsv", _flat[0], _flat[1])

READERS = {"tsv": TSV, "multiatis": MULTIATIS, "mtop": MTOP, "mtop_flat": MTOP_FLAT}


def _with_extra_column(row: bytes) -> bytes:
    return row + b"\textra"


def _with_invalid_utf8(row: bytes) -> bytes:
    return row.replace(b"e", b"\xe9", 1)  # Latin-1 "é" is not UTF-8.


def _tsv_mismatch(row: bytes) -> bytes:
    return row.replace(b"O O B-time", b"O B-time")


def _mtop_span_mismatch(row: bytes) -> bytes:
    # The utterance no longer matches tokens_json's byte spans.
    columns = row.split(b"\t")
    columns[3] = b"X" + columns[3]
    return b"\t".join(columns)


def _flat_unparsable(row: bytes) -> bytes:
    columns = row.split(b"\t")
    columns[5] = b"[IN:CREATE_REMINDER stray words ]"
    return b"\t".join(columns)


# (reader, fault name, make the faulty row, reason counted in the report).
FAULTS = (
    [(reader, "column_count", _with_extra_column, "column_count") for reader in READERS]
    + [(reader, "invalid_utf8", _with_invalid_utf8, "invalid_utf8") for reader in READERS]
    + [
        ("tsv", "token_tag_mismatch", _tsv_mismatch, "token_tag_count_mismatch"),
        ("multiatis", "token_tag_mismatch", _tsv_mismatch, "token_tag_count_mismatch"),
        ("mtop", "token_span_mismatch", _mtop_span_mismatch, "token_span_mismatch"),
        ("mtop_flat", "unparsable_flat", _flat_unparsable, "bad_flat"),
    ]
)


def _write(tmp_path: pathlib.Path, name: str, data: bytes) -> pathlib.Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    "reader_name,fault,make_bad,reason", FAULTS, ids=[f"{r}-{f}" for r, f, _, _ in FAULTS]
)
def test_faulty_row_is_named_counted_or_raised(
    tmp_path, caplog, reader_name, fault, make_bad, reason
):
    reader, name, header, good = READERS[reader_name]
    bad = make_bad(good)
    assert bad != good
    lines = ([header] if header else []) + [good, bad, good]
    path = _write(tmp_path, name, b"\n".join(lines) + b"\n")
    bad_line = 3 if header else 2

    with caplog.at_level(logging.WARNING):
        examples, report = reader(path)
    assert len(examples) == 2
    assert report.rows_read == 3 and report.rows_kept == 2
    assert dict(report.skipped) == {reason: 1}
    assert [(i.path, i.line, i.reason) for i in report.issues if i.kind == "skipped"] == [
        (str(path), bad_line, reason)
    ]
    assert any(
        m.startswith(f"{path}:{bad_line}: skipped row ({reason})") for m in _warnings(caplog)
    )
    assert f"skipped 1 ({reason} 1)" in report.summary()
    # Kept examples say where they came from.
    assert [e.source for e in examples] == [f"{path}:{bad_line - 1}", f"{path}:{bad_line + 1}"]

    with pytest.raises(DataFormatError) as error:
        reader(path, strict=True)
    assert (error.value.path, error.value.line) == (str(path), bad_line)
    assert str(error.value).startswith(f"{path}:{bad_line}: ")


@pytest.mark.parametrize("reader_name", list(READERS))
def test_empty_file_is_an_error_or_a_warning(tmp_path, caplog, reader_name):
    reader, name, header, _ = READERS[reader_name]
    path = _write(tmp_path, name, b"")
    if header is not None:
        # Readers of headed formats cannot read anything: an error in both modes.
        for strict in (False, True):
            with pytest.raises(DataFormatError, match=rf"^{path}:1: expected .*header"):
                reader(path, strict=strict)
        return
    with caplog.at_level(logging.WARNING):
        examples, report = reader(path)
    assert examples == [] and report.rows_read == 0
    assert any(m == f"{path}: no data rows (an empty file, or a header only)"
               for m in _warnings(caplog))  # fmt: skip
    with pytest.raises(DataFormatError, match=rf"^{path}: no data rows"):
        reader(path, strict=True)


@pytest.mark.parametrize("reader_name", ["tsv", "multiatis", "mtop_flat"])
def test_header_only_file_warns_or_raises(tmp_path, caplog, reader_name):
    reader, name, header, _ = READERS[reader_name]
    path = _write(tmp_path, name, header + b"\n")
    with caplog.at_level(logging.WARNING):
        examples, report = reader(path)
    assert examples == [] and "read 0" in report.summary()
    assert any(m.startswith(f"{path}: no data rows") for m in _warnings(caplog))
    with pytest.raises(DataFormatError) as error:
        reader(path, strict=True)
    assert (error.value.path, error.value.line) == (str(path), 0)


def test_unknown_labels_are_counted_and_named(caplog):
    train = [Example("t", "en", ("wake", "me"), ("O", "B-time"), "set_alarm")]
    vocabs = LabelVocabs.build(train)
    evaluation = [
        Example("a", "en", ("wake", "me"), ("O", "B-time"), "set_alarm", "eval.tsv:2"),
        Example("b", "en", ("book", "it"), ("O", "B-place"), "book", "eval.tsv:3"),
        Example("c", "en", ("wake", "me"), ("I-time", "B-when"), "set_alarm"),
    ]
    with caplog.at_level(logging.WARNING):
        counts = vocabs.count_unknown(evaluation)
    assert counts == {"unknown_intent": 1, "unknown_tag": 2}
    warnings = _warnings(caplog)
    assert any(m.startswith("eval.tsv:3: intent 'book' and tag(s) 'B-place'") for m in warnings)
    assert any(m.startswith("example 'c': tag(s) 'B-when'") for m in warnings)
    # I-time is known: vocabularies hold B- and I- of every slot type.
    assert not any("I-time" in m for m in warnings)
    with pytest.raises(UnknownLabelError, match="eval.tsv:3: intent 'book'"):
        vocabs.count_unknown(evaluation, strict=True)
    assert vocabs.count_unknown(evaluation[:1], strict=True) == {}


# ---------------------------------------------------------------------------
# Through the binaries: a workdir trained on TSV files, evaluated on a faulty one.

_TRAIN_ROWS = [
    f"t{i}\ten\twake me up at {i} am\tO O O B-time I-time I-time\tset_alarm"
    if i % 2
    else f"t{i}\ten\tplay song number {i}\tO B-media I-media I-media\tplay_music"
    for i in range(40)
]
_HEADER = "id\tlanguage\ttokens\ttags\tintent"


def _evaluation_file(path: pathlib.Path) -> dict:
    """A test split with each fault once; returns {line: reason}."""
    rows = [_HEADER.encode()] + [r.encode() for r in _TRAIN_ROWS[:4]]  # lines 1-5
    rows.append(b"bad1\ten\twake me up\tO O O\tset_alarm\textra")  # 6
    rows.append(b"bad2\ten\twake me up\tO O\tset_alarm")  # 7
    rows.append("bad3\ten\twake m\xe9 up\tO O O\tset_alarm".encode("latin-1"))  # 8
    rows.append(b"unk1\ten\tbook a table\tO O B-restaurant\tbook_table")  # 9
    rows.append(b"unk2\ten\tplay song now\tO B-media B-when\tplay_music")  # 10
    path.write_bytes(b"\n".join(rows) + b"\n")
    return {6: "column_count", 7: "token_tag_count_mismatch", 8: "invalid_utf8"}


def _run(args, cwd=REPO):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        ["nice", sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tsv_workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tsv_run")
    (root / "train.tsv").write_text("\n".join([_HEADER, *_TRAIN_ROWS]) + "\n")
    (root / "validation.tsv").write_text("\n".join([_HEADER, *_TRAIN_ROWS[:10]]) + "\n")
    faults = _evaluation_file(root / "test.tsv")
    result = _run([
        "pqrnn.bin.train", "--config=pqrnn/configs/smoke.py", "--config.data.dataset=tsv",
        f"--config.data.train_files={root / 'train.tsv'}",
        f"--config.data.validation_files={root / 'validation.tsv'}",
        f"--config.data.test_files={root / 'test.tsv'}",
        f"--workdir={root / 'workdir'}", "--max_steps=2",
    ])  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return root, faults


@pytest.fixture(scope="module")
def evaluated(tsv_workdir):
    """One `pqrnn.bin.evaluate --split=test` run: (root, faults, result, metrics)."""
    root, faults = tsv_workdir
    result = _run(["pqrnn.bin.evaluate", f"--workdir={root / 'workdir'}", "--split=test"])
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((root / "workdir" / "metrics_test.json").read_text())
    return root, faults, result, metrics


@pytest.mark.slow
def test_evaluate_names_and_counts_faulty_rows(evaluated):
    root, faults, result, metrics = evaluated
    test_file = root / "test.tsv"
    for line, reason in faults.items():
        assert f"{test_file}:{line}: skipped row ({reason})" in result.stderr
    assert (
        "skipped 3 (column_count 1, invalid_utf8 1, token_tag_count_mismatch 1)"
        in metrics["read_report"]
    )
    assert metrics["macro"]["num_examples"] == 6  # 4 good + 2 with unknown labels.

    strict = _run(
        ["pqrnn.bin.evaluate", f"--workdir={root / 'workdir'}", "--split=test", "--strict"]
    )
    assert strict.returncode != 0
    assert f"DataFormatError: {test_file}:6: expected 5 tab-separated columns" in strict.stderr


@pytest.mark.slow
def test_evaluate_counts_unknown_labels(evaluated):
    root, _, result, metrics = evaluated
    test_file = root / "test.tsv"
    assert f"{test_file}:9: intent 'book_table' and tag(s) 'B-restaurant'" in result.stderr
    assert f"{test_file}:10: tag(s) 'B-when'" in result.stderr
    assert metrics["unknown_labels"] == {"unknown_intent": 1, "unknown_tag": 2}
