"""Tests of the MultiATIS++, MTOP and user-TSV readers on hand-written fixtures."""

import json
import logging
import pathlib

import pytest

from pqrnn.data import (
    DataFormatError,
    Example,
    ReadReport,
    parse_flat,
    read_mtop,
    read_mtop_train_flat,
    read_multiatis,
    read_tsv,
    split_whitespace,
    write_tsv,
)
from pqrnn.data.mtop import FlatParseError, align_flat_slots

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
MTOP_FLAT_HEADER = "line\tid\tv2_status\toverlap_v0\tutterance\tflat\tdecoupled\tdomain\tlocale"


def check_report(report: ReadReport, examples: list[Example]) -> None:
    """Invariants every reader must keep."""
    assert report.rows_kept == len(examples)
    assert report.rows_read == (
        report.rows_kept + sum(report.filtered.values()) + sum(report.skipped.values())
    )
    for e in examples:
        assert tuple(split_whitespace(e.text)) == e.tokens
        assert len(e.tokens) == len(e.tags) > 0


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# --- MultiATIS++ ---------------------------------------------------------------


def test_multiatis_fixture(caplog):
    path = FIXTURES / "multiatis" / "train_EN.tsv"
    with caplog.at_level(logging.WARNING):
        examples, report = read_multiatis(path)
    check_report(report, examples)
    assert report.rows_read == 7 and report.rows_kept == 5
    assert report.skipped == {"token_tag_count_mismatch": 1, "bad_tag": 1}
    assert report.normalized == {"whitespace_in_token": 1}
    assert [e.id for e in examples] == ["1", "2", "3", "4", "7"]
    assert {e.language for e in examples} == {"en"}
    # Multi-intent labels stay one label.
    assert examples[2].intent == "atis_flight#atis_airfare"
    # "d.\u00a0c." is split for the projection op; the slot continues.
    assert examples[3].tokens[-2:] == ("d.", "c.")
    assert examples[3].tags[-3:] == ("B-toloc.city_name", "I-toloc.city_name", "I-toloc.city_name")
    # An I- tag without B- is kept as written (metrics read it as a span start).
    assert examples[4].tags[0] == "I-fromloc.city_name"
    # One warning per skipped row, naming file:line.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"{path}:6:" in m and "4 space-separated tokens but" in m for m in warnings)
    assert any(f"{path}:7:" in m and "'X-city_name'" in m for m in warnings)
    assert [(i.line, i.reason) for i in report.issues if i.kind == "skipped"] == [
        (6, "token_tag_count_mismatch"),
        (7, "bad_tag"),
    ]


@pytest.mark.parametrize("utterance, tags", [("", ""), (" \u00a0", "O"), ("", "O O")])
def test_blank_utterance_is_empty_utterance_not_a_tag_fault(tmp_path, utterance, tags):
    """A row with no token is reported as such, in both tab-separated readers,
    not as a bad tag or a count mismatch of the tags against nothing."""
    path = write(
        tmp_path / "train_EN.tsv",
        f"id\tutterance\tslot_labels\tintent\n1\t{utterance}\t{tags}\tx\n",
    )
    assert read_multiatis(path)[1].skipped == {"empty_utterance": 1}
    path = write(tmp_path / "mine.tsv", f"tokens\ttags\tintent\n{utterance}\t{tags}\tx\n")
    assert read_tsv(path)[1].skipped == {"empty_utterance": 1}


def test_multiatis_strict_raises_with_file_and_line():
    path = FIXTURES / "multiatis" / "train_EN.tsv"
    with pytest.raises(DataFormatError, match=r"train_EN\.tsv:6: utterance has 4 .* 3 tags") as e:
        read_multiatis(path, strict=True)
    assert e.value.line == 6 and e.value.path == str(path)


def test_multiatis_strict_accepts_clean_file():
    examples, report = read_multiatis(FIXTURES / "multiatis" / "dev_EN.tsv", strict=True)
    assert len(examples) == 2 and not report.skipped


