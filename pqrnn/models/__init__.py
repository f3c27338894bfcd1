"""pqrnn models: the pQRNN joint intent + slot model, baselines, losses and metrics."""

from pqrnn.models import losses
from pqrnn.models.baselines import build_bilstm_model, build_transformer_model
from pqrnn.models.config import BiLSTMConfig, PQRNNConfig, TransformerConfig
from pqrnn.models.joint import build_joint_model
from pqrnn.models.metrics import MaskedSlotAccuracy
from pqrnn.models.sizing import count_params, vocab_size_for_budget
from pqrnn.models.vocabulary import build_vocabulary

__all__ = [
    "BiLSTMConfig",
    "MaskedSlotAccuracy",
    "PQRNNConfig",
    "TransformerConfig",
    "build_bilstm_model",
    "build_joint_model",
    "build_transformer_model",
    "build_vocabulary",
    "count_params",
    "losses",
    "vocab_size_for_budget",
]
