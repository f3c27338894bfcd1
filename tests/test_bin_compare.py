"""pqrnn.bin.compare's reading of predictions files (the bootstrap: test_metrics.py)."""

import json

import pytest

from pqrnn.bin.compare import format_result
from pqrnn.metrics import compare_hits, read_hits


def write(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


def line(language, id_, hit):
    return json.dumps({"language": language, "id": id_, "intent": "x", "exact_match": hit})


def test_read_hits_and_format(tmp_path):
    a = write(tmp_path / "a.jsonl", [line("en", "1", True), "", line("de", "1", False)])
    b = write(tmp_path / "b.jsonl", [line("de", "1", True), line("en", "1", True)])
    hits = read_hits(a)
    assert hits == {("en", "1"): True, ("de", "1"): False}
    text = format_result(compare_hits(hits, read_hits(b), num_samples=50), "a", "b")
    assert "de        1     0.00  100.00 -100.00" in text
    assert "macro A - B: -50.00 points" in text


@pytest.mark.parametrize(
    "bad, message",
    [
        ("not json", "not a prediction line"),
        (json.dumps({"language": "en", "id": "2"}), "not a prediction line.*exact_match"),
        (json.dumps({"language": "en", "id": "2", "exact_match": 1}), "not true/false"),
        ('["en", "2", true]', "not a prediction line"),
        (line("en", "1", False), r"utterance \('en', '1'\) appears twice"),
    ],
)
def test_read_hits_names_the_file_and_line_of_a_bad_row(tmp_path, bad, message):
    path = write(tmp_path / "p.jsonl", [line("en", "1", True), bad])
    with pytest.raises(ValueError, match=rf"p\.jsonl:2: .*{message}"):
        read_hits(path)


def test_read_hits_of_an_empty_file(tmp_path):
    with pytest.raises(ValueError, match="no predictions"):
        read_hits(write(tmp_path / "e.jsonl", []))