def test_multiatis_bad_rows(tmp_path):
    rows = [
        "id\tutterance\tslot_labels\tintent",
        "1\tgood row\tO O\tatis_flight",
        "2\ttoo few columns\tO O O",
        "3\tno intent\tO O\t",
        "4\t\u00a0\tO\tatis_flight",
    ]
    path = write(
        tmp_path / "x_DE.tsv", "\n".join(rows).encode() + b"\n5\tbad \xff utf8\tO O O\ta\n"
    )
    examples, report = read_multiatis(path)
    check_report(report, examples)
    assert [e.language for e in examples] == ["de"]
    assert report.skipped == {
        "column_count": 1,
        "empty_intent": 1,
        "empty_utterance": 1,
        "invalid_utf8": 1,
    }


def test_multiatis_repeated_ids_are_made_unique(tmp_path):
    # MultiATIS++ HI lists alternative translations under one id.
    rows = [
        "id\tutterance\tslot_labels\tintent",
        "4\tfare boston\tO B-city\tatis_airfare",
        "4\tfares boston\tO B-city\tatis_airfare",
        "5\tflights\tO\tatis_flight",
        "4\tprice boston\tO B-city\tatis_airfare",
    ]
    examples, report = read_multiatis(write(tmp_path / "train_HI.tsv", "\n".join(rows) + "\n"))
    check_report(report, examples)
    assert [e.id for e in examples] == ["4", "4@3", "5", "4@5"]
    assert report.normalized == {"duplicate_id": 2}


def test_multiatis_header_error_in_both_modes(tmp_path):
    path = write(tmp_path / "train_EN.tsv", "utterance\tid\tslot_labels\tintent\n")
    for strict in (False, True):
        with pytest.raises(DataFormatError, match=r"train_EN\.tsv:1: expected the header"):
            read_multiatis(path, strict=strict)
    with pytest.raises(DataFormatError, match="empty file"):
        read_multiatis(write(tmp_path / "empty_EN.tsv", ""))


def test_multiatis_language_from_name_or_argument(tmp_path):
    path = write(tmp_path / "atis.tsv", "id\tutterance\tslot_labels\tintent\n1\thi\tO\tgreet\n")
    with pytest.raises(ValueError, match="pass language="):
        read_multiatis(path)
    examples, _ = read_multiatis(path, language="pt")
    assert examples[0].language == "pt"


# --- MTOP v2 eval/test -------------------------------------------------------------


def test_mtop_fixture():
    examples, report = read_mtop(FIXTURES / "mtop" / "en" / "eval.txt")
    check_report(report, examples)
    # The file has no final newline: all 6 rows are read.
    assert report.rows_read == 6 and report.rows_kept == 6
    assert report.normalized == {"slot_partial_token": 1, "whitespace_in_token": 1}
    by_id = {e.id: e for e in examples}
    e = by_id["100001"]
    assert (e.language, e.intent) == ("en", "IN:CREATE_ALARM")
    assert e.tags == ("O", "O", "O", "B-DATE_TIME", "I-DATE_TIME", "I-DATE_TIME", "I-DATE_TIME")
    # Byte offsets: "Zürich" is 7 bytes.
    assert by_id["100002"].tags == ("O", "O", "B-WEATHER_ATTRIBUTE", "O", "B-LOCATION", "O")
    assert by_id["100003"].tags == (
        "O",
        "B-RECIPIENT",
        "O",
        "B-RECIPIENT",
        "B-CONTENT_EXACT",
        "I-CONTENT_EXACT",
    )
    # A slot covering part of a token tags the whole token.
    assert by_id["100004"].tags == ("O", "B-MUSIC_GENRE", "O")
    # A token holding U+00A0 is split; the slot continues.
    assert by_id["100005"].tokens == ("concerts", "near", "10", "Main", "St")
    assert by_id["100005"].tags == ("O", "O", "B-LOCATION", "I-LOCATION", "I-LOCATION")
    assert by_id["100006"].tags == ("O",) * 4


