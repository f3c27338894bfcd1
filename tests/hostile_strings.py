"""Hostile inputs for the projection op: the TF-vs-TFLite parity test and fuzzer seeds.

`HOSTILE_STRINGS` is a list of `(name, utf8_bytes)`; names are unique and
usable as test ids. Some entries are deliberately *invalid* UTF-8 (the op
must replace, never crash or over-read), so values are `bytes`, not `str`.
No TensorFlow import; building the list is cheap (the 1 MB entries are made
by repetition at import time).
"""

from __future__ import annotations

_ONE_MB = 1 << 20


def _u(text: str) -> bytes:
    return text.encode("utf-8")


def _repeat_to(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


_ZWJ_FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"

HOSTILE_STRINGS: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("only_spaces", b"     "),
    ("only_unicode_whitespace", _u("\t\n\r\x0b\x0c \u00a0\u3000\u2028\u2003\u0085")),
    ("whitespace_mix_between_words", _u("\thello\u00a0\u00a0world\n\u3000foo\r\nbar\u202f")),
    ("one_megabyte_words", _repeat_to(b"lorem ipsum dolor sit amet ", _ONE_MB)),
    ("one_megabyte_hindi", _repeat_to(_u("\u0928\u092e\u0938\u094d\u0924\u0947 "), _ONE_MB)),
    ("long_single_token_100kb", b"x" * 100_000),
    ("many_tiny_tokens", b"a " * 50_000),
    ("nul_bytes", b"a\x00b \x00 \x00\x00 c\x00"),
    ("lone_continuation_bytes", b"\x80 a\x80b \xbf\xbf"),
    ("truncated_sequences", b"caf\xc3 \xe2\x82 \xf0\x9f\x98 end\xe0\xa4"),
    ("truncated_at_end", b"hello \xf0\x9f"),
    ("ff_fe_bytes", b"\xff\xfe \xfe\xff x\xffy"),
    ("overlong_encodings", b"\xc0\x80 \xc1\xbf \xe0\x80\xaf \xf0\x80\x80\xaf \xf8\x88\x80\x80\x80"),
    ("lone_surrogates_cesu", b"\xed\xa0\x80 \xed\xbf\xbf \xed\xa0\xbd\xed\xb8\x80"),
    ("above_max_code_point", b"\xf4\x90\x80\x80 \xf5\x80\x80\x80"),
    ("truncated_whitespace_lead", b"a\xe2\x80 b\xe3\x80 c\xc2"),
    (
        "zalgo_combining_marks",
        _u(
            "Z"
            + "\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324" * 20
            + " a\u0301\u0301"
        ),
    ),
    (
        "rtl_with_controls",
        _u(
            "\u202e\u05e9\u05dc\u05d5\u05dd\u202c \u202d\u0645\u0631\u062d\u0628\u0627\u202c \u200f!\u200e"
        ),
    ),
    (
        "zwj_emoji_family",
        _u(f"{_ZWJ_FAMILY} {_ZWJ_FAMILY}{_ZWJ_FAMILY} \U0001f44d\U0001f3fd \U0001f1e9\U0001f1ea"),
    ),
    ("byte_order_marks", _u("\ufeffhello \ufeff \ufeffworld\ufeff")),
    ("zero_width_characters", _u("a\u200bb \u200c \u200d \u2060x")),
    (
        "mixed_scripts",
        _u(
            "Hello \u0928\u092e\u0938\u094d\u0924\u0947 \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35 \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627"
        ),
    ),
    (
        "case_edge_cases",
        _u("\u0130STANBUL \u03a3\u039f\u03a6\u0399\u0391\u03a3 STRASSE \u1e9e \u212a \u01c5"),
    ),
    ("private_use_and_noncharacters", _u("\ue000 \U000f0000 \ufffe \uffff \U0010ffff")),
    ("control_characters", bytes(range(1, 32)) + b" \x7f"),
    ("literal_special_tokens", b"<BOS> <EOS> <null> <bos>"),
    ("replacement_character_literal", _u("\ufffd \ufffd\ufffd")),
]

assert len({name for name, _ in HOSTILE_STRINGS}) == len(HOSTILE_STRINGS)
