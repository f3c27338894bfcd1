"""Joining teacher logits to the training set, and the batches the student sees."""

import dataclasses
import os

import numpy as np
import pytest

import pqrnn  # noqa: F401
from pqrnn.configs import distill as distill_config
from pqrnn.data.example import Example
from pqrnn.data.pipeline import make_token_dataset
from pqrnn.data.vocab import LabelVocabs
from pqrnn.distill import logits_io, student
from pqrnn.distill.losses import TEACHER_INTENT, TEACHER_SLOTS
from pqrnn.distill.transfer_set import load_transfer_set, scale_logits

TRAIN = [
    Example("1", "en", ("call", "bob"), ("O", "B-contact"), "call"),
    Example("1", "de", ("ruf", "bob", "an"), ("O", "B-contact", "O"), "call"),
    Example("2", "en", ("play", "jazz", "now"), ("O", "B-genre", "O"), "play"),
]
VOCABS = LabelVocabs.build(TRAIN)


def teacher_rows(example, offset=0.0):
    """Distinct, recognisable logits: row i of token i is i + offset in every column."""
    intent = np.full(VOCABS.intents.size, offset, np.float32)
    slots = np.repeat(
        np.arange(len(example.tokens), dtype=np.float32)[:, None] + offset + 1, VOCABS.tags.size, 1
    )
    return intent, slots


def write(path, examples, labels=True, offsets=None, teacher="", metadata=None):
    with logits_io.LogitsWriter(
        path, VOCABS.intents.labels, VOCABS.tags.labels, teacher=teacher, metadata=metadata
    ) as writer:
        for i, example in enumerate(examples):
            offset = 0.0 if offsets is None else offsets[i]
            writer.write_example(example, *teacher_rows(example, offset), with_labels=labels)
    return path


def config_for(tmp_path, **distill):
    config = distill_config.get_config("smoke")
    config.distill.teacher_logits = write(str(tmp_path / "train.tfrecord"), TRAIN)
    config.distill.augmented_logits = ""
    config.distill.update(distill)
    return config


def test_rows_are_aligned_with_bos_and_eos(tmp_path):
    config = config_for(tmp_path)
    config.projection.update(add_bos_tag=True, add_eos_tag=True, max_seq_len=2)
    transfer = load_transfer_set(config, VOCABS, TRAIN)
    assert transfer.examples == TRAIN and transfer.num_augmented == 0
    rows = transfer.slot_logits["de", "1"]
    # [BOS] ruf bob [EOS]: the third token is cut by max_seq_len=2.
    assert rows[:, 0].tolist() == [0.0, 1.0, 2.0, 0.0]
    features, labels = next(iter(transfer.make_dataset(TRAIN, VOCABS, epoch=0)))
    assert features[TEACHER_SLOTS].shape[:2] == labels["slots"].shape
    assert features[TEACHER_INTENT].shape == (3, VOCABS.intents.size)
    # Teacher rows sit exactly at the labelled positions.
    labelled = labels["slots"].numpy() >= 0
    assert np.all((features[TEACHER_SLOTS].numpy()[..., 0] > 0) == labelled)


def test_missing_logits_and_other_tokens_are_errors(tmp_path):
    config = config_for(tmp_path)
    config.distill.teacher_logits = write(str(tmp_path / "part.tfrecord"), TRAIN[:2])
    with pytest.raises(ValueError, match=r"1 of 3 training examples have no teacher logits"):
        load_transfer_set(config, VOCABS, TRAIN)
    other = [TRAIN[0], TRAIN[1], Example("2", "en", ("play", "rock", "now"), TRAIN[2].tags, "play")]
    config.distill.teacher_logits = write(str(tmp_path / "other.tfrecord"), other)
    with pytest.raises(ValueError, match="other tokens"):
        load_transfer_set(config, VOCABS, TRAIN)