def mtop_row(
    slot_string="5:9:SL:CONTACT",
    utterance="call Anna",
    locale="en_XX",
    tokens_json=None,
):
    if tokens_json is None:
        tokens_json = json.dumps(
            {
                "tokens": ["call", "Anna"],
                "tokenSpans": [{"start": 0, "length": 4}, {"start": 5, "length": 4}],
            }
        )
    return "\t".join(
        [
            "7",
            "IN:CREATE_CALL",
            slot_string,
            utterance,
            "calling",
            locale,
            "[IN:CREATE_CALL ]",
            tokens_json,
        ]
    )


@pytest.mark.parametrize(
    "row, reason, message",
    [
        (mtop_row(tokens_json="{not json"), "bad_tokens_json", "expected tokens_json"),
        (mtop_row(tokens_json='{"tokens": ["call"]}'), "bad_tokens_json", "tokenSpans"),
        (
            mtop_row(
                tokens_json='{"tokens":["call","Anne"],"tokenSpans":[{"start":0,"length":4},{"start":5,"length":4}]}'
            ),
            "token_span_mismatch",
            "token 1 'Anne'",
        ),
        (mtop_row(slot_string="5:99:SL:CONTACT"), "bad_slot_offsets", "0 <= start < end <= 9"),
        (mtop_row(slot_string="five:9:SL:CONTACT"), "bad_slot_string", "start:end:SL:NAME"),
        (mtop_row(locale="de_XX"), "locale_mismatch", "locale 'de_XX'"),
        ("1\t2\t3", "column_count", "expected 8 tab-separated columns"),
    ],
)
def test_mtop_faulty_rows(tmp_path, row, reason, message):
    path = write(tmp_path / "en" / "eval.txt", mtop_row() + "\n" + row)
    examples, report = read_mtop(path)
    check_report(report, examples)
    assert report.rows_kept == 1 and report.skipped == {reason: 1}
    assert message in report.issues[0].message and report.issues[0].line == 2
    with pytest.raises(DataFormatError, match=rf"eval\.txt:2: .*{message[:10]}"):
        read_mtop(path, strict=True)


def test_mtop_overlapping_slot_is_repaired(tmp_path):
    path = write(tmp_path / "en" / "test.txt", mtop_row(slot_string="0:9:SL:TODO,5:9:SL:CONTACT"))
    examples, report = read_mtop(path)
    assert examples[0].tags == ("B-TODO", "I-TODO")
    assert report.repaired == {"slot_dropped": 1}
    with pytest.raises(DataFormatError, match=r"test\.txt:1: slot CONTACT .* overlaps"):
        read_mtop(path, strict=True)


def test_mtop_language_from_folder_or_argument(tmp_path):
    path = write(tmp_path / "some_folder" / "eval.txt", mtop_row())
    with pytest.raises(ValueError, match="pass language="):
        read_mtop(path)
    examples, _ = read_mtop(path, language="en")
    assert examples[0].language == "en"


# --- MTOP flat train -----------------------------------------------------------------


def test_mtop_flat_fixture_default_keeps_overlap_rows(caplog):
    path = FIXTURES / "mtop_train_flat" / "en" / "train.tsv"
    with caplog.at_level(logging.WARNING):
        examples, report = read_mtop_train_flat(path)
    check_report(report, examples)
    assert report.rows_read == 6 and report.rows_kept == 5
    assert report.filtered == {"not_in_v2": 1}
    assert report.repaired == {"slot_dropped": 1}
    assert any(f"{path}:6:" in r.getMessage() for r in caplog.records)
    by_id = {e.id: e for e in examples}
    e = by_id["200001"]
    # Slot tokens come from the flat ("Dana 's", "5 pm"), the rest from tokenize().
    assert e.tokens == ("Remind", "me", "to", "call", "Dana", "'s", "office", "at", "5", "pm")
    assert e.tags == (
        "O",
        "B-PERSON_REMINDED",
        "O",
        "B-TODO",
        "I-TODO",
        "I-TODO",
        "I-TODO",
        "B-DATE_TIME",
        "I-DATE_TIME",
        "I-DATE_TIME",
    )
    assert e.intent == "IN:CREATE_REMINDER"
    assert by_id["200002"].tokens == ("What", "'s", "the", "weather", "in", "Oslo", "?")
    # No MTOP id: the id is made from the line column. The slots are out of
    # order and "my" occurs twice: the aligner finds the only consistent placement.
    e = by_id["train:3"]
    assert e.tags[:7] == ("O", "B-TODO", "I-TODO", "O", "O", "B-PERSON_REMINDED", "O")
    # overlap_v0 row: the second "timers" slot could not be placed.
    assert by_id["200005"].tags == (
        "O",
        "O",
        "B-METHOD_TIMER",
        "B-DATE_TIME",
        "I-DATE_TIME",
        "I-DATE_TIME",
    )
    assert by_id["200006"].tags == ("O",) * 5


