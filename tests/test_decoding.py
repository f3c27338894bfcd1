"""BIO-constrained slot decoding (pqrnn.decoding)."""

import itertools

import numpy as np
import pytest

from pqrnn.decoding import BioDecoder, log_softmax, types_by_intent
from pqrnn.metrics import bio_spans

TAGS = ("O", "B-A", "I-A", "B-B", "I-B", "<unk>")


def _valid(tags):
    previous = "O"
    for tag in tags:
        if tag == "<unk>":
            return False
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
        previous = tag
    return True


def _brute_force(logits, allowed_tags=TAGS):
    scores = log_softmax(logits)
    best, best_path = -np.inf, None
    for path in itertools.product(range(len(TAGS)), repeat=len(logits)):
        tags = [TAGS[i] for i in path]
        if not _valid(tags) or any(t not in allowed_tags for t in tags):
            continue
        total = sum(scores[t, i] for t, i in enumerate(path))
        if total > best:
            best, best_path = total, path
    return best, best_path


@pytest.mark.parametrize("seed", range(40))
def test_viterbi_is_the_best_valid_sequence(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(1 + seed % 5, len(TAGS)))
    path = BioDecoder(TAGS).decode(logits)
    tags = [TAGS[i] for i in path]
    assert _valid(tags)
    best, _ = _brute_force(logits)
    scores = log_softmax(logits)
    assert sum(scores[t, i] for t, i in enumerate(path)) == pytest.approx(best)


@pytest.mark.parametrize("seed", range(20))
def test_viterbi_with_an_inside_tag_that_has_no_begin_tag(seed):
    # A vocabulary can hold "I-C" without "B-C" (a training set where the
    # slot never starts with B): "I-C" may then only follow "I-C", so never
    # be output at all.
    tags = ("O", "I-C", "B-A", "I-A", "<unk>")
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(1 + seed % 4, len(tags)))
    path = [tags[i] for i in BioDecoder(tags).decode(logits)]
    assert "I-C" not in path and "<unk>" not in path and _valid(path)
    scores = log_softmax(logits)
    best = max(
        sum(scores[t, i] for t, i in enumerate(p))
        for p in itertools.product(range(len(tags)), repeat=len(logits))
        if _valid([tags[i] for i in p])
    )
    assert sum(scores[t, tags.index(tag)] for t, tag in enumerate(path)) == pytest.approx(best)


def test_valid_argmax_is_kept():
    logits = np.log(np.array([[0.7, 0.1, 0.05, 0.1, 0.03, 0.02], [0.1, 0.6, 0.1, 0.1, 0.05, 0.05]]))
    assert list(BioDecoder(TAGS).decode(logits)) == list(logits.argmax(-1))


def test_argmax_mode_is_the_argmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, len(TAGS)))
    assert list(BioDecoder(TAGS, "argmax").decode(logits)) == list(logits.argmax(-1))


def test_leading_inside_tag_is_repaired():
    # I-A alone at the start is invalid; B-A is the runner-up there.
    logits = np.log(np.array([[0.1, 0.3, 0.5, 0.05, 0.03, 0.02]]))
    assert [TAGS[i] for i in BioDecoder(TAGS).decode(logits)] == ["B-A"]


def test_unknown_is_never_output():
    logits = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 9.0]])
    assert TAGS[BioDecoder(TAGS).decode(logits)[0]] != "<unk>"


def test_types_of_the_intent():
    train = [
        type("E", (), {"intent": "play", "tags": ("O", "B-A", "I-A")}),
        type("E", (), {"intent": "stop", "tags": ("O", "B-B")}),
        type("E", (), {"intent": "stop", "tags": ("O",)}),
    ]
    table = types_by_intent(train)
    assert table == {"play": ["A"], "stop": ["B"]}
    decoder = BioDecoder(TAGS, types_by_intent=table)
    logits = np.log(np.array([[0.1, 0.6, 0.05, 0.2, 0.03, 0.02]]))
    assert TAGS[decoder.decode(logits, intent="play")[0]] == "B-A"
    assert TAGS[decoder.decode(logits, intent="stop")[0]] == "B-B"
    assert TAGS[decoder.decode(logits, intent="unseen")[0]] == "B-A"  # no constraint
    rng = np.random.default_rng(1)
    for _ in range(20):
        logits = rng.normal(scale=3.0, size=(3, len(TAGS)))
        tags = [TAGS[i] for i in decoder.decode(logits, intent="stop")]
        assert {kind for kind, _, _ in bio_spans(tags)} <= {"B"}
        best, _ = _brute_force(logits, allowed_tags=("O", "B-B", "I-B"))
        scores = log_softmax(logits)
        got = sum(scores[t, TAGS.index(tag)] for t, tag in enumerate(tags))
        assert got == pytest.approx(best)


def test_bad_shapes_and_modes():
    with pytest.raises(ValueError, match="expected one of"):
        BioDecoder(TAGS, "beam")
    with pytest.raises(ValueError, match="slot types of each intent"):
        BioDecoder(TAGS, "viterbi_intent_types")
    with pytest.raises(ValueError, match=r"expected \[n, 6\]"):
        BioDecoder(TAGS).decode(np.zeros((3, 4)))
    assert BioDecoder(TAGS).decode(np.zeros((0, len(TAGS)))).shape == (0,)