def test_errors_name_the_files_languages_and_the_first_differing_token(tmp_path):
    config = config_for(tmp_path)
    first = write(str(tmp_path / "a.tfrecord"), TRAIN[:2])
    second = write(str(tmp_path / "b.tfrecord"), TRAIN[1:])
    config.distill.teacher_logits = f"{first},{second}"
    with pytest.raises(
        ValueError, match=r"\('de', '1'\) are in both .*a.tfrecord and .*b.tfrecord"
    ):
        load_transfer_set(config, VOCABS, TRAIN)
    config.distill.teacher_logits = write(str(tmp_path / "part.tfrecord"), TRAIN[1:])
    with pytest.raises(ValueError, match=r"\[\('en', '1'\)\]"):
        load_transfer_set(config, VOCABS, TRAIN)
    # The tokens differ only after the 8th: the message says where.
    long = Example("3", "en", tuple("abcdefghij"), ("O",) * 10, "play")
    changed = dataclasses.replace(long, tokens=long.tokens[:9] + ("z",))
    config.distill.teacher_logits = write(str(tmp_path / "long.tfrecord"), [*TRAIN, changed])
    with pytest.raises(
        ValueError,
        match=r"long.tfrecord were computed on other tokens \(first difference at token 9\)",
    ):
        load_transfer_set(config, VOCABS, [*TRAIN, long])
    augmented = [Example("a1", "en", ("play", "jazz"), ("O", "B-genre"), "play")]
    config = config_for(tmp_path, augmented_amount=-1.0)
    once = write(str(tmp_path / "aug1.tfrecord"), augmented)
    twice = write(str(tmp_path / "aug2.tfrecord"), augmented)
    config.distill.augmented_logits = f"{once},{twice}"
    with pytest.raises(ValueError, match=r"augmented example \('en', 'a1'\) is in both"):
        load_transfer_set(config, VOCABS, TRAIN)
    config.distill.augmented_logits = write(str(tmp_path / "aug3.tfrecord"), TRAIN[:1])
    with pytest.raises(ValueError, match=r"aug3.tfrecord repeats a training example"):
        load_transfer_set(config, VOCABS, TRAIN)


def test_inputs_are_fingerprinted_and_a_changed_file_stops_a_resumed_student(tmp_path):
    config = config_for(tmp_path)
    path = config.distill.teacher_logits
    write(path, TRAIN, teacher="t1", metadata={"step": 10})
    inputs = load_transfer_set(config, VOCABS, TRAIN).inputs
    assert inputs == [
        {
            "path": path,
            "teacher": "t1",
            "num_examples": 3,
            "compression": "",
            "num_intents": VOCABS.intents.size,
            "num_tags": VOCABS.tags.size,
            "metadata": {"step": 10},
        }
    ]
    record = str(tmp_path / "student" / student.INPUTS_FILE)
    os.makedirs(os.path.dirname(record))
    student.check_inputs(record, inputs)  # First run: records them.
    student.check_inputs(record, load_transfer_set(config, VOCABS, TRAIN).inputs)  # Same.
    write(path, TRAIN, teacher="t1", metadata={"step": 20})  # The teacher trained on.
    with pytest.raises(ValueError, match=r"train.tfrecord: was .*'step': 10.*now .*'step': 20"):
        student.check_inputs(record, load_transfer_set(config, VOCABS, TRAIN).inputs)


def test_batches_carry_each_examples_own_logits(tmp_path):
    # Many examples of equal length, shuffled: a row joined to the wrong
    # example, or shuffled apart from it, shows as another example's offset.
    examples = [
        Example(str(i), "en", ("play", f"song{i}", "now"), ("O", "B-genre", "O"), "play")
        for i in range(40)
    ]
    offsets = [10.0 * i for i in range(40)]
    config = config_for(tmp_path)
    config.distill.teacher_logits = write(
        str(tmp_path / "many.tfrecord"), examples, offsets=offsets
    )
    config.train.batch_size = 8
    transfer = load_transfer_set(config, VOCABS, examples)
    seen = []
    for epoch in (0, 1):
        for features, _ in transfer.make_dataset(examples, VOCABS, epoch=epoch):
            for text, intent, slots in zip(
                features["text"].numpy(),
                features[TEACHER_INTENT].numpy(),
                features[TEACHER_SLOTS].numpy(),
                strict=True,
            ):
                i = int(text.decode().split()[1][len("song") :])
                seen.append(i)
                assert intent[0] == offsets[i], (i, intent[0])
                assert slots[:3, 0].tolist() == [offsets[i] + 1, offsets[i] + 2, offsets[i] + 3]
    assert sorted(seen) == sorted(list(range(40)) * 2)
    assert seen[:40] != list(range(40))  # The batches were shuffled.


def test_augmented_amount_only_and_teacher_labels(tmp_path):
    augmented = [
        Example(f"a{i}", "en", ("play", "jazz"), ("O", "B-genre"), "play") for i in range(4)
    ]
    path = write(str(tmp_path / "aug.tfrecord"), augmented, labels=False)
    config = config_for(tmp_path, augmented_logits=path, augmented_amount=1.0)
    transfer = load_transfer_set(config, VOCABS, TRAIN)
    assert (transfer.num_original, transfer.num_augmented) == (3, 3)  # round(1.0 * 3)
    config.distill.update(augmented_only=True, augmented_amount=-1.0)
    transfer = load_transfer_set(config, VOCABS, TRAIN)
    assert (transfer.num_original, transfer.num_augmented) == (0, 4)
    # No labels in the file: the teacher's argmax (all columns tie -> the first).
    assert transfer.examples[0].intent == VOCABS.intents.labels[0]
    assert transfer.examples[0].tags == ("O", "O")


