"""How closely `pqrnn.data.tokenize` reproduces MTOP's official tokens
(docs/DATA.md, "The tokenizer"), per language and split.

    .venv/bin/python tools/mtop_token_agreement.py            # all 6 languages, eval and test
    .venv/bin/python tools/mtop_token_agreement.py th test

Prints, for each file, the share of utterances whose tokens equal MTOP's,
and the precision / recall of token boundaries (a token is a character span
of the utterance with whitespace removed), against splitting on whitespace
alone. MTOP tokens that are only whitespace are ignored.
"""

import json
import sys

from pqrnn.data import find_data_root, split_path, split_whitespace, tokenize
from pqrnn.data.catalog import MTOP_LANGUAGES


def _spans(tokens: list[str]) -> set[tuple[int, int]]:
    spans, start = set(), 0
    for token in tokens:
        end = start + len("".join(split_whitespace(token)))
        spans.add((start, end))
        start = end
    return spans


def agreement(language: str, split: str) -> dict:
    path = split_path(find_data_root(), "mtop", language, split)
    counts = dict(utterances=0, same=0, same_whitespace=0, true_pos=0, predicted=0, gold=0)
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        columns = line.split("\t")
        gold = [t for t in json.loads(columns[7])["tokens"] if split_whitespace(t)]
        ours = tokenize(columns[3], language)
        counts["utterances"] += 1
        counts["same"] += ours == gold
        counts["same_whitespace"] += split_whitespace(columns[3]) == gold
        a, b = _spans(gold), _spans(ours)
        counts["true_pos"] += len(a & b)
        counts["predicted"] += len(b)
        counts["gold"] += len(a)
    return counts


def main(argv: list[str]) -> None:
    languages = [argv[1]] if len(argv) > 1 else list(MTOP_LANGUAGES)
    splits = [argv[2]] if len(argv) > 2 else ["validation", "test"]
    print("language split utterances same% whitespace_only% boundary_precision boundary_recall")
    for language in languages:
        for split in splits:
            c = agreement(language, split)
            n = c["utterances"]
            print(
                f"{language} {split} {n} {100 * c['same'] / n:.2f} "
                f"{100 * c['same_whitespace'] / n:.2f} "
                f"{c['true_pos'] / c['predicted']:.3f} {c['true_pos'] / c['gold']:.3f}"
            )


if __name__ == "__main__":
    main(sys.argv)
