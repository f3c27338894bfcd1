"""Deployment of pqrnn models: int8/float TFLite export, QAT, checks, benchmark.

Modules (import the ones you need; importing this package does not import
TensorFlow, so `read_model_card` works in a lean process):

- deploy_model: the flat pQRNN model that gets exported (QRNN recurrence in
  the PQRNN>QRNNPooling kernel).
- qat: quantization-aware training with tensorflow-model-optimization.
- converter: serving functions and the TFLite conversion.
- model_card: the JSON card every `.tflite` carries in its metadata.
- checks: op-list and prediction checks run before anything is written.
- quantize_run: QAT fine-tuning or PTQ of a run, scored on its dev split.
- exporter: the whole export of a training run.
- runner: runs an exported `.tflite` on utterances.
- benchmark: latency and memory in the TFLite benchmark tool's terms.

Binaries: export/quantize.py, export/export.py, export/benchmark.py
(docs/EXPORT.md).
"""

from pqrnn.export.model_card import ModelCardError, read_model_card

__all__ = ["ModelCardError", "read_model_card"]
