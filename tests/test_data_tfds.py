"""Tests of the TFDS builders (pqrnn_mtop, pqrnn_multi_atis) on fixtures."""

import pathlib

import pytest

# tensorflow-datasets 4.9.10 imports importlib_resources (an etils[epath] extra)
# when it prepares a dataset; requirements.txt must pin it.
pytest.importorskip("importlib_resources", reason="pip install importlib_resources (TFDS needs it)")

import pqrnn  # noqa: E402  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

# isort: split
import tensorflow_datasets as tfds  # noqa: E402

import pqrnn.data.tfds_builders  # noqa: E402  (registers the builders)
from pqrnn.data import read_mtop, read_mtop_train_flat, read_multiatis  # noqa: E402
from pqrnn.data.tfds_builders import examples_from_tfds  # noqa: E402

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def download_config():
    return tfds.download.DownloadConfig(manual_dir=str(FIXTURES), try_download_gcs=False)


def test_builders_are_registered_with_language_configs():
    names = tfds.list_builders(with_community_datasets=False)
    assert {"pqrnn_mtop", "pqrnn_multi_atis"} <= set(names)
    assert [c.name for c in pqrnn.data.tfds_builders.PqrnnMtop.BUILDER_CONFIGS] == [
        "en",
        "de",
        "es",
        "fr",
        "hi",
        "th",
    ]


def test_mtop_builder_matches_readers(tmp_path):
    splits = tfds.load(
        "pqrnn_mtop/en",
        data_dir=str(tmp_path),
        download_and_prepare_kwargs={"download_config": download_config()},
    )
    assert set(splits) == {"train", "validation", "test"}
    assert (
        examples_from_tfds(splits["train"])
        == read_mtop_train_flat(FIXTURES / "mtop_train_flat" / "en" / "train.tsv")[0]
    )
    assert (
        examples_from_tfds(splits["validation"])
        == read_mtop(FIXTURES / "mtop" / "en" / "eval.txt")[0]
    )
    assert examples_from_tfds(splits["test"]) == read_mtop(FIXTURES / "mtop" / "en" / "test.txt")[0]


def test_multi_atis_builder_matches_readers(tmp_path):
    builder = tfds.builder("pqrnn_multi_atis/en", data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=download_config())
    assert builder.info.splits["train"].num_examples == 5
    for split, name in (("train", "train"), ("validation", "dev"), ("test", "test")):
        expected = read_multiatis(FIXTURES / "multiatis" / f"{name}_EN.tsv")[0]
        assert examples_from_tfds(builder.as_dataset(split=split)) == expected


def test_missing_manual_files_name_the_layout(tmp_path):
    builder = tfds.builder("pqrnn_mtop/de", data_dir=str(tmp_path))
    with pytest.raises(Exception, match=r"mtop_train_flat/de/train\.tsv not found"):
        builder.download_and_prepare(download_config=download_config())
