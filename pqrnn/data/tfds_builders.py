"""TensorFlow Datasets builders for MTOP and MultiATIS++ from local files.

Importing this module registers two builders, with one config per language:

  pqrnn_mtop/{en,de,es,fr,hi,th}                     splits train, validation, test
  pqrnn_multi_atis/{en,de,es,fr,pt,zh,ja,hi,tr}      splits train, validation, test

Neither downloads anything: both read a manual-download folder laid out like
`../shared/data` (`mtop/`, `mtop_train_flat/`, `multiatis/` in it; see
docs/DATA.md), with pqrnn's readers in non-strict mode (faulty rows are
skipped with a logged warning, as the readers document). Example:

  import pqrnn.data.tfds_builders  # registers the builders
  import tensorflow_datasets as tfds
  ds = tfds.load(
      "pqrnn_mtop/en", split="train", data_dir="/tmp/tfds",
      download_and_prepare_kwargs={"download_config": tfds.download.DownloadConfig(
          manual_dir="../shared/data")})

Each element is {"id", "language", "intent": string, "tokens", "tags":
[n] string}; `examples_from_tfds` turns a split back into Examples.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable

import tensorflow_datasets as tfds
from absl import logging

from pqrnn.data import catalog
from pqrnn.data.example import Example

_MTOP_CITATION = """@inproceedings{li-etal-2021-mtop,
  title = "{MTOP}: A Comprehensive Multilingual Task-Oriented Semantic Parsing Benchmark",
  author = "Li, Haoran and Arora, Abhinav and Chen, Shuohui and Gupta, Anchit and
            Gupta, Sonal and Mehdad, Yashar",
  booktitle = "Proceedings of EACL 2021",
  year = "2021",
  pages = "2950--2962",
}"""
_MULTIATIS_CITATION = """@inproceedings{xu-etal-2020-end,
  title = "End-to-End Slot Alignment and Recognition for Cross-Lingual {NLU}",
  author = "Xu, Weijia and Haider, Batool and Mansour, Saab",
  booktitle = "Proceedings of EMNLP 2020",
  year = "2020",
  pages = "5052--5063",
}"""


def _features() -> tfds.features.FeaturesDict:
    return tfds.features.FeaturesDict(
        {
            "id": tfds.features.Text(),
            "language": tfds.features.Text(),
            "intent": tfds.features.Text(),
            "tokens": tfds.features.Sequence(tfds.features.Text()),
            "tags": tfds.features.Sequence(tfds.features.Text()),
        }
    )


def _generate(examples: list[Example]) -> Iterable[tuple[str, dict]]:
    # Keys are positions: ids need not be unique across MTOP's train rows.
    for i, e in enumerate(examples):
        yield (
            f"{i:07d}",
            {
                "id": e.id,
                "language": e.language,
                "intent": e.intent,
                "tokens": list(e.tokens),
                "tags": list(e.tags),
            },
        )


def _read(
    manual_dir: pathlib.Path, dataset: str, language: str, split: str
) -> Iterable[tuple[str, dict]]:
    """(key, element) pairs of one split, read with pqrnn's non-strict reader."""
    path = catalog.split_path(manual_dir, dataset, language, split)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the manual_dir must hold the data laid out as in "
            "docs/DATA.md (mtop/<lang>/{eval,test}.txt, mtop_train_flat/<lang>/train.tsv, "
            "multiatis/{train,dev,test}_XX.tsv)"
        )
    examples, report = catalog.load_split(dataset, language, split, root=manual_dir)
    logging.info("pqrnn TFDS %s/%s %s: %s", dataset, language, split, report.summary())
    return _generate(examples)


class PqrnnMtop(tfds.core.GeneratorBasedBuilder):
    """MTOP v2 (eval/test) and MTOP train (flat), read from a manual_dir."""

    VERSION = tfds.core.Version("1.2.0")
    RELEASE_NOTES = {
        "1.0.0": "First release: pqrnn readers, README counts.",
        "1.1.0": "Train: slots no longer placed inside a longer word, French elisions before "
        "a slot kept whole (829 rows change).",
        "1.2.0": "Train: Thai text between slots segmented into words by ICU (9,496 th rows).",
    }
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name=lang, description=f"MTOP, language {lang}")
        for lang in catalog.MTOP_LANGUAGES
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Put MTOP's files in the manual_dir, laid out as:
      mtop/<lang>/eval.txt, mtop/<lang>/test.txt   (MTOP v2, 8 columns)
      mtop_train_flat/<lang>/train.tsv              (MTOP train, flat form)
    (pqrnn's docs/DATA.md describes both formats.)
    """

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=_features(),
            disable_shuffling=True,  # keep file order, like the readers
            homepage="https://fb.me/mtop_dataset",
            citation=_MTOP_CITATION,
            license="CC BY-SA 4.0",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual_dir = pathlib.Path(dl_manager.manual_dir)
        return {split: self._generate_examples(manual_dir, split) for split in catalog.SPLITS}

    def _generate_examples(self, manual_dir: pathlib.Path, split: str):
        yield from _read(manual_dir, "mtop", self.builder_config.name, split)


class PqrnnMultiAtis(tfds.core.GeneratorBasedBuilder):
    """MultiATIS++ (LDC2021T04), read from a manual_dir. Internal use only."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release: pqrnn readers, README counts."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name=lang, description=f"MultiATIS++, language {lang}")
        for lang in catalog.MULTIATIS_LANGUAGES
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    MultiATIS++ is LDC-licensed (LDC2021T04). Put its files in the manual_dir
    as multiatis/{train,dev,test}_XX.tsv (XX: EN DE ES FR PT ZH JA HI TR).
    """

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=_features(),
            disable_shuffling=True,  # keep file order, like the readers
            homepage="https://github.com/amazon-research/multiatis",
            citation=_MULTIATIS_CITATION,
            license="LDC User Agreement (LDC2021T04)",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual_dir = pathlib.Path(dl_manager.manual_dir)
        return {split: self._generate_examples(manual_dir, split) for split in catalog.SPLITS}

    def _generate_examples(self, manual_dir: pathlib.Path, split: str):
        yield from _read(manual_dir, "multiatis", self.builder_config.name, split)


def examples_from_tfds(dataset) -> list[Example]:
    """Examples from a split of these builders (a tf.data.Dataset of dicts)."""

    def text(value) -> str:
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    return [
        Example(
            id=text(row["id"]),
            language=text(row["language"]),
            tokens=tuple(text(t) for t in row["tokens"]),
            tags=tuple(text(t) for t in row["tags"]),
            intent=text(row["intent"]),
        )
        for row in tfds.as_numpy(dataset)
    ]