def test_augmented_utterances_of_other_languages_are_skipped(tmp_path):
    augmented = [
        Example(f"a{i}", lang, ("play", "jazz"), ("O", "B-genre"), "play")
        for i, lang in enumerate(["de", "en", "de", "en", "en"])
    ]
    path = write(str(tmp_path / "aug.tfrecord"), augmented)
    english = [e for e in TRAIN if e.language == "en"]
    config = config_for(tmp_path, augmented_logits=path, augmented_amount=1.0)
    transfer = load_transfer_set(config, VOCABS, english)
    # round(1.0 * 2) of the three English records, none of the German ones.
    assert (transfer.num_original, transfer.num_augmented) == (2, 2)
    assert [e.id for e in transfer.examples[2:]] == ["a1", "a3"]


def test_scale_logits():
    x = np.array([[1.0, 2.0, 3.0]])
    assert scale_logits(x, 2.0).tolist() == [[2.0, 4.0, 6.0]]
    z = scale_logits(x, 1.0, "standardize")
    np.testing.assert_allclose([z.mean(), z.std()], [0.0, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match="norm"):
        scale_logits(x, 1.0, "softmax")


def test_pipeline_extra_columns():
    columns = {
        "per_example": [np.array([i, i], np.float32) for i in range(3)],
        "per_token": [np.ones([len(e.tokens), 2], np.float32) for e in TRAIN],
    }
    features, labels = next(
        iter(make_token_dataset(TRAIN, VOCABS, batch_size=3, extra_columns=columns))
    )
    assert features["per_example"].numpy()[:, 0].tolist() == [0, 1, 2]
    assert features["per_token"].shape == (3, 3, 2)
    assert features["per_token"].numpy()[0, :, 0].tolist() == [1, 1, 0]  # Padded with 0.
    with pytest.raises(ValueError, match="2 rows for 3 examples"):
        make_token_dataset(TRAIN, VOCABS, batch_size=3, extra_columns={"x": [1, 2]})
    with pytest.raises(ValueError, match="replace the pipeline's own"):
        make_token_dataset(TRAIN, VOCABS, batch_size=3, extra_columns={"text": [1, 2, 3]})


def test_teacher_viterbi_hard_labels(tmp_path):
    """The teacher's argmax reads "O I-genre" (repaired to "O B-genre"); its
    best valid BIO sequence is "B-genre I-genre"."""
    train = [
        *TRAIN,
        Example("3", "en", ("play", "cool", "jazz"), ("O", "B-genre", "I-genre"), "play"),
    ]
    vocabs = LabelVocabs.build(train)
    tags = vocabs.tags.labels
    slots = np.full([2, len(tags)], -10.0, np.float32)
    # log p: token 0: O 0.50, B-genre 0.45; token 1: I-genre 0.6, B-genre 0.1, O 0.3.
    for row, probs in enumerate(
        [{"O": 0.5, "B-genre": 0.45}, {"I-genre": 0.6, "B-genre": 0.1, "O": 0.3}]
    ):
        for tag, p in probs.items():
            slots[row, tags.index(tag)] = np.log(p)
    augmented = Example("a0", "en", ("play", "jazz"), ("O", "O"), "play")
    path = str(tmp_path / "aug.tfrecord")
    with logits_io.LogitsWriter(path, vocabs.intents.labels, tags) as writer:
        intent = np.zeros(vocabs.intents.size, np.float32)
        intent[vocabs.intents.labels.index("play")] = 5.0
        writer.write_example(augmented, intent, slots, with_labels=True)
    config = distill_config.get_config("smoke")
    config.distill.update(augmented_logits=path, augmented_only=True)
    found = {}
    for mode in ("teacher", "teacher_viterbi", "augmentation"):
        config.distill.hard_labels = mode
        (example,) = load_transfer_set(config, vocabs, train).examples
        assert example.intent == "play"
        found[mode] = example.tags
    assert found == {
        "teacher": ("O", "B-genre"),  # argmax "O I-genre", repaired
        "teacher_viterbi": ("B-genre", "I-genre"),  # 0.45 * 0.6 > 0.5 * max(0.1, 0.3)
        "augmentation": ("O", "O"),  # the file's own labels
    }
    config.distill.hard_labels = "viterbi"
    with pytest.raises(ValueError, match="hard_labels"):
        load_transfer_set(config, vocabs, train)
