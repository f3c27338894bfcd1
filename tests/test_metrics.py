"""Tests of pqrnn.metrics with hand-computed cases."""

import pytest

from pqrnn.data import Example
from pqrnn.metrics import (
    bio_spans,
    compare_hits,
    evaluate,
    format_table,
    is_exact_match,
    paired_bootstrap,
    prediction_rows,
    read_hits,
    score,
    slot_pairs,
)


@pytest.mark.parametrize(
    "tags, spans",
    [
        ([], []),
        (["O", "O"], []),
        (["B-A"], [("A", 0, 1)]),
        (["B-A", "I-A", "O"], [("A", 0, 2)]),
        # I- without a preceding B- starts a span (conlleval).
        (["I-A", "I-A"], [("A", 0, 2)]),
        (["O", "I-A", "O"], [("A", 1, 2)]),
        # A type switch I-A I-B ends A and starts B.
        (["I-A", "I-B"], [("A", 0, 1), ("B", 1, 2)]),
        (["B-A", "I-B", "I-B"], [("A", 0, 1), ("B", 1, 3)]),
        # B- after B- or I- of the same type starts a new span.
        (["B-A", "B-A", "I-A"], [("A", 0, 1), ("A", 1, 3)]),
        # A span running to the end is closed (trailing span).
        (["O", "B-A", "I-A"], [("A", 1, 3)]),
        # Tags that are not BIO count as O.
        (["B-A", "<unk>", "I-A", "B-"], [("A", 0, 1), ("A", 2, 3)]),
    ],
)
def test_bio_spans_conll_semantics(tags, spans):
    assert bio_spans(tags) == spans


def test_slot_pairs_is_a_multiset_of_type_and_text():
    tokens = ["call", "Ann", "and", "Ann", "Lee"]
    assert slot_pairs(tokens, ["O", "B-C", "O", "B-C", "I-C"]) == {
        ("C", "Ann"): 1,
        ("C", "Ann Lee"): 1,
    }
    assert slot_pairs(tokens[:4], ["O", "B-C", "O", "B-C"]) == {("C", "Ann"): 2}


def ex(id_, language, tokens, tags, intent):
    return Example(id_, language, tuple(tokens.split()), tuple(tags.split()), intent)


EXAMPLES = [
    ex("1", "en", "fly to new york", "O O B-city I-city", "flight"),
    ex("2", "en", "wake me at 7", "O B-who B-time I-time", "alarm"),
    ex("3", "de", "flug nach rom", "O O B-city", "flight"),
    ex("4", "de", "hallo", "O", "greet"),
]


def test_score_hand_computed():
    predictions = [
        # Intent right, slots exactly right: exact match.
        ("flight", "O O B-city I-city".split()),
        # Intent right; "who" right, "time" predicted as I-time I-time, which
        # conlleval reads as the same span (time, 2, 4): all correct.
        ("alarm", "O B-who I-time I-time".split()),
        # Intent wrong, slot right: not an exact match.
        ("alarm", "O O B-city".split()),
        # Intent right, one spurious slot.
        ("greet", ["B-x"]),
    ]
    m = score(predictions, EXAMPLES)
    assert m["num_examples"] == 4
    assert m["intent_accuracy"] == 3 / 4
    assert (m["num_gold_slots"], m["num_predicted_slots"], m["num_correct_slots"]) == (4, 5, 4)
    assert m["slot_precision"] == 4 / 5 and m["slot_recall"] == 1.0
    assert m["slot_f1"] == pytest.approx(2 * 0.8 * 1.0 / 1.8)
    assert m["exact_match"] == 2 / 4


def test_exact_match_compares_type_and_text_not_positions():
    reference = [ex("1", "en", "Ann or Ann", "B-c O O", "call")]
    # Same (type, text) pair at another position: spans differ, exact match holds.
    m = score([("call", ["O", "O", "B-c"])], reference)
    assert m["exact_match"] == 1.0 and m["slot_f1"] == 0.0
    # A duplicate slot is not an exact match (multiset).
    assert score([("call", ["B-c", "O", "B-c"])], reference)["exact_match"] == 0.0


def test_no_slots_anywhere_gives_zero_f1_like_conlleval():
    m = score([("greet", ["O"])], [EXAMPLES[3]])
    assert m["slot_f1"] == 0.0 and m["exact_match"] == 1.0


