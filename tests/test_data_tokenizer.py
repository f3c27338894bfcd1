"""Tests of pqrnn.data.tokenizer and of token normalization for the projection op."""

import pytest

from pqrnn.data import Example, normalize_tokens, split_whitespace, tokenize
from pqrnn.data.tokenizer import WHITESPACE_CHARS

# Every Unicode White_Space code point (PropList.txt), as the op splits on.
UNICODE_WHITESPACE = (
    [chr(c) for c in range(0x09, 0x0E)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


def test_whitespace_set_is_unicode_white_space():
    assert sorted(WHITESPACE_CHARS) == sorted(UNICODE_WHITESPACE)
    # Python's str.split also splits on these; the op does not.
    for c in "\x1c\x1d\x1e\x1f\u200b":
        assert split_whitespace(f"a{c}b") == [f"a{c}b"]


@pytest.mark.parametrize("space", UNICODE_WHITESPACE)
def test_split_whitespace_each_code_point(space):
    assert split_whitespace(f"{space}a{space}{space}b{space}") == ["a", "b"]


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("Is it raining in Zürich?", None, ["Is", "it", "raining", "in", "Zürich", "?"]),
        ("call Anna's mom", None, ["call", "Anna", "'s", "mom"]),
        ("don't wake me at 6am", None, ["don't", "wake", "me", "at", "6", "am"]),
        ("at 6.00pm or 1,5 h", None, ["at", "6.00pm", "or", "1,5", "h"]),
        ("the U.S.A. at 7:30", None, ["the", "U.S.A", ".", "at", "7", ":", "30"]),
        (
            "Rappelle-moi l'heure d’arrivée",
            None,
            ["Rappelle", "-", "moi", "l'", "heure", "d’", "arrivée"],
        ),
        ("aujourd'hui", None, ["aujourd'hui"]),
        ("Recuérdame la videollamada", "es", ["Recuérda", "me", "la", "video", "llamada"]),
        ("Recuérdame", None, ["Recuérdame"]),
        ("call Anna 's mom", None, ["call", "Anna", "'", "s", "mom"]),
        ("the 80's", None, ["the", "80", "'", "s"]),
        ("क्या मौसम है?", None, ["क्या", "मौसम", "है", "?"]),
        # Rule 7: Thai words by ICU's dictionary, cut where the script changes.
        ("ตั้งนาฬิกาปลุกเวลา 7am", "th", ["ตั้ง", "นาฬิกา", "ปลุก", "เวลา", "7", "am"]),
        (
            "เปิดSpotify และเล่นเพลงของTaylor",
            "th",
            ["เปิด", "Spotify", "และ", "เล่น", "เพลง", "ของ", "Taylor"],
        ),
        ("iPhoneของฉันอยู่ไหน?", None, ["iPhone", "ของ", "ฉัน", "อยู่", "ไหน", "?"]),
        # MTOP keeps "น." (o'clock) joined to the next word, as rule 1 does.
        ("ตอน 17:00 น.ของวันเสาร์", "th", ["ตอน", "17", ":", "00", "น.ของ", "วัน", "เสาร์"]),
        ("แม่'s", "th", ["แม่", "'s"]),
        ("", None, []),
    ],
)
def test_tokenize(text, language, expected):
    assert tokenize(text, language) == expected


def test_tokenize_never_yields_whitespace_or_empty_tokens():
    text = "a\u00a0b\u3000c\td  e\u2028f\u205fg!?"
    tokens = tokenize(text)
    assert tokens == ["a", "b", "c", "d", "e", "f", "g", "!", "?"]


@pytest.mark.parametrize(
    "text",
    ["สวัสดีครับวันนี้อากาศดีมาก", "ดี\U0001d400ฉัน", "ก" * 500, "\u0e31\u0e48", "เปิดไฟ๚ๆ"],
)
def test_thai_segmentation_keeps_every_character(text):
    """ICU's boundaries come in UTF-16 units; the cut must not lose, double
    or split a character (also one outside the BMP, and combining marks
    with no base)."""
    from pqrnn.data.tokenizer import _thai_words

    words = _thai_words(text)
    assert "".join(words) == text and all(words)
    assert "".join(tokenize(text, "th")) == text


def test_thai_segmentation_is_thread_safe():
    """One BreakIterator per thread: concurrent calls give the serial result."""
    import concurrent.futures

    texts = [f"ตั้งนาฬิกาปลุกเวลา {i} โมงเช้าให้ฉันหน่อย" * (1 + i % 3) for i in range(64)]
    serial = [tokenize(t, "th") for t in texts]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda t: tokenize(t, "th"), texts)) == serial


def test_icu_version_is_reported():
    from pqrnn.data.tokenizer import icu_version

    major = icu_version().split(".")[0]
    assert major.isdigit() and int(major) >= 60


def test_without_pyicu_only_thai_needs_it(monkeypatch):
    import sys
    import threading

    from pqrnn.data import tokenizer

    monkeypatch.setitem(sys.modules, "icu", None)  # `import icu` raises ImportError
    monkeypatch.setattr(tokenizer, "_ICU", threading.local())  # no cached iterator
    assert tokenizer.icu_version() is None
    assert tokenize("set an alarm for 7am", "en") == ["set", "an", "alarm", "for", "7", "am"]
    with pytest.raises(ImportError, match="PyICU"):
        tokenize("ตั้งนาฬิกาปลุก", "th")


def test_normalize_splits_whitespace_and_continues_slots():
    tokens = ("fly", "to", "d.\u00a0c.", "at\u20039\u3000am")
    tags = ("O", "O", "B-city", "B-time")
    out_tokens, out_tags, changed = normalize_tokens(tokens, tags)
    assert changed
    assert out_tokens == ("fly", "to", "d.", "c.", "at", "9", "am")
    assert out_tags == ("O", "O", "B-city", "I-city", "B-time", "I-time", "I-time")


def test_normalize_drops_empty_tokens_and_keeps_slot_start():
    tokens = ("", "go", "\u00a0", "new", "york", " ")
    tags = ("O", "O", "B-city", "I-city", "I-city", "O")
    out_tokens, out_tags, changed = normalize_tokens(tokens, tags)
    assert changed
    assert out_tokens == ("go", "new", "york")
    assert out_tags == ("O", "B-city", "I-city")


def test_normalize_leaves_clean_tokens_alone():
    assert normalize_tokens(("a", "b"), ("O", "B-x")) == (("a", "b"), ("O", "B-x"), False)


@pytest.mark.parametrize("space", UNICODE_WHITESPACE)
def test_normalized_text_resplits_into_the_same_tokens(space):
    tokens, tags, _ = normalize_tokens((f"x{space}y", space, f"{space}z"), ("B-a", "O", "O"))
    example = Example("1", "en", tokens, tags, "i")
    assert tuple(split_whitespace(example.text)) == example.tokens == ("x", "y", "z")
    assert example.tags == ("B-a", "I-a", "O")


def test_example_rejects_tag_count_mismatch():
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        Example("e1", "en", ("a", "b"), ("O",), "i")
