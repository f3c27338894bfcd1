"""pqrnn.data.typos: seeded character edits for scoring unseen words."""

from __future__ import annotations

import random

import pytest

from pqrnn.data.example import Example
from pqrnn.data.typos import edit_token, with_typos


def _examples(n=200):
    words = ["vuelos", "de", "indícame", "查询", "एरलाइन्स", "p.", "a", "denver", "ソルト"]
    rng = random.Random(7)
    out = []
    for i in range(n):
        tokens = tuple(rng.choice(words) for _ in range(rng.randint(1, 8)))
        tags = tuple("B-x" if k == 0 else "I-x" for k in range(len(tokens)))
        out.append(Example(f"id{i}", "es" if i % 2 else "zh", tokens, tags, f"intent{i % 3}"))
    return out


def test_edits_delete_move_or_duplicate_one_character():
    rng = random.Random(0)
    for _ in range(2000):
        token = "".join(rng.choice("abcdé查") for _ in range(rng.randint(1, 6)))
        edited = edit_token(token, rng)
        assert edited and not any(c.isspace() for c in edited)
        if len(edited) == len(token):  # a move: the same characters, one moved
            assert sorted(edited) == sorted(token)
        elif len(edited) == len(token) + 1:  # a duplicate of one of its characters
            assert any(edited[:k] + edited[k + 1 :] == token for k in range(len(edited)))
        else:  # a deletion
            assert len(edited) == len(token) - 1 and len(token) > 1
            assert any(token[:k] + token[k + 1 :] == edited for k in range(len(token)))
    assert edit_token("a", random.Random(1)) == "aa"  # never deleted to nothing
    with pytest.raises(ValueError, match="empty"):
        edit_token("", random.Random(0))


def test_a_move_never_puts_the_character_back_where_it_was():
    rng = random.Random(3)
    for _ in range(500):
        token = "abcdef"[: rng.randint(2, 6)]  # distinct characters
        edited = edit_token(token, rng)
        if len(edited) == len(token):
            assert edited != token


def test_probability_zero_changes_nothing_and_one_edits_every_token():
    examples = _examples()
    same, report = with_typos(examples, 0.0)
    assert same == examples and report.tokens_edited == 0 and report.utterances_edited == 0
    edited, report = with_typos(examples, 1.0, seed=5)
    assert report.tokens == report.tokens_edited == sum(len(e.tokens) for e in examples)
    for before, after in zip(examples, edited, strict=True):
        assert (after.id, after.language, after.tags, after.intent) == (
            before.id,
            before.language,
            before.tags,
            before.intent,
        )
        assert len(after.tokens) == len(before.tokens)
        # Every token changed except a move between two equal characters.
        for a, b in zip(before.tokens, after.tokens, strict=True):
            assert a != b or len(set(a)) < len(a)


def test_the_rate_follows_the_probability():
    examples = _examples(2000)
    _, report = with_typos(examples, 0.3, seed=1)
    assert report.tokens > 8000
    assert 0.28 < report.tokens_edited / report.tokens < 0.32


def test_typos_are_seeded_per_utterance():
    examples = _examples()
    first, _ = with_typos(examples, 0.5, seed=2)
    again, _ = with_typos(examples, 0.5, seed=2)
    other, _ = with_typos(examples, 0.5, seed=3)
    assert first == again and first != other
    # An utterance gets the same typos alone, in another order or in a subset.
    alone = [with_typos([e], 0.5, seed=2)[0][0] for e in examples[::-1]]
    assert alone[::-1] == first
    # Its language is part of the seed: the same id in another language differs.
    twin = Example("id0", "de", examples[0].tokens, examples[0].tags, "intent0")
    streams = {with_typos([twin], 1.0, seed=s)[0][0].tokens for s in range(20)}
    mine = {with_typos([examples[0]], 1.0, seed=s)[0][0].tokens for s in range(20)}
    assert streams != mine


@pytest.mark.parametrize("probability", [-0.1, 1.5, float("nan")])
def test_a_probability_outside_zero_one_is_refused(probability):
    with pytest.raises(ValueError, match="must be in"):
        with_typos(_examples(3), probability)