def test_evaluate_per_language_and_macro():
    predictions = [
        ("flight", "O O B-city I-city".split()),
        ("flight", "O O O O".split()),
        ("flight", "O O B-city".split()),
        ("greet", ["O"]),
    ]
    results = evaluate(predictions, EXAMPLES)
    assert list(results["per_language"]) == ["de", "en"]
    en, de = results["per_language"]["en"], results["per_language"]["de"]
    assert en["intent_accuracy"] == 0.5 and de["intent_accuracy"] == 1.0
    assert en["slot_precision"] == 1.0 and en["slot_recall"] == 1 / 3
    assert en["slot_f1"] == pytest.approx(0.5)
    assert de["slot_f1"] == 1.0 and de["exact_match"] == 1.0 and en["exact_match"] == 0.5
    macro = results["macro"]
    assert macro["intent_accuracy"] == 0.75
    assert macro["slot_f1"] == pytest.approx(0.75)
    assert macro["exact_match"] == 0.75
    assert macro["num_languages"] == 2 and macro["num_examples"] == 4
    table = format_table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["lang", "n", "intent_acc", "slot_f1", "exact_match"]
    assert lines[1].split() == ["de", "2", "100.00", "100.00", "100.00"]
    assert lines[2].split() == ["en", "2", "50.00", "50.00", "50.00"]
    assert lines[3].split() == ["avg", "4", "75.00", "75.00", "75.00"]


def test_length_errors_name_the_example():
    with pytest.raises(ValueError, match="example '1': 3 predicted tags for 4 tokens"):
        score([("flight", ["O"] * 3)], EXAMPLES[:1])
    with pytest.raises(ValueError, match="1 predictions for 2 examples"):
        evaluate([("flight", ["O"] * 4)], EXAMPLES[:2])


def test_metrics_do_not_import_keras():
    import subprocess
    import sys

    code = "import sys, pqrnn.metrics; sys.exit(any(m.startswith(('tensorflow', 'keras', 'tf_keras')) for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_paired_bootstrap_of_identical_systems_is_exactly_zero():
    hits = [True, False, True, True] * 50
    result = paired_bootstrap(hits, hits, ["en"] * 100 + ["de"] * 100, num_samples=500)
    assert result["delta"] == result["ci_low"] == result["ci_high"] == 0.0
    assert result["p_value"] == 1.0


def test_paired_bootstrap_macro_delta_and_a_clear_lead():
    # en: A right on 90 of 100, B on 60; de: both on the same 50 of 100.
    a = [True] * 90 + [False] * 10 + [True] * 50 + [False] * 50
    b = [True] * 60 + [False] * 40 + [True] * 50 + [False] * 50
    languages = ["en"] * 100 + ["de"] * 100
    result = paired_bootstrap(a, b, languages, num_samples=2000, seed=1)
    # Macro: (0.30 + 0.0) / 2; de never differs, so only en's half varies.
    assert result["delta"] == pytest.approx(0.15)
    assert 0.08 < result["ci_low"] < 0.15 < result["ci_high"] < 0.22
    assert result["p_value"] == pytest.approx(1 / 2000)  # no resample at or below 0
    again = paired_bootstrap(a, b, languages, num_samples=2000, seed=1)
    assert again == result
    # Swapping A and B mirrors the interval.
    swapped = paired_bootstrap(b, a, languages, num_samples=2000, seed=1)
    assert swapped["delta"] == pytest.approx(-0.15)
    assert swapped["ci_high"] < 0


def test_paired_bootstrap_of_a_small_difference_straddles_zero():
    # 2 utterances of 400 differ, one each way: no evidence either way.
    a = [True, False] + [True] * 398
    b = [False, True] + [True] * 398
    result = paired_bootstrap(a, b, ["en"] * 400, num_samples=2000)
    assert result["delta"] == 0.0
    assert result["ci_low"] < 0 < result["ci_high"]
    assert result["p_value"] > 0.5


@pytest.mark.parametrize(
    "a, b, languages",
    [([True], [True, False], ["en", "en"]), ([], [], []), ([True], [False], ["en", "de"])],
)
def test_paired_bootstrap_rejects_unpaired_inputs(a, b, languages):
    with pytest.raises(ValueError, match="equally long"):
        paired_bootstrap(a, b, languages)


