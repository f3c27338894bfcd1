"""TF op == TFLite op, bit for bit, on every real utterance and on hostile strings.

The projection must give the same bits in training (TensorFlow) and on the
device (TFLite). This runs both on every utterance of every language and
split in ../shared/data (MTOP eval/test and flat train, MultiATIS++
train/dev/test: ~150k utterances in 15 languages), in batches, with F = 256
and several attribute combinations, and on tests/hostile_strings.py.

Run: .venv/bin/python -m pytest -q tests/test_parity_tf_tflite.py
(the real-data test is marked realdata and slow; it skips without the data).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from tests import projection_parity as pp
from tests.hostile_strings import HOSTILE_STRINGS

FEATURE_SIZE = 256
BATCH_SIZE = 256

# Each real-data combination costs ~5 s here.
ATTRS = {
    "defaults": dict(feature_size=FEATURE_SIZE),
    "lower_bos_eos": dict(
        feature_size=FEATURE_SIZE, lowercase=True, add_bos_tag=True, add_eos_tag=True
    ),
    "novelty_docsize": dict(feature_size=FEATURE_SIZE, word_novelty_bits=4, doc_size_levels=12),
    "everything_truncated": dict(
        feature_size=FEATURE_SIZE,
        lowercase=True,
        add_bos_tag=True,
        add_eos_tag=True,
        word_novelty_bits=7,
        doc_size_levels=16,
        max_seq_len=12,
    ),
    "char_ngrams": dict(
        feature_size=FEATURE_SIZE, lowercase=True, add_bos_tag=True, char_ngram_size=3
    ),
}
# In one batch, T is the longest string's token count: the 1 MB strings would
# make a [28, 190k, 256] output, so batches of them are capped (each string
# also runs alone, uncapped).
BATCH_CAP = 512


def _column(path: pathlib.Path, column: int | str) -> list[bytes]:
    """One column of a UTF-8 TSV, as raw bytes (no decoding, so the op sees
    exactly the file's bytes). `column` is an index (no header) or a header
    name."""
    lines = [line for line in path.read_bytes().split(b"\n") if line]
    if isinstance(column, str):
        header = lines.pop(0).split(b"\t")
        column = header.index(column.encode())
    return [line.split(b"\t")[column] for line in lines]


def real_utterances(root: pathlib.Path) -> dict[str, list[bytes]]:
    """{file (relative to root): every utterance in it}, per ../shared/data/README.md."""
    files = {}
    for path in sorted(root.glob("mtop/*/*.txt")):
        files[path] = 3  # id, intent, slot_string, utterance, ...
    for path in sorted(root.glob("mtop_train_flat/*/train.tsv")):
        files[path] = "utterance"
    for path in sorted(root.glob("multiatis/*.tsv")):
        files[path] = "utterance"
    return {str(path.relative_to(root)): _column(path, column) for path, column in files.items()}


def _capped(attrs: dict) -> dict:
    return {**attrs, "max_seq_len": attrs.get("max_seq_len") or BATCH_CAP}


@pytest.fixture(scope="module")
def interpreters():
    """{attrs name: interpreter of the converted projection}, plus
    "<name>/capped" for the hostile batches."""
    result = {}
    for name, attrs in ATTRS.items():
        result[name] = pp.new_interpreter(pp.convert_projection(**attrs))
        if not attrs.get("max_seq_len"):
            result[name + "/capped"] = pp.new_interpreter(pp.convert_projection(**_capped(attrs)))
        else:
            result[name + "/capped"] = result[name]
    return result


@pytest.mark.realdata
@pytest.mark.slow
def test_every_real_utterance(shared_data, interpreters):
    utterances = real_utterances(shared_data)
    # Every language and split of the README is there.
    assert len([f for f in utterances if f.startswith("mtop/")]) == 12
    assert len([f for f in utterances if f.startswith("mtop_train_flat/")]) == 6
    assert len([f for f in utterances if f.startswith("multiatis/")]) == 27
    total = sum(map(len, utterances.values()))
    assert total > 140_000, total

    for name, attrs in ATTRS.items():
        interpreter = interpreters[name]
        for file, texts in utterances.items():
            for start in range(0, len(texts), BATCH_SIZE):
                batch = texts[start : start + BATCH_SIZE]
                pp.assert_bit_identical(
                    pp.run_tf(batch, **attrs),
                    pp.run_tflite(interpreter, batch),
                    f"{name}: {file} rows {start}..{start + len(batch) - 1}",
                )


@pytest.mark.parametrize("name", list(ATTRS))
def test_hostile_strings_in_one_batch(interpreters, name):
    texts = [text for _, text in HOSTILE_STRINGS]
    pp.assert_bit_identical(
        pp.run_tf(texts, **_capped(ATTRS[name])),
        pp.run_tflite(interpreters[name + "/capped"], texts),
        f"{name}: all hostile strings in one batch",
    )


@pytest.mark.parametrize("case", HOSTILE_STRINGS, ids=[name for name, _ in HOSTILE_STRINGS])
def test_each_hostile_string_alone(interpreters, case):
    name, text = case
    for attrs_name in ("defaults", "lower_bos_eos", "everything_truncated", "char_ngrams"):
        pp.assert_bit_identical(
            pp.run_tf([text], **ATTRS[attrs_name]),
            pp.run_tflite(interpreters[attrs_name], [text]),
            f"{attrs_name}: {name}",
        )


def test_comparison_sees_a_single_bit():
    """The check is on bits: -0.0 vs 0.0 or one ulp fails, unlike ==."""
    projection = np.zeros([1, 2, 4], np.float32)
    lengths = np.array([2], np.int32)
    for changed in (-0.0, np.nextafter(np.float32(0), np.float32(1))):
        other = projection.copy()
        other[0, 1, 3] = changed
        with pytest.raises(AssertionError, match=r"differ first at \[b, t, f\] = \(0, 1, 3\)"):
            pp.assert_bit_identical((projection, lengths), (other, lengths), "self-test")
