"""Data readers, label vocabularies and tf.data pipelines of pqrnn.

Readers return `(list[Example], ReadReport)`; docs/DATA.md describes the
formats, flags and counts. Importing this package does not import
TensorFlow: `pqrnn.data.make_dataset`, `make_token_dataset`,
`predictions_from_ids` and `IGNORE_ID` load `pqrnn.data.pipeline` on first
use (they are not in `__all__`), and the TFDS builders register when
`pqrnn.data.tfds_builders` is imported.
"""

from pqrnn.data.catalog import (
    MTOP_LANGUAGES,
    MULTIATIS_LANGUAGES,
    SPLITS,
    find_data_root,
    load_split,
    split_path,
)
from pqrnn.data.example import (
    DataFormatError,
    Example,
    Issue,
    ReadReport,
    is_valid_tag,
    normalize_tokens,
)
from pqrnn.data.mtop import parse_flat, read_mtop, read_mtop_train_flat
from pqrnn.data.multiatis import read_multiatis
from pqrnn.data.tokenizer import split_whitespace, tokenize
from pqrnn.data.user_tsv import read_tsv, write_tsv
from pqrnn.data.vocab import UNKNOWN_LABEL, LabelVocab, LabelVocabs, UnknownLabelError

_PIPELINE_NAMES = ("make_dataset", "make_token_dataset", "predictions_from_ids", "IGNORE_ID")


def __getattr__(name: str):
    if name in _PIPELINE_NAMES:
        from pqrnn.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'pqrnn.data' has no attribute {name!r}")


__all__ = [
    "MTOP_LANGUAGES",
    "MULTIATIS_LANGUAGES",
    "SPLITS",
    "UNKNOWN_LABEL",
    "DataFormatError",
    "Example",
    "Issue",
    "LabelVocab",
    "LabelVocabs",
    "ReadReport",
    "UnknownLabelError",
    "find_data_root",
    "is_valid_tag",
    "load_split",
    "normalize_tokens",
    "parse_flat",
    "read_mtop",
    "read_mtop_train_flat",
    "read_multiatis",
    "read_tsv",
    "split_path",
    "split_whitespace",
    "tokenize",
    "write_tsv",
]
