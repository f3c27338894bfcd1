"""pqrnn: tiny embedding-free text models for on-device NLU.

Importing pqrnn pins Keras to tf_keras (Keras 2): TensorFlow Model Optimization
only quantizes tf_keras models, and importing it flips `TF_USE_LEGACY_KERAS` as a
side effect, so we set the variable once here, before TensorFlow is imported.
"""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