def test_compare_hits_pairs_by_language_and_id():
    a = {("en", "1"): True, ("en", "2"): True, ("de", "1"): False}
    b = {("de", "1"): True, ("en", "2"): False, ("en", "1"): True}
    result = compare_hits(a, b, num_samples=100)
    assert result["per_language"] == {
        "de": {"num_examples": 1, "exact_match_a": 0.0, "exact_match_b": 1.0},
        "en": {"num_examples": 2, "exact_match_a": 1.0, "exact_match_b": 0.5},
    }
    assert result["delta"] == pytest.approx((-1.0 + 0.5) / 2)
    with pytest.raises(ValueError, match=r"1 only in A .*\('en', '3'\).*0 only in B"):
        compare_hits({**a, ("en", "3"): True}, b)


def test_is_exact_match_needs_intent_and_slots():
    example = Example(
        id="1", language="en", tokens=("call", "Ann"), tags=("O", "B-C"), intent="call"
    )
    assert is_exact_match("call", ("O", "B-C"), example)
    assert not is_exact_match("text", ("O", "B-C"), example)
    assert not is_exact_match("call", ("O", "O"), example)


def test_prediction_rows_write_and_read_back(tmp_path):
    from pqrnn import io_utils

    examples = [
        Example(id="1", language="en", tokens=("call", "Ann"), tags=("O", "B-C"), intent="call"),
        Example(id="1", language="de", tokens=("ruf", "Jörg"), tags=("O", "B-C"), intent="call"),
    ]
    rows = prediction_rows([("call", ("O", "B-C")), ("call", ("O", "O"))], examples)
    assert rows[0] == {
        "language": "en",
        "id": "1",
        "intent": "call",
        "tags": ["O", "B-C"],
        "exact_match": True,
    }
    assert rows[1]["exact_match"] is False
    path = tmp_path / "p.jsonl"
    io_utils.atomic_write_json_lines(path, rows)
    assert "Jörg" not in path.read_text(encoding="utf-8")  # tokens are not written
    assert path.read_text(encoding="utf-8").count("\n") == 2
    assert read_hits(str(path)) == {("en", "1"): True, ("de", "1"): False}
    with pytest.raises(ValueError):  # one prediction per example
        prediction_rows([("call", ("O", "B-C"))], examples)


def test_unseen_words_and_gap_by_group():
    from pqrnn.metrics import gap_by_group, unseen_words

    def e(i, lang, text):
        words = tuple(text.split())
        return Example(id=i, language=lang, tokens=words, tags=("O",) * len(words), intent="x")

    train = [e("t1", "en", "Flights to Boston"), e("t2", "de", "Flüge nach Berlin")]
    test = [
        e("1", "en", "flights to BOSTON"),  # lowercased: all seen
        e("2", "en", "flights to Denver"),
        e("3", "en", "to Boston"),
        e("4", "en", "Berlin"),  # seen in German only
        e("5", "de", "Flüge nach Berlin"),
        e("6", "de", "Flüge nach Köln"),
    ]
    words = unseen_words(train, test)
    assert words == {
        ("en", "1"): (),
        ("en", "2"): ("denver",),
        ("en", "3"): (),
        ("en", "4"): ("berlin",),
        ("de", "5"): (),
        ("de", "6"): ("köln",),
    }
    assert unseen_words(train, test, lowercase=False)[("en", "1")] == ("flights", "BOSTON")
    groups = {key: bool(w) for key, w in words.items()}
    reference = dict.fromkeys(groups, True)
    other = dict(reference) | {("en", "2"): False, ("de", "6"): False, ("en", "3"): False}
    result = gap_by_group(reference, other, groups)
    en, de = result["per_language"]["en"], result["per_language"]["de"]
    assert en["in_group"] == 2 and en["other"] == {"all": 50.0, "in": 50.0, "out": 50.0}
    assert de["other"] == {"all": 50.0, "in": 0.0, "out": 100.0}
    # en: -50 overall = 2/4 * -50 (unseen) + 2/4 * -50 (seen); de: -50 = 1/2 * -100 + 0.
    assert result["gap"] == pytest.approx(-50.0)
    assert result["gap_in"] == pytest.approx((-25.0 - 50.0) / 2)
    assert result["gap_out"] == pytest.approx((-25.0 + 0.0) / 2)
    assert result["gap_in"] + result["gap_out"] == pytest.approx(result["gap"])
    with pytest.raises(ValueError, match="same utterances"):
        gap_by_group(reference, {("en", "1"): True}, groups)
