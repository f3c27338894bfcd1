"""Where the real data lives, and one call to read a split of it.

The real data (MTOP, MultiATIS++) is never part of the repository; it lives
in a folder laid out as `../shared/data` (docs/DATA.md):

  <root>/mtop/<lang>/{eval,test}.txt
  <root>/mtop_train_flat/<lang>/train.tsv
  <root>/multiatis/{train,dev,test}_XX.tsv

`find_data_root()` finds that folder; `load_split()` reads one split of one
language.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import TypeVar

from pqrnn.data.example import Example, ReadReport
from pqrnn.data.mtop import read_mtop, read_mtop_train_flat
from pqrnn.data.multiatis import read_multiatis

T = TypeVar("T")

ENV_VAR = "PQRNN_SHARED_DATA"
MTOP_LANGUAGES = ("en", "de", "es", "fr", "hi", "th")
MULTIATIS_LANGUAGES = ("en", "de", "es", "fr", "pt", "zh", "ja", "hi", "tr")
# Canonical split names (TFDS's) -> each dataset's own.
SPLITS = ("train", "validation", "test")
_MTOP_SPLIT_FILES = {"validation": "eval", "test": "test"}
_MULTIATIS_SPLIT_FILES = {"train": "train", "validation": "dev", "test": "test"}
_SPLIT_ALIASES = {"eval": "validation", "dev": "validation"}


def round_robin(groups: Sequence[Sequence[T]]) -> list[T]:
    """The items of `groups` taken one from each group in turn (each group in
    its own order), e.g. to mix languages that files store one after another.

    Example:
    >>> round_robin([[1, 2, 3], [10], [20, 21]])
    [1, 10, 20, 2, 21, 3]
    """
    out: list[T] = []
    for i in range(max(map(len, groups), default=0)):
        out.extend(group[i] for group in groups if i < len(group))
    return out


def interleaved(examples: Sequence[Example], count: int) -> list[Example]:
    """The first `count` examples taken round-robin over their languages (file
    order within each), so that a subset covers every language (the splits
    are stored language by language).

    Example:
    >>> xs = [Example(str(i), l, ("a",), ("O",), "x") for i, l in enumerate("eeedd")]
    >>> [(x.language, x.id) for x in interleaved(xs, 4)]
    [('e', '0'), ('d', '3'), ('e', '1'), ('d', '4')]
    """
    by_language: dict[str, list[Example]] = {}
    for example in examples:
        by_language.setdefault(example.language, []).append(example)
    return round_robin(list(by_language.values()))[:count]


def find_data_root(root: str | os.PathLike | None = None) -> pathlib.Path | None:
    """The real-data folder: `root` if given, else $PQRNN_SHARED_DATA, else
    `<repository>/../shared/data`; None when the chosen folder does not exist."""
    if root is None:
        root = os.environ.get(ENV_VAR) or (
            pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data"
        )
    path = pathlib.Path(root)
    return path if path.is_dir() else None


def canonical_split(split: str) -> str:
    """ "eval" and "dev" -> "validation"; "train"/"validation"/"test" unchanged."""
    split = _SPLIT_ALIASES.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS} (or eval, dev)")
    return split


def split_path(root: str | os.PathLike, dataset: str, language: str, split: str) -> pathlib.Path:
    """The file holding `split` of `dataset` ("mtop" or "multiatis") in `language`."""
    root = pathlib.Path(root)
    split = canonical_split(split)
    if dataset == "mtop":
        if language not in MTOP_LANGUAGES:
            raise ValueError(f"MTOP has no language {language!r}; expected one of {MTOP_LANGUAGES}")
        if split == "train":
            return root / "mtop_train_flat" / language / "train.tsv"
        return root / "mtop" / language / f"{_MTOP_SPLIT_FILES[split]}.txt"
    if dataset == "multiatis":
        if language not in MULTIATIS_LANGUAGES:
            raise ValueError(
                f"MultiATIS++ has no language {language!r}; expected one of {MULTIATIS_LANGUAGES}"
            )
        return root / "multiatis" / f"{_MULTIATIS_SPLIT_FILES[split]}_{language.upper()}.tsv"
    raise ValueError(f"unknown dataset {dataset!r}; expected 'mtop' or 'multiatis'")


def load_split(
    dataset: str,
    language: str,
    split: str,
    *,
    root: str | os.PathLike | None = None,
    strict: bool = False,
    drop_overlap: bool = False,
) -> tuple[list[Example], ReadReport]:
    """Reads one split of one language with the matching reader.

    Args:
      dataset: "mtop" or "multiatis".
      language: lowercase code, e.g. "en".
      split: "train", "validation" ("eval"/"dev") or "test".
      root: the data folder; default `find_data_root()`.
      strict: raise DataFormatError on the first faulty row.
      drop_overlap: MTOP train only: filter overlap_v0 == 1 rows.

    Raises:
      FileNotFoundError: no data folder or no such file.
    """
    found = find_data_root(root)
    if found is None:
        raise FileNotFoundError(
            f"no data folder (looked at {root or os.environ.get(ENV_VAR) or '<repo>/../shared/data'}); "
            f"set ${ENV_VAR} or pass root="
        )
    path = split_path(found, dataset, language, split)
    if dataset == "mtop" and canonical_split(split) == "train":
        return read_mtop_train_flat(
            path, language=language, strict=strict, drop_overlap=drop_overlap
        )
    if dataset == "mtop":
        return read_mtop(path, language=language, strict=strict)
    return read_multiatis(path, language=language, strict=strict)
