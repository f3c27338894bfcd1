"""tf_keras layers of pqrnn (one public class per module)."""

from pqrnn.layers.bilstm_encoder import BiLSTMEncoder
from pqrnn.layers.intent_head import IntentHead
from pqrnn.layers.pqrnn_encoder import PQRNNEncoder
from pqrnn.layers.qrnn import QRNN
from pqrnn.layers.sequence_string_projection import SequenceStringProjection
from pqrnn.layers.slot_head import SlotHead
from pqrnn.layers.transformer_encoder import TransformerEncoder

__all__ = [
    "BiLSTMEncoder",
    "IntentHead",
    "PQRNNEncoder",
    "QRNN",
    "SequenceStringProjection",
    "SlotHead",
    "TransformerEncoder",
]
