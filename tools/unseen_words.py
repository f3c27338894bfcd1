r"""Where models lose exact match: utterances with words the training data lacks.

Splits a dataset's utterances, per language, into those whose every word
(lowercased, as the projection reads it) occurs in that language's training
split and those with at least one word it never saw, and prints each
model's exact match on both groups from per-utterance predictions files
(`pqrnn.bin.evaluate --predictions_output`, or a teacher's
`teacher_predictions_<split>.jsonl`). The first file is the reference:
after the table, one line per other model gives its macro-averaged gap to
it and how much of that gap each group accounts for (the group's share of
the language's utterances times its gap, averaged over languages; the two
add up to the whole gap). --top_words=N lists each language's N most
frequent unseen words with each model's exact match on the utterances that
hold them.

    python tools/unseen_words.py --workdir=workdirs/teacher_multiatis --split=test \
        --predictions=teacher=workdirs/teacher_multiatis/teacher_predictions_test.jsonl \
        --predictions=student=workdirs/predictions/distill_multiatis_4x_cng2_sqrt_aug7_int8.jsonl
"""

from __future__ import annotations

import collections
import os

import ml_collections
from absl import app, flags

import pqrnn  # noqa: F401
from pqrnn import io_utils, metrics

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "A run's workdir: its config names the data.", required=True
)
_SPLIT = flags.DEFINE_string("split", "test", "Split the predictions are of.")
_PREDICTIONS = flags.DEFINE_multi_string(
    "predictions", [], "name=path of a predictions file; the first is the reference."
)
_TOP = flags.DEFINE_integer(
    "top_words",
    0,
    "Also list each language's N most frequent unseen words, with each model's exact match on "
    "the utterances that contain them.",
)
_OUTPUT = flags.DEFINE_string("output_json", None, "Also write the figures here.")


def _config(workdir: str) -> ml_collections.ConfigDict:
    """The run's config (`predictor.load_config`); a teacher workdir without
    one (a BERT teacher's) has the teacher binary's teacher_config.json."""
    from pqrnn.training import experiment, predictor

    teacher = os.path.join(workdir, "teacher_config.json")
    if not os.path.exists(experiment.workdir_paths(workdir)["config"]) and os.path.exists(teacher):
        return ml_collections.ConfigDict(
            experiment.upgrade_saved_config(io_utils.read_json(teacher))
        )
    return predictor.load_config(workdir)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not _PREDICTIONS.value:
        raise app.UsageError("give at least one --predictions=name=path")
    from pqrnn.training import experiment

    config = _config(_WORKDIR.value)
    train, _ = experiment.load_examples(config, "train")
    examples, _ = experiment.load_examples(config, _SPLIT.value)
    words = metrics.unseen_words(train, examples, config.projection.lowercase)
    groups = {key: bool(w) for key, w in words.items()}
    models = []
    for spec in _PREDICTIONS.value:
        name, sep, path = spec.partition("=")
        if not sep:
            raise app.UsageError(f"--predictions={spec}: expected name=path")
        hits = metrics.read_hits(path)
        if hits.keys() != groups.keys():
            raise ValueError(f"{path}: its utterances are not those of split {_SPLIT.value}")
        models.append((name, hits))

    (ref_name, ref), others = models[0], models[1:]
    results = {name: metrics.gap_by_group(ref, hits, groups) for name, hits in models}
    print(
        f"Exact match on {_SPLIT.value} (%): all / utterances with only seen words / "
        "with a word not in the language's training data"
    )
    print(
        f"{'lang':5s} {'utts':>5s} {'unseen':>6s}" + "".join(f" | {n[:20]:>20s}" for n, _ in models)
    )
    for language, row in results[ref_name]["per_language"].items():
        line = f"{language:5s} {row['num_examples']:5d} "
        line += f"{100 * row['in_group'] / row['num_examples']:5.1f}%"
        for name, _ in models:
            m = results[name]["per_language"][language]["other"]
            line += f" | {m['all']:6.1f} {m['out']:6.1f} {m['in']:6.1f}"
        print(line)
    shares = [r["in_group"] / r["num_examples"] for r in results[ref_name]["per_language"].values()]
    print(f"utterances with an unseen word: {100 * sum(shares) / len(shares):.1f}% (macro)")
    for name, _ in others:
        r = results[name]
        print(
            f"{name} - {ref_name}: {r['gap']:+.2f} macro = {r['gap_out']:+.2f} on utterances "
            f"with only seen words + {r['gap_in']:+.2f} on those with an unseen word"
        )
    if _TOP.value:
        _print_top_words(words, models)
    if _OUTPUT.value:
        io_utils.atomic_write_json(
            _OUTPUT.value,
            {"split": _SPLIT.value, "reference": ref_name, "against_reference": results},
        )


def _print_top_words(words: dict, models) -> None:
    holders = collections.defaultdict(list)  # (language, word) -> utterance keys
    for key, unseen in words.items():
        for word in unseen:
            holders[key[0], word].append(key)
    print("\nmost frequent unseen words: utterances holding them, exact match of each model")
    for language in sorted({lang for lang, _ in holders}):
        top = sorted(
            (w for lang, w in holders if lang == language),
            key=lambda w: (-len(holders[language, w]), w),
        )[: _TOP.value]
        for word in top:
            keys = holders[language, word]
            rates = " ".join(
                f"{name} {100 * sum(hits[k] for k in keys) / len(keys):5.1f}"
                for name, hits in models
            )
            print(f"{language:5s} {word!r:24s} {len(keys):5d}  {rates}")


if __name__ == "__main__":
    app.run(main)
