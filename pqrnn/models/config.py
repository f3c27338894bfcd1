"""Model configs: plain dataclasses whose defaults are the default models.

Override single fields with `dataclasses.replace(PQRNNConfig(), num_layers=2)`
or build one from a dict with `PQRNNConfig.from_dict(...)` (unknown keys are
an error, not silently ignored).

Sizing: the budget is an int8 TFLite model of at most 600 KB. Measured with
full-integer post-training quantization (TF 2.21), the file holds one byte
per parameter plus ~90 KB of graph and quantization parameters (~75 KB with
tensor names stripped), so the parameters must stay near 500K. For MTOP
English (113 intents, 149 BIO slot tags):

| model | parameters |
|---|---|
| `PQRNNConfig()` | 489,446 (bottleneck 196,704 + 2 QRNN layers 258,816 + heads 33,926) |
| `TransformerConfig()` | 489,798 (5,757-word vocabulary: 368,512 of it embeddings) |
| `BiLSTMConfig()` | 489,798 (6,090-word vocabulary: 389,824 of it embeddings) |

The baselines spend most of their budget on the embedding table, which is
the point the pQRNN paper makes; `pqrnn.models.vocab_size_for_budget`
re-derives their vocabulary caps for other label sets or budgets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


def _from_dict(cls, values: Mapping[str, Any]):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {unknown}; known: {sorted(known)}")
    return cls(**values)


@dataclasses.dataclass
class PQRNNConfig:
    """The pQRNN intent + slot model (`pqrnn.models.build_joint_model`).

    Where the defaults come from. The architecture follows Kaliamoorthi et
    al., 2021, "Distilling Large Language Models into Tiny and Effective
    Students using pQRNN" and its public code (tensorflow/models
    research/seq_flow_lite, models/pqrnn.py and layers/qrnn_layers.py):
    projection -> dense bottleneck -> stacked bidirectional fo-pooling QRNN
    layers with concatenated directions, QRNN kernel width 3, attention
    pooling. The sizes are ours, not the paper's MTOP student (we could not
    check its exact sizes here): seq_flow_lite's sample QRNN config (state
    128, 3 layers, bottleneck 128) alone holds ~1.4M parameters, over this
    project's 600 KB int8 budget. Within ~490K parameters, width of the
    projection matters most: a token's vector is the bottleneck applied to
    its random ternary hash, so the bottleneck's F x 96 weights are all the
    model has to tell tokens apart. F = 2048 with 2 QRNN layers (state 64)
    beats F = 512 with 3 layers at the same parameter count and the same
    multiply-accumulates per token by 5.1 exact-match points on MultiATIS++
    validation and 4.5 on MTOP; F = 4096 with 1 layer is no better
    (docs/RESULTS.md, tools/screen_pqrnn.sh). The default lands at 489,446
    parameters with MTOP English's 113 intents and 149 slot tags. Zoneout
    and dropout default to 0: at this size pQRNN underfits, and on
    MultiATIS++ English zoneout 0.1 + dropout 0.1 cost 12.3 exact-match
    points (49.8 -> 62.2 without them; docs/RESULTS.md,
    tools/ablate_pqrnn_en.sh). Set them for larger models.

    Fields:
      feature_size: int, F of the projection (SequenceStringProjection's
        feature_size must match).
      bottleneck: int, dense bottleneck width.
      qrnn_state: int, QRNN state per direction (encodings are 2x wide).
      num_layers: int, stacked bidirectional QRNN layers.
      kernel_width: int, QRNN convolution width.
      zoneout: float, QRNN zoneout probability (training only).
      dropout: float, dropout before each QRNN layer and in the heads.
      bottleneck_activation: str, activation of the bottleneck.
      merge_mode: str, "concat" or "sum" of the QRNN directions.

    Example:
    >>> config = dataclasses.replace(PQRNNConfig(), num_layers=2)
    >>> PQRNNConfig.from_dict(config.to_dict()) == config
    True
    """

    feature_size: int = 2048
    bottleneck: int = 96
    qrnn_state: int = 64
    num_layers: int = 2
    kernel_width: int = 3
    zoneout: float = 0.0
    dropout: float = 0.0
    bottleneck_activation: str = "relu"
    merge_mode: str = "concat"

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PQRNNConfig:
        return _from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BiLSTMConfig:
    """The BiLSTM baseline (`pqrnn.models.build_bilstm_model`).

    Word embeddings learned from scratch, one bidirectional LSTM layer, the
    same heads as pQRNN. The paper's LSTM baseline used large pre-trained
    embeddings (140x pQRNN's size); this one is held to pQRNN's parameter
    budget instead: 64-d embeddings and 64 units (66K parameters) plus the
    heads (34K) leave room for a 6,090-word vocabulary, 489,798 parameters
    on MTOP English, as many as `PQRNNConfig()` (the most frequent words;
    the rest share one OOV embedding).

    Fields:
      embedding_dim: int, word embedding width.
      lstm_units: int, LSTM units per direction.
      num_layers: int, stacked BiLSTM layers.
      dropout: float, dropout before each LSTM layer and in the heads.
      max_vocab_size: int, most frequent words kept (excluding OOV).

    Example:
    >>> BiLSTMConfig(lstm_units=32).to_dict()["lstm_units"]
    32
    """

    embedding_dim: int = 64
    lstm_units: int = 64
    num_layers: int = 1
    dropout: float = 0.1
    max_vocab_size: int = 6090

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> BiLSTMConfig:
        return _from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TransformerConfig:
    """The transformer baseline (`pqrnn.models.build_transformer_model`).

    Word embeddings plus learned positions, pre-LN transformer blocks, the
    same heads as pQRNN; the paper compares pQRNN with a transformer of the
    same parameter count. Width 64 with 4 heads of 16 and a 4x feed-forward
    (256) in 2 blocks costs 100K parameters, the position table 4K, the
    heads 17K; the rest of pQRNN's budget buys a 5,757-word vocabulary
    (489,798 parameters on MTOP English, as many as `PQRNNConfig()`).

    Fields:
      hidden_size: int, embedding and model width.
      num_layers: int, transformer blocks.
      num_heads: int, attention heads (must divide hidden_size).
      intermediate_size: int, feed-forward hidden width.
      max_length: int, longest input in tokens (position table size).
      dropout: float, dropout in the encoder and the heads.
      max_vocab_size: int, most frequent words kept (excluding OOV).

    Example:
    >>> TransformerConfig.from_dict({"num_layers": 4}).num_layers
    4
    """

    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 256
    max_length: int = 64
    dropout: float = 0.1
    max_vocab_size: int = 5757

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TransformerConfig:
        return _from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