def test_mtop_flat_drop_overlap_and_strict():
    path = FIXTURES / "mtop_train_flat" / "en" / "train.tsv"
    with pytest.raises(DataFormatError, match=r"train\.tsv:6: slot METHOD_TIMER 'timers' overlaps"):
        read_mtop_train_flat(path, strict=True)
    examples, report = read_mtop_train_flat(path, drop_overlap=True, strict=True)
    check_report(report, examples)
    assert report.rows_kept == 4
    assert report.filtered == {"not_in_v2": 1, "overlap_v0": 1}
    assert not report.repaired and not report.skipped


def test_mtop_flat_language_from_folder_and_unspaced_script():
    examples, _ = read_mtop_train_flat(FIXTURES / "mtop_train_flat" / "th" / "train.tsv")
    assert examples[0].language == "th"
    # The slot's tokens are MTOP's; the words before it are ICU's.
    assert examples[0].tokens == ("ตั้ง", "นาฬิกา", "ปลุก", "ตอน", "เจ็ด", "โมง")
    assert examples[0].tags == ("O", "O", "O", "B-DATE_TIME", "I-DATE_TIME", "I-DATE_TIME")


def flat_row(utterance, flat, status="in_v2", overlap="0", locale="en_XX"):
    return "\t".join(["9", "1", status, overlap, utterance, flat, flat, "misc", locale])


@pytest.mark.parametrize(
    "row, reason",
    [
        (flat_row("play jazz", "[IN:PLAY_MUSIC [SL:GENRE jazz ]"), "bad_flat"),
        (
            flat_row("play jazz", "[IN:PLAY_MUSIC [SL:GENRE jazz ] ]", status="maybe"),
            "bad_v2_status",
        ),
        (flat_row("play jazz", "[IN:PLAY_MUSIC ]", overlap="2"), "bad_overlap_v0"),
        (flat_row("play jazz", "[IN:PLAY_MUSIC ]", locale="fr_XX"), "locale_mismatch"),
        ("1\t2", "column_count"),
    ],
)
def test_mtop_flat_faulty_rows(tmp_path, row, reason):
    path = write(tmp_path / "en" / "train.tsv", MTOP_FLAT_HEADER + "\n" + row + "\n")
    examples, report = read_mtop_train_flat(path)
    check_report(report, examples)
    assert report.skipped == {reason: 1} and report.issues[0].line == 2
    with pytest.raises(DataFormatError, match=r"train\.tsv:2: "):
        read_mtop_train_flat(path, strict=True)


def test_mtop_flat_slot_not_found_is_repaired(tmp_path):
    path = write(
        tmp_path / "en" / "train.tsv",
        MTOP_FLAT_HEADER + "\n" + flat_row("play jazz", "[IN:PLAY_MUSIC [SL:GENRE rock ] ]") + "\n",
    )
    examples, report = read_mtop_train_flat(path)
    assert examples[0].tags == ("O", "O") and report.repaired == {"slot_dropped": 1}
    assert "'rock' not found in the utterance" in report.issues[0].message


def test_mtop_flat_header_error(tmp_path):
    path = write(tmp_path / "en" / "train.tsv", "id\tutterance\n")
    with pytest.raises(DataFormatError, match=r"train\.tsv:1: expected the header 'line\\tid"):
        read_mtop_train_flat(path)


