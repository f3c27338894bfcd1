"""Checks every count of ../shared/data/README.md against pqrnn's readers.

Needs the real data: $PQRNN_SHARED_DATA or <repo>/../shared/data; skipped
when absent. Run: .venv/bin/python -m pytest -q -m realdata tests/test_data_realdata.py
"""

import collections
import json

import pytest

from pqrnn.data import (
    MTOP_LANGUAGES,
    MULTIATIS_LANGUAGES,
    find_data_root,
    load_split,
    split_path,
    split_whitespace,
    tokenize,
)

ROOT = find_data_root()
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        ROOT is None,
        reason="real data not found: set PQRNN_SHARED_DATA or put it at <repo>/../shared/data",
    ),
]

# README: mtop/ table (eval, test).
MTOP_EVAL_TEST = {
    "en": (2235, 4386),
    "de": (1815, 3549),
    "es": (1527, 2998),
    "fr": (1577, 3193),
    "hi": (2012, 2789),
    "th": (1671, 2765),
}
# README: mtop_train_flat/ "train rows kept" (v2_status != not_in_v2).
MTOP_TRAIN_KEPT = {"en": 15667, "de": 13424, "es": 10934, "fr": 11814, "hi": 11330, "th": 10759}
# README: multiatis/ table (train, dev, test).
MULTIATIS_ROWS = {
    **{lang: (4488, 490, 893) for lang in ("en", "de", "es", "fr", "ja", "pt", "zh")},
    "hi": (1495, 160, 893),
    "tr": (626, 60, 715),
}
# README quirks: rows with token count != tag count (all others: 0).
MULTIATIS_MISMATCHES = {
    ("train", "fr"): 13,
    ("train", "pt"): 10,
    ("train", "hi"): 5,
    ("train", "es"): 3,
    ("train", "de"): 1,
    ("train", "ja"): 1,
    ("train", "zh"): 1,
    ("test", "ja"): 7,
    ("test", "hi"): 5,
    ("test", "de"): 1,
    ("test", "pt"): 1,
    ("validation", "pt"): 1,
}
MAIN_MULTIATIS_LANGUAGES = ("en", "de", "es", "fr", "ja", "pt", "zh")


def check_examples(examples):
    for e in examples:
        assert tuple(split_whitespace(e.text)) == e.tokens, e.id
        assert len(e.tokens) == len(e.tags) > 0


@pytest.mark.parametrize("language", MTOP_LANGUAGES)
@pytest.mark.parametrize("split, column", [("validation", 0), ("test", 1)])
def test_mtop_eval_test_counts(language, split, column):
    examples, report = load_split("mtop", language, split, root=ROOT, strict=True)
    expected = MTOP_EVAL_TEST[language][column]
    assert report.rows_read == report.rows_kept == len(examples) == expected
    assert not report.skipped and not report.repaired
    check_examples(examples)
    assert len({e.id for e in examples}) == expected


@pytest.mark.parametrize("language", MTOP_LANGUAGES)
def test_mtop_train_counts(language):
    examples, report = load_split("mtop", language, "train", root=ROOT)
    assert report.rows_kept == len(examples) == MTOP_TRAIN_KEPT[language]
    assert set(report.filtered) <= {"not_in_v2"} and not report.skipped
    assert report.rows_read == MTOP_TRAIN_KEPT[language] + report.filtered["not_in_v2"]
    check_examples(examples)
    # drop_overlap filters the overlap_v0 rows; what is left reads strictly.
    dropped, strict_report = load_split(
        "mtop", language, "train", root=ROOT, drop_overlap=True, strict=True
    )
    assert len(dropped) + strict_report.filtered["overlap_v0"] == MTOP_TRAIN_KEPT[language]
    # docs/DATA.md: a slot is dropped in exactly the overlap_v0 rows, one issue per row.
    assert report.repaired.get("slot_dropped", 0) == strict_report.filtered["overlap_v0"]
    assert len({i.line for i in report.issues if i.reason == "slot_dropped"}) == len(
        [i for i in report.issues if i.reason == "slot_dropped"]
    )
    # A French elision right before a slot stays one token ("d'" "amis"), as
    # MTOP's own tokens have it; split pairs would appear only outside slots.
    split = [
        e.id
        for e in examples
        for k in range(len(e.tokens) - 1)
        if e.tags[k] == e.tags[k + 1] == "O"
        and e.tokens[k + 1] in ("'", "\u2019")
        and e.tokens[k].lower() in ("l", "d", "j", "m", "s", "t", "qu")
    ]
    assert split == []


@pytest.mark.parametrize("language", MULTIATIS_LANGUAGES)
@pytest.mark.parametrize("split, column", [("train", 0), ("validation", 1), ("test", 2)])
def test_multiatis_counts(language, split, column):
    examples, report = load_split("multiatis", language, split, root=ROOT)
    mismatches = MULTIATIS_MISMATCHES.get((split, language), 0)
    assert report.rows_read == MULTIATIS_ROWS[language][column]
    assert report.skipped == ({"token_tag_count_mismatch": mismatches} if mismatches else {})
    assert len(examples) == report.rows_kept == report.rows_read - mismatches
    check_examples(examples)


@pytest.mark.parametrize("language", MAIN_MULTIATIS_LANGUAGES)
def test_multiatis_multi_intent_labels(language):
    examples, _ = load_split("multiatis", language, "train", root=ROOT)
    multi = [e for e in examples if "#" in e.intent]
    # README: 23-24 per main-language train split (kept rows can only be fewer).
    assert 22 <= len(multi) <= 24


def test_multiatis_hi_tr_have_fewer_intents():
    def intents(language):
        return {e.intent for e in load_split("multiatis", language, "train", root=ROOT)[0]}

    assert len(intents("hi")) < len(intents("en")) and len(intents("tr")) < len(intents("en"))


@pytest.mark.parametrize(
    "language, share",
    [("en", 0.998), ("de", 0.998), ("es", 0.998), ("fr", 0.998), ("hi", 0.998), ("th", 0.94)],
)
def test_tokenizer_reproduces_mtop_tokens(language, share):
    """The tokenizer used between slots of MTOP train agrees with MTOP's own
    tokens on >= 99.8% of eval utterances, Thai (segmented by ICU's
    dictionary) on >= 94% (docs/DATA.md)."""
    text = split_path(ROOT, "mtop", language, "validation").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.split("\n") if line]
    agree = collections.Counter(
        tokenize(r[3], language) == json.loads(r[7])["tokens"] for r in rows
    )
    assert agree[True] / len(rows) >= share
