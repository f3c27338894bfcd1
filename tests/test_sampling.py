"""Language-balanced epochs (pqrnn.data.sampling) and their place in training."""

import collections
import doctest
import math
import os

import pytest

from pqrnn.data import sampling
from pqrnn.data.example import Example

# MultiATIS++'s training languages and sizes.
MULTIATIS = {"de": 4487, "en": 4488, "es": 4485, "fr": 4475, "hi": 1490}
MULTIATIS.update({"ja": 4487, "pt": 4478, "tr": 626, "zh": 4487})


def _examples(counts):
    return [
        Example(f"{language}{i}", language, ("w", str(i)), ("O", "O"), "fly")
        for language, n in counts.items()
        for i in range(n)
    ]


def test_docstrings():
    results = doctest.testmod(sampling)
    assert results.attempted >= 2 and results.failed == 0


def test_exponent_one_is_the_natural_mix_unchanged():
    examples = _examples({"en": 7, "tr": 2})
    assert sampling.balance_languages(examples, 1.0) == examples
    assert set(sampling.language_repeats(MULTIATIS, 1.0).values()) == {1}


def test_repeats_follow_the_exponent():
    half = sampling.language_repeats(MULTIATIS, 0.5)
    assert half == {k: {"hi": 2, "tr": 3}.get(k, 1) for k in MULTIATIS}
    # α = 0: every language about equally often.
    zero = sampling.language_repeats(MULTIATIS, 0.0)
    assert zero["tr"] == 7 and zero["hi"] == 3 and zero["en"] == 1  # 4488/626 = 7.17, 3.01
    for language, n in MULTIATIS.items():
        assert abs(n * zero[language] - 4488) / 4488 < 0.1
    # Shares move towards n^α: each language's share lies between the
    # natural one and the equal one, and the order by size is kept.
    total = sum(MULTIATIS.values())
    total_half = sum(n * half[k] for k, n in MULTIATIS.items())
    for language, n in MULTIATIS.items():
        natural, balanced = n / total, n * half[language] / total_half
        assert min(natural, 1 / 9) - 1e-9 <= balanced <= max(natural, 1 / 9) + 1e-9


def test_balanced_list_starts_with_the_original_and_repeats_whole_languages():
    examples = _examples({"en": 12, "hi": 5, "tr": 2})
    balanced = sampling.balance_languages(examples, 0.0)  # en x1, hi x2, tr x6
    assert balanced[: len(examples)] == examples
    counts = collections.Counter(e.language for e in balanced)
    assert counts == {"en": 12, "hi": 10, "tr": 12}
    for language, r in (("hi", 2), ("tr", 6)):
        ids = collections.Counter(e.id for e in balanced if e.language == language)
        assert set(ids.values()) == {r}
    assert sampling.balance_languages(examples, 0.0) == balanced  # no random draw
    assert sampling.balance_languages([], 0.5) == []


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, math.inf, "0.5", None])
def test_exponent_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match="language_sampling_exponent"):
        sampling.language_repeats({"en": 3}, bad)


def test_describe_names_each_language_with_its_repeats_and_share():
    line = sampling.describe(_examples({"en": 12, "tr": 3}), 0.0)
    assert line == "languages per epoch (exponent 0): en 12x1 (50.0%), tr 3x4 (50.0%)"


def _two_language_config():
    from pqrnn.configs import smoke

    config = smoke.get_config()
    config.train.epochs = 1
    config.train.batch_size = 16
    return config


def _two_languages():
    from pqrnn.data import synthetic

    train = synthetic.generate("train", languages=("en", "de"), num_per_language=48)
    en = [e for e in train if e.language == "en"]
    de = [e for e in train if e.language == "de"]
    return en + de[:12]  # en 48, de 12: de repeats 2 at α = 0.5, 4 at α = 0


def test_training_counts_steps_from_the_balanced_epoch(tmp_path):
    from pqrnn.training import trainer

    examples = _two_languages()
    config = _two_language_config()
    natural = trainer.train(config, str(tmp_path / "natural"), train_examples=examples)
    assert natural["train_examples"] == natural["examples_per_epoch"] == 60
    assert natural["steps"] == 4  # ceil(60 / 16)
    config.train.language_sampling_exponent = 0.0
    balanced = trainer.train(config, str(tmp_path / "balanced"), train_examples=examples)
    assert balanced["train_examples"] == 60 and balanced["examples_per_epoch"] == 96  # 48 + 12 x 4
    assert balanced["steps"] == 6


def test_trainer_refuses_a_bad_exponent_before_writing_anything(tmp_path):
    from pqrnn.training import trainer

    config = _two_language_config()
    config.train.language_sampling_exponent = 2.0
    with pytest.raises(ValueError, match="language_sampling_exponent"):
        trainer.train(config, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run")