def test_parse_flat():
    assert parse_flat("[IN:A [SL:B x y ] [SL:C z ] ]") == (
        "IN:A",
        [("B", ["x", "y"]), ("C", ["z"])],
    )
    assert parse_flat("[IN:A ]") == ("IN:A", [])
    for bad in (
        "IN:A ]",
        "[IN:A [SL:B x [SL:C y ] ] ]",
        "[IN:A x ]",
        "[IN:A [SL:B x ]",
        "[IN:A ] ]",
        "",
    ):
        with pytest.raises(FlatParseError):
            parse_flat(bad)


def test_possessive_cut_by_a_slot_stays_one_token():
    from pqrnn.data.mtop import tokens_and_tags_from_flat

    utterance, slots = "call Anna's mom", [("CONTACT", ["Anna"])]
    spans, _ = align_flat_slots(utterance, slots)
    assert tokens_and_tags_from_flat(utterance, slots, spans, "en") == (
        ["call", "Anna", "'s", "mom"],
        ["O", "B-CONTACT", "O", "O"],
    )


@pytest.mark.parametrize(
    "utterance, language, slot, expected, at",
    [
        # Whole words first: not the "i" of "did" or the "me" of "message".
        ("did i set it", "en", ["i"], ["did", "i", "set", "it"], 1),
        ("has Anna messaged me ?", "en", ["me"], ["has", "Anna", "messaged", "me", "?"], 3),
        ("Benachrichtige Ben", "de", ["Ben"], ["Benachrichtige", "Ben"], 1),
        ("Elimina mi recordatorio", "es", ["mi"], ["Elimina", "mi", "recordatorio"], 1),
        # A token boundary of the tokenizer counts as one: "Recuérda" "me".
        ("Recuérdame que me una", "es", ["me"], ["Recuérda", "me", "que", "me", "una"], 1),
        # Inside a word only when there is nothing else.
        ("remindme please", "en", ["me"], ["remind", "me", "please"], 1),
        # Thai words between slots come from ICU (tokenizer rule 7).
        ("ตั้งปลุกพรุ่งนี้", "th", ["พรุ่งนี้"], ["ตั้ง", "ปลุก", "พรุ่งนี้"], 2),
    ],
)
def test_align_flat_slots_prefers_whole_words(utterance, language, slot, expected, at):
    from pqrnn.data.mtop import tokens_and_tags_from_flat

    slots = [("X", slot)]
    spans, problems = align_flat_slots(utterance, slots, language)
    tokens, tags = tokens_and_tags_from_flat(utterance, slots, spans, language)
    assert problems == [] and tokens == expected
    assert tags == ["O"] * at + ["B-X"] + ["O"] * (len(expected) - at - 1)


@pytest.mark.parametrize("apostrophe", ["'", "\u2019"])
def test_french_elision_before_a_slot_stays_one_token(apostrophe):
    from pqrnn.data.mtop import tokens_and_tags_from_flat

    utterance = f"envoie au groupe d{apostrophe}amis et qu{apostrophe}il"
    slots = [("GROUP", ["amis"]), ("X", ["il"])]
    spans, _ = align_flat_slots(utterance, slots, "fr")
    # As MTOP (and tokenize) split "d'amis" without a slot boundary there.
    assert tokens_and_tags_from_flat(utterance, slots, spans, "fr") == (
        ["envoie", "au", "groupe", f"d{apostrophe}", "amis", "et", f"qu{apostrophe}", "il"],
        ["O", "O", "O", "O", "B-GROUP", "O", "O", "B-X"],
    )
    # Not an elision: "grand'" before a slot stays split as tokenize splits it.
    spans, _ = align_flat_slots("la grand'mère", [("X", ["mère"])], "fr")
    assert tokens_and_tags_from_flat("la grand'mère", [("X", ["mère"])], spans, "fr")[0] == [
        "la",
        "grand",
        "'",
        "mère",
    ]


