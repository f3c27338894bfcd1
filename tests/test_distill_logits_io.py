"""The teacher logits format: round trip, validation, label remapping, subword alignment."""

import json
import stat

import numpy as np
import pytest

import pqrnn  # noqa: F401
from pqrnn import io_utils
from pqrnn.data.example import Example
from pqrnn.data.vocab import LabelVocab, LabelVocabs, UnknownLabelError
from pqrnn.distill import logits_io

INTENTS = ("greet", "leave")
TAGS = ("O", "B-name", "I-name")
EXAMPLE = Example("7", "en", ("hi", "bob", "smith"), ("O", "B-name", "I-name"), "greet")


def write(path, records=1, compression="", labels=True):
    with logits_io.LogitsWriter(
        path, INTENTS, TAGS, teacher="test", metadata={"k": 1}, compression=compression
    ) as writer:
        for i in range(records):
            example = Example(str(i), "en", EXAMPLE.tokens, EXAMPLE.tags, EXAMPLE.intent)
            writer.write_example(
                example,
                [1.0 + i, -1.0],
                np.arange(9, dtype=np.float32).reshape(3, 3),
                with_labels=labels,
                source_id="src" if i else "",
            )


@pytest.mark.parametrize("compression", ["", "GZIP"])
def test_round_trip(tmp_path, compression):
    path = str(tmp_path / "t.tfrecord")
    write(path, records=2, compression=compression)
    logits = logits_io.read_logits(path)
    assert logits.header.intents == INTENTS and logits.header.tags == TAGS
    assert logits.header.metadata == {"k": 1} and logits.header.teacher == "test"
    first, second = logits.records
    assert first.tokens == EXAMPLE.tokens and first.language == "en"
    np.testing.assert_array_equal(first.intent_logits, [1.0, -1.0])
    np.testing.assert_array_equal(first.slot_logits, np.arange(9).reshape(3, 3))
    assert first.to_example() == Example("0", "en", EXAMPLE.tokens, EXAMPLE.tags, "greet")
    assert (first.source_id, second.source_id) == ("", "src")
    with open(path + ".json") as f:
        assert json.load(f)["num_examples"] == 2


def test_files_get_the_permissions_of_a_plain_open(tmp_path):
    # The records are written to a temporary file and renamed into place;
    # mkstemp alone would leave them readable by their owner only.
    path = tmp_path / "t.tfrecord"
    write(str(path))
    for written in (path, tmp_path / "t.tfrecord.json"):  # 0666 & ~umask: tests/test_io_utils.py
        assert stat.S_IMODE(written.stat().st_mode) == io_utils.artifact_mode(), written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.tfrecord", "t.tfrecord.json"]


def test_labels_are_optional(tmp_path):
    path = str(tmp_path / "t.tfrecord")
    write(path, labels=False)
    record = logits_io.read_logits(path).records[0]
    assert not record.has_labels and record.intent is None and record.tags is None


def test_writer_checks_shapes_duplicates_and_finiteness(tmp_path):
    path = str(tmp_path / "t.tfrecord")
    with pytest.raises(ValueError, match="expected intent logits"):
        with logits_io.LogitsWriter(path, INTENTS, TAGS) as writer:
            writer.write("1", "en", ["a", "b"], [0.0, 0.0], np.zeros([3, 3]))
    with pytest.raises(ValueError, match="duplicate"):
        with logits_io.LogitsWriter(path, INTENTS, TAGS) as writer:
            writer.write("1", "en", ["a"], [0.0, 0.0], np.zeros([1, 3]))
            writer.write("1", "en", ["b"], [0.0, 0.0], np.zeros([1, 3]))
    with pytest.raises(ValueError, match="NaN"):
        with logits_io.LogitsWriter(path, INTENTS, TAGS) as writer:
            writer.write("1", "en", ["a"], [np.nan, 0.0], np.zeros([1, 3]))
    # Nothing half-written is left behind, and the same id in another language is fine.
    assert not list(tmp_path.iterdir())
    with logits_io.LogitsWriter(path, INTENTS, TAGS) as writer:
        writer.write("1", "en", ["a"], [0.0, 0.0], np.zeros([1, 3]))
        writer.write("1", "de", ["a"], [0.0, 0.0], np.zeros([1, 3]))
    assert len(logits_io.read_logits(path)) == 2


