"""Training-time unseen words (pqrnn.data.word_noise) and their place in training."""

import numpy as np
import pytest
import tensorflow as tf

from pqrnn.data import word_noise

TEXTS = [
    "vuelos de boston a denver a las 4 p. m.",
    "最早 的 航班 查询",
    "",
    "x",
    "show me flights from boston to denver on monday morning",
]


def _replace(texts, probability, seed=0, epoch=0):
    out = word_noise.replace_words(texts, probability, seed=seed, epoch=epoch)
    return [t.decode("utf-8") for t in out.numpy()]


def test_zero_probability_keeps_every_text():
    assert _replace(TEXTS, 0.0) == TEXTS


def test_every_token_keeps_its_place_length_and_utterance_script():
    for probability in (0.3, 1.0):
        for original, noisy in zip(TEXTS, _replace(TEXTS, probability, seed=3), strict=True):
            old, new = original.split(" "), noisy.split(" ")
            assert len(new) == len(old), (original, noisy)
            for a, b in zip(old, new, strict=True):
                assert len(b) == len(a)  # code points
                assert not any(c.isspace() for c in b)
                assert set(b) <= set(original.replace(" ", ""))


def test_probability_one_replaces_almost_every_token():
    texts = [" ".join(f"word{i}{j}" for j in range(10)) for i in range(50)]
    noisy = _replace(texts, 1.0)
    old = [t for text in texts for t in text.split(" ")]
    new = [t for text in noisy for t in text.split(" ")]
    # A draw rebuilds the same 6-character token with probability ~ (1/C)^6.
    assert sum(a != b for a, b in zip(old, new, strict=True)) == len(old)


def test_rate_follows_the_probability():
    texts = [" ".join(f"token{i}x{j}" for j in range(20)) for i in range(200)]
    noisy = _replace(texts, 0.1, seed=5)
    changed = sum(
        a != b
        for x, y in zip(texts, noisy, strict=True)
        for a, b in zip(x.split(" "), y.split(" "), strict=True)
    )
    assert 0.08 < changed / 4000 < 0.12, changed


def test_draws_are_reproducible_and_differ_by_seed_and_epoch():
    first = _replace(TEXTS, 0.5, seed=1, epoch=2)
    assert _replace(TEXTS, 0.5, seed=1, epoch=2) == first
    assert _replace(TEXTS, 0.5, seed=1, epoch=3) != first
    assert _replace(TEXTS, 0.5, seed=2, epoch=2) != first
    # The same utterance draws the same in any batch (the key is its text).
    assert _replace(TEXTS[:1], 0.5, seed=1, epoch=2) == first[:1]


def test_runs_inside_a_dataset_map():
    dataset = (
        tf.data.Dataset.from_tensor_slices(TEXTS)
        .batch(2)
        .map(lambda t: word_noise.replace_words(t, 0.5, seed=1, epoch=2))
    )
    mapped = [t.decode("utf-8") for batch in dataset for t in batch.numpy()]
    assert mapped == _replace(TEXTS, 0.5, seed=1, epoch=2)


@pytest.mark.parametrize("probability", [-0.1, 1.5, float("nan")])
def test_probability_outside_zero_one_is_refused(probability):
    with pytest.raises(ValueError, match="unseen_word_probability"):
        word_noise.replace_words(TEXTS, probability)


def test_training_batches_get_unseen_words_and_evaluation_batches_do_not():
    from pqrnn.configs import smoke
    from pqrnn.data.vocab import LabelVocabs
    from pqrnn.training import experiment

    config = smoke.get_config("pqrnn")
    examples = experiment.load_examples(config, "train")[0][:64]
    vocabs = LabelVocabs.build(examples)

    def first_batch(unseen, training):
        config.projection.unseen_word_probability = unseen
        dataset = experiment.make_dataset(
            config, examples, vocabs, training=training, batch_size=64, epoch=0
        )
        features, labels = next(iter(dataset))
        return features, labels

    clean, clean_labels = first_batch(0.0, training=True)
    noisy, noisy_labels = first_batch(0.5, training=True)
    # Same order, lengths and labels; different projections.
    np.testing.assert_array_equal(clean["sequence_length"], noisy["sequence_length"])
    np.testing.assert_array_equal(clean_labels["slots"], noisy_labels["slots"])
    np.testing.assert_array_equal(clean["text"], noisy["text"])  # the text column is the original
    assert not np.array_equal(clean["projection"], noisy["projection"])
    # Evaluation never sees the noise.
    evaluation, _ = first_batch(0.5, training=False)
    reference, _ = first_batch(0.0, training=False)
    np.testing.assert_array_equal(evaluation["projection"], reference["projection"])


def test_word_models_refuse_unseen_words():
    from pqrnn.configs import smoke
    from pqrnn.data.vocab import LabelVocabs
    from pqrnn.training import experiment

    config = smoke.get_config("bilstm")
    config.projection.unseen_word_probability = 0.1
    examples = experiment.load_examples(config, "train")[0][:8]
    with pytest.raises(ValueError, match="projection models only"):
        experiment.make_dataset(config, examples, LabelVocabs.build(examples), training=True)


def test_a_long_token_is_replaced_in_bounded_memory():
    # Keys are short (a fingerprint of the utterance, not its text), so a
    # 200,000-character token costs 200,000 small draws, not 200,000 copies
    # of the utterance.
    long = "ab" * 100_000
    (noisy,) = _replace([long + " x"], 1.0)
    token, x = noisy.split(" ")
    assert len(token) == len(long) and set(token) <= {"a", "b", "x"} and token != long
    assert x in {"a", "b", "x"}


def test_invalid_utf8_keeps_token_counts():
    texts = tf.constant([b"ok \xff\xfe bad", b"\xc3"])
    out = word_noise.replace_words(texts, 1.0)
    assert [len(t.split(b" ")) for t in out.numpy()] == [3, 1]