def test_align_flat_slots_matches_across_missing_whitespace():
    spans, problems = align_flat_slots("at 21:30, ok", [("TIME", ["21", ":", "30"])])
    assert spans == [(3, 8)] and problems == []


# --- user TSV -------------------------------------------------------------------


def test_user_tsv_fixture_and_round_trip(tmp_path):
    examples, report = read_tsv(FIXTURES / "user" / "intents.tsv", strict=True)
    check_report(report, examples)
    assert [(e.id, e.language, e.intent) for e in examples] == [
        ("a1", "en", "set_alarm"),
        ("a2", "en", "device_off"),
        ("a3", "de", "set_alarm"),
        ("a4", "de", "device_off"),
    ]
    assert examples[0].tags == ("O", "O", "B-time", "I-time", "I-time")
    out = tmp_path / "out.tsv"
    assert write_tsv(out, examples) == 4
    assert read_tsv(out, strict=True)[0] == examples


def test_user_tsv_optional_columns_and_faults(tmp_path):
    path = write(
        tmp_path / "mine.tsv",
        "intent\ttags\ttokens\textra\n"
        "greet\tO\thello\tx\n"
        "greet\tO O\thello\tx\n"
        "greet\tO\thello\n"
        "\tO\thello\tx\n"
        "greet\tB-\thello\tx\n",
    )
    examples, report = read_tsv(path, language="fr")
    check_report(report, examples)
    assert examples == [Example("mine.tsv:2", "fr", ("hello",), ("O",), "greet")]
    assert report.skipped == {
        "token_tag_count_mismatch": 1,
        "column_count": 1,
        "empty_intent": 1,
        "bad_tag": 1,
    }
    assert read_tsv(path)[0][0].language == "und"
    # Language codes are lowercase, as the other readers' ("EN" is "en");
    # a whitespace-only intent is no intent.
    lang_path = write(
        tmp_path / "lang.tsv", "tokens\ttags\tintent\tlanguage\nhi\tO\tgreet\t EN\nhi\tO\t \ten\n"
    )
    examples, report = read_tsv(lang_path)
    assert [e.language for e in examples] == ["en"] and report.skipped == {"empty_intent": 1}
    with pytest.raises(DataFormatError, match=r"mine\.tsv:3: 1 space-separated tokens but 2 tags"):
        read_tsv(path, strict=True)


def test_user_tsv_header_errors(tmp_path):
    with pytest.raises(DataFormatError, match=r"a\.tsv:1: expected a header naming"):
        read_tsv(write(tmp_path / "a.tsv", "tokens\ttags\nhi\tO\n"))
    with pytest.raises(DataFormatError, match=r"b\.tsv:1: expected a header naming"):
        read_tsv(write(tmp_path / "b.tsv", "tokens\ttags\tintent\ttags\n"))


def test_write_tsv_rejects_unwritable_fields(tmp_path):
    with pytest.raises(ValueError, match="tab or newline"):
        write_tsv(tmp_path / "x.tsv", [Example("1", "en", ("a",), ("O",), "in\ttent")])
    with pytest.raises(ValueError, match="whitespace"):
        write_tsv(tmp_path / "x.tsv", [Example("1", "en", ("a b",), ("O",), "i")])


def test_reports_combine_and_summarize():
    _, a = read_multiatis(FIXTURES / "multiatis" / "train_EN.tsv")
    _, b = read_mtop_train_flat(FIXTURES / "mtop_train_flat" / "en" / "train.tsv")
    total = ReadReport.combine([a, b])
    assert total.rows_read == 13 and total.rows_kept == 10
    assert total.skipped["bad_tag"] == 1 and total.filtered["not_in_v2"] == 1
    assert len(total.issues) == len(a.issues) + len(b.issues)
    summary = a.summary()
    assert "read 7; kept 5; skipped 2 (bad_tag 1, token_tag_count_mismatch 1)" in summary
    assert str(a.issues[0]).startswith(f"{FIXTURES / 'multiatis' / 'train_EN.tsv'}:")
