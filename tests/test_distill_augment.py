"""Augmentation: each method, validity of the tags, determinism, the amount."""

import collections

import pytest

from pqrnn.data.example import Example, is_valid_tag
from pqrnn.distill.augment import METHODS, AugmentConfig, Augmenter, augment, repair_bio
from pqrnn.metrics import bio_spans

TRAIN = [
    Example(
        "1", "en", ("flights", "to", "boston", "tomorrow"), ("O", "O", "B-city", "B-date"), "flight"
    ),
    Example("2", "en", ("fly", "to", "new", "york"), ("O", "O", "B-city", "I-city"), "flight"),
    Example(
        "1", "de", ("flüge", "nach", "boston", "morgen"), ("O", "O", "B-city", "B-date"), "flight"
    ),
    Example("2", "de", ("flug", "nach", "new", "york"), ("O", "O", "B-city", "I-city"), "other"),
]


def only(method, examples=TRAIN, amount=4.0, **kwargs):
    return augment(examples, AugmentConfig(amount=amount, methods=(method,), seed=3, **kwargs))


def check_valid(augmented):
    for a in augmented:
        e = a.example
        assert len(e.tokens) == len(e.tags) > 0
        assert all(is_valid_tag(t) for t in e.tags)
        assert repair_bio(e.tags) == e.tags, e
        assert e.intent == a.source.intent and e.language == a.source.language
        assert (e.tokens, e.tags) != (a.source.tokens, a.source.tags)


def test_substitute_uses_values_of_the_same_slot_type_and_language():
    out = only("substitute")
    check_valid(out)
    assert out
    values = {("en", "city"): {("boston",), ("new", "york")}, ("en", "date"): {("tomorrow",)}}
    values |= {("de", "city"): {("boston",), ("new", "york")}, ("de", "date"): {("morgen",)}}
    for a in out:
        for kind, start, end in bio_spans(a.example.tags):
            assert a.example.tokens[start:end] in values[a.example.language, kind]


def test_dropout_and_swap():
    dropped = only("dropout", dropout_rate=0.3)
    assert dropped
    check_valid(dropped)
    assert all(len(a.example.tokens) < len(a.source.tokens) for a in dropped)
    swapped = only("swap")
    assert swapped
    check_valid(swapped)
    for a in swapped:
        assert sorted(a.example.tokens) == sorted(a.source.tokens)
        # Slots move whole: the same (type, text) pairs as the source.
        spans = lambda e: sorted((k, e.tokens[s:t]) for k, s, t in bio_spans(e.tags))  # noqa: E731
        assert spans(a.example) == spans(a.source)


def test_code_switch_takes_the_same_slot_from_a_translation():
    out = only("code_switch")
    check_valid(out)
    # Only id "1" has a translation with the same intent; "boston" is the same
    # in both, so only the date can switch.
    assert {a.example.tokens for a in out} == {
        ("flights", "to", "boston", "morgen"),
        ("flüge", "nach", "boston", "tomorrow"),
    }
    assert all(a.source.id == "1" for a in out)


def test_deterministic_amount_and_unique_ids():
    config = AugmentConfig(amount=2.5, seed=7)
    first, second = augment(TRAIN, config), augment(TRAIN, config)
    assert [a.example for a in first] == [a.example for a in second]
    assert len(first) == 10
    assert len({(a.example.language, a.example.id) for a in first}) == len(first)
    other = augment(TRAIN, AugmentConfig(amount=2.5, seed=8))
    assert [a.example for a in other] != [a.example for a in first]
    assert augment(TRAIN, AugmentConfig(amount=0)) == []
    assert set(collections.Counter(a.method for a in first)) <= set(METHODS)


def test_an_unchangeable_example_is_skipped():
    single = [Example("x", "en", ("hi",), ("O",), "greet")]
    assert Augmenter(single, AugmentConfig(amount=3)).augment() == []


def test_config_is_checked():
    with pytest.raises(ValueError, match="methods"):
        AugmentConfig(methods=("paraphrase",))
    with pytest.raises(ValueError, match="amount"):
        AugmentConfig(amount=-1)


def kept_slots(a):
    """The source's slots that survive in the augmented utterance, in order:
    the tokens of each source slot that were kept, as (type, tokens)."""
    return [(k, a.example.tokens[s:t]) for k, s, t in bio_spans(a.example.tags)]


def test_dropout_keeps_adjacent_slots_of_one_type_apart():
    # Dropping the token between two "city" slots must not merge them into one.
    source = Example(
        "9",
        "en",
        ("from", "new", "york", "to", "boston", "city"),
        ("O", "B-city", "I-city", "O", "B-city", "I-city"),
        "flight",
    )
    out = only("dropout", [source], amount=30.0, dropout_rate=0.4)
    check_valid(out)
    merged = [a for a in out if "to" not in a.example.tokens and len(a.example.tokens) >= 4]
    assert merged, "no draw dropped only the separator; change the seed or amount"
    for a in out:
        source_slots = [("city", ("new", "york")), ("city", ("boston", "city"))]
        kept = [
            (k, tuple(t for t in tokens if t in a.example.tokens)) for k, tokens in source_slots
        ]
        assert kept_slots(a) == [(k, t) for k, t in kept if t], a.example


def test_swap_keeps_slots_whole_when_the_source_starts_a_slot_with_i():
    # conlleval reads a leading "I-" as a slot start; after the swap the slot
    # must still start with "B-", or it would merge with a neighbour.
    source = Example("8", "en", ("boston", "denver", "fly"), ("I-city", "B-city", "O"), "flight")
    out = only("swap", [source], amount=4.0)
    assert out
    check_valid(out)
    for a in out:
        assert sorted(kept_slots(a)) == [("city", ("boston",)), ("city", ("denver",))]