def test_reader_errors_name_the_file_and_record(tmp_path):
    path = str(tmp_path / "t.tfrecord")
    write(path)
    header = json.loads((tmp_path / "t.tfrecord.json").read_text())
    header["tags"] = ["O", "B-name"]  # Now 9 slot logits no longer fit 3 tokens x 2 tags.
    (tmp_path / "t.tfrecord.json").write_text(json.dumps(header))
    with pytest.raises(logits_io.LogitsFormatError, match=r"t.tfrecord: record 0: .*3 tokens x 2"):
        logits_io.read_logits(path)
    header["tags"], header["num_examples"] = list(TAGS), 5
    (tmp_path / "t.tfrecord.json").write_text(json.dumps(header))
    with pytest.raises(logits_io.LogitsFormatError, match="header says 5"):
        logits_io.read_logits(path)
    header["format"] = "something else"
    (tmp_path / "t.tfrecord.json").write_text(json.dumps(header))
    with pytest.raises(logits_io.LogitsFormatError, match="pqrnn.TeacherLogits"):
        logits_io.read_logits(path)
    with pytest.raises(FileNotFoundError, match="JSON header"):
        logits_io.read_logits(str(tmp_path / "missing.tfrecord"))


def test_corrupt_records_name_the_file_and_record(tmp_path):
    path = tmp_path / "t.tfrecord"
    write(str(path), records=3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])  # The last record is cut short.
    with pytest.raises(logits_io.LogitsFormatError, match=r"t.tfrecord: record 2: unreadable"):
        logits_io.read_logits(str(path))
    write(str(path), records=3)
    header = json.loads((tmp_path / "t.tfrecord.json").read_text())
    header["compression"] = "GZIP"  # The records are not compressed.
    (tmp_path / "t.tfrecord.json").write_text(json.dumps(header))
    with pytest.raises(logits_io.LogitsFormatError, match=r"record 0: .*compression is not .*GZIP"):
        logits_io.read_logits(str(path))


def test_rewriting_a_file_removes_its_old_header_first(tmp_path):
    path = str(tmp_path / "t.tfrecord")
    write(path, records=2)

    class Crash(Exception):
        pass

    # A crash while the new records are written leaves no header that could
    # describe them (or the old records) as complete and current.
    with pytest.raises(Crash):
        with logits_io.LogitsWriter(path, ("other",), TAGS, teacher="new"):
            assert not (tmp_path / "t.tfrecord.json").exists()
            raise Crash()
    with pytest.raises(FileNotFoundError, match="unfinished file"):
        logits_io.read_logits(path)
    write(path, records=1)
    assert len(logits_io.read_logits(path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.tfrecord", "t.tfrecord.json"]


def test_remap_by_label_name(tmp_path):
    path = str(tmp_path / "t.tfrecord")
    write(path)
    logits = logits_io.read_logits(path)
    # The student orders labels differently, has an extra intent and its own "<unk>".
    student = LabelVocabs(
        LabelVocab(["extra", "leave", "greet"], name="intents"),
        LabelVocab(["O", "B-name", "I-name"], name="tags"),
    )
    record = logits.remap(student).records[0]
    m = logits_io.MISSING_LOGIT
    np.testing.assert_array_equal(record.intent_logits, [m, -1.0, 1.0, m])
    np.testing.assert_array_equal(record.slot_logits[:, :3], np.arange(9).reshape(3, 3))
    np.testing.assert_array_equal(record.slot_logits[:, 3], [m] * 3)


def test_remap_unknown_teacher_label_is_an_error_or_dropped(tmp_path):
    path = str(tmp_path / "t.tfrecord")
    write(path)
    logits = logits_io.read_logits(path)
    student = LabelVocabs(
        LabelVocab(["greet"], name="intents"), LabelVocab(["O", "B-name", "I-name"], name="tags")
    )
    with pytest.raises(UnknownLabelError, match=r"1 teacher intents unknown .*'leave'"):
        logits.remap(student)
    record = logits.remap(student, unknown_labels="drop").records[0]
    np.testing.assert_array_equal(record.intent_logits, [1.0, logits_io.MISSING_LOGIT])


def test_first_subword_rows():
    logits = np.arange(6, dtype=np.float32).reshape(6, 1)
    # [CLS] hel ##lo world [SEP] [PAD]; a third word was cut.
    rows, missing = logits_io.first_subword_rows(logits, [None, 0, 0, 1, None, None], 3)
    assert rows.ravel().tolist() == [1.0, 3.0, 0.0] and missing == 1
    with pytest.raises(ValueError, match="word id 5"):
        logits_io.first_subword_rows(logits, [None, 5, 0, 1, None, None], 3)
