"""tf_keras layers of pqrnn (one public class per module)."""

from pqrnn.layers.sequence_string_projection import SequenceStringProjection

__all__ = ["SequenceStringProjection"]
