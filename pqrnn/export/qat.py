"""Quantization-aware training of a pQRNN deploy model with tfmot.

TensorFlow Model Optimization (tfmot) simulates int8 during training with
fake-quantization ops; the TFLite converter later reads their ranges. It only
wraps top-level layers of a functional tf_keras model and only knows Keras's
own layers, so this module gives it:

- a `QuantizeConfig` per pqrnn deploy layer (`pqrnn.export.deploy_model`),
  saying which weights to quantize and which activations to fake-quantize;
- a quantize scheme that leaves integer inputs alone (tfmot's default puts a
  fake-quant on every model input; `sequence_length` is int32).

Where the int8 boundaries are (the fake-quant points equal the int8 tensors
of the exported model):

  projection ---Q--> FULLY_CONNECTED+ReLU (bottleneck) ---Q--> [mask MUL, PAD]
  -> CONV_2D (per-channel int8 weights) ---Q (gates)--> DEQUANTIZE
  -> PQRNN>QRNNPooling (float) -> QUANTIZE ---Q (layer output)--> next layer
  -> heads: FULLY_CONNECTED scores ---Q--> softmax pooling (calibrated)
     -> FULLY_CONNECTED ---Q--> intent logits; FULLY_CONNECTED ---Q--> slot logits

Tensors inside the heads' masked softmax pooling have no fake-quant; the
converter calibrates them on the representative dataset.

Example:
    >>> qat_model = build_qat_model(build_deploy_model(trained.model))
    >>> fine_tune(qat_model, config, train_examples, vocabs, epochs=1)
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import ml_collections
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras
from absl import logging

from pqrnn.data.example import Example
from pqrnn.data.vocab import LabelVocabs
from pqrnn.export import deploy_model
from pqrnn.training import experiment, trainer

_quantizers = tfmot.quantization.keras.quantizers
_default_8bit = tfmot.quantization.keras.default_8bit


class KernelQuantizer(_quantizers.LastValueQuantizer):
    """tfmot's weight quantizer, extended to Conv1D kernels (per output channel).

    tfmot's per-axis quantizer handles 2-D and 4-D kernels only, and the
    TFLite converter cannot carry per-channel parameters through a reshape.
    A Conv1D kernel [k, D, C] is therefore quantized, and returned, as the
    4-D [1, k, D, C] kernel of the CONV_2D it becomes; DeployQRNN accepts
    either rank.
    """

    def __call__(self, inputs, training, weights, **kwargs):
        if self.per_axis and inputs.shape.rank == 3:
            inputs = tf.expand_dims(inputs, 0)
        return super().__call__(inputs, training, weights, **kwargs)


def _weights_quantizer(per_axis: bool):
    # Symmetric, narrow range: what TFLite's int8 kernels require of weights.
    return KernelQuantizer(num_bits=8, per_axis=per_axis, symmetric=True, narrow_range=True)


class FirstBatchMovingAverageQuantizer(_quantizers.MovingAverageQuantizer):
    """tfmot's activation quantizer, with its range started from real data.

    tfmot starts every activation range at [-6, 6] and moves it with an
    exponential moving average of decay 0.999, so a fine-tune of a few
    hundred steps ends with ranges still near [-6, 6] (a QRNN output in
    [-1, 1] would get 22 of its 256 levels). Here the first training batch
    sets the range (min <= 0 <= max, as TFLite needs); the moving average
    refines it from there.
    """

    def build(self, tensor_shape, name, layer):
        weights = super().build(tensor_shape, name, layer)
        weights["initialized"] = layer.add_weight(
            name + "_initialized", initializer="zeros", trainable=False, shape=()
        )
        return weights

    def __call__(self, inputs, training, weights, **kwargs):
        if training:

            def first_batch():
                assigns = [
                    weights["min_var"].assign(tf.minimum(tf.reduce_min(inputs), 0.0)),
                    weights["max_var"].assign(tf.maximum(tf.reduce_max(inputs), 0.0)),
                    weights["initialized"].assign(1.0),
                ]
                with tf.control_dependencies(assigns):
                    return tf.constant(1.0)

            started = tf.cond(weights["initialized"] > 0.0, lambda: tf.constant(0.0), first_batch)
            with tf.control_dependencies([started]):
                inputs = tf.identity(inputs)
        return super().__call__(inputs, training, weights, **kwargs)


def _activation_quantizer():
    return FirstBatchMovingAverageQuantizer(
        num_bits=8, per_axis=False, symmetric=False, narrow_range=False
    )


class SublayerQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """Quantizes weights and activations held by a layer or its sublayers.

    Args:
      weights: (path, per_axis) pairs, path a dotted attribute path from the
        layer to a weight, e.g. "classifier.kernel".
      activations: paths of activation callables, e.g. "classifier.activation";
        tfmot fake-quantizes after them ("linear", "relu").
      quantize_output: fake-quantize the layer's output as well.
    """

    def __init__(
        self,
        weights: Sequence[tuple[str, bool]] = (),
        activations: Sequence[str] = (),
        quantize_output: bool = False,
    ):
        self.weights = [tuple(w) for w in weights]
        self.activations = list(activations)
        self.quantize_output = quantize_output

    @staticmethod
    def _owner_and_name(layer, path: str):
        *parents, name = path.split(".")
        owner = layer
        for parent in parents:
            owner = getattr(owner, parent)
        return owner, name

    def get_weights_and_quantizers(self, layer):
        return [
            (getattr(*self._owner_and_name(layer, path)), _weights_quantizer(per_axis))
            for path, per_axis in self.weights
        ]

    def get_activations_and_quantizers(self, layer):
        return [
            (getattr(*self._owner_and_name(layer, path)), _activation_quantizer())
            for path in self.activations
        ]

    def set_quantize_weights(self, layer, quantize_weights):
        for (path, _), value in zip(self.weights, quantize_weights, strict=True):
            setattr(*self._owner_and_name(layer, path), value)

    def set_quantize_activations(self, layer, quantize_activations):
        for path, value in zip(self.activations, quantize_activations, strict=True):
            setattr(*self._owner_and_name(layer, path), value)

    def get_output_quantizers(self, layer):
        return [_activation_quantizer()] if self.quantize_output else []

    def get_config(self):
        return {
            "weights": self.weights,
            "activations": self.activations,
            "quantize_output": self.quantize_output,
        }


def quantize_config_for(layer: keras.layers.Layer):
    """The QuantizeConfig of a deploy-model layer, or None (tfmot's default)."""
    if isinstance(layer, deploy_model.DeployQRNN):
        # Per-channel conv weights and the gates (CONV_2D's int8 output).
        # The output is left to calibration: the kernel is float, and a
        # fake-quant there would become a QUANTIZE -> DEQUANTIZE pair that
        # the converter then quantizes again for the next int8 op.
        return SublayerQuantizeConfig(weights=[("kernel", True)], activations=["gates_activation"])
    if isinstance(layer, deploy_model.DeployIntentHead):
        return SublayerQuantizeConfig(
            weights=[("attention_score.kernel", False), ("classifier.kernel", False)],
            activations=["attention_score.activation", "classifier.activation"],
        )
    if isinstance(layer, deploy_model.DeploySlotHead):
        return SublayerQuantizeConfig(
            weights=[("classifier.kernel", False)], activations=["classifier.activation"]
        )
    if isinstance(layer, deploy_model.DeployDense):
        return SublayerQuantizeConfig(weights=[("kernel", False)], activations=["activation"])
    if isinstance(layer, deploy_model.QRNN):
        # The builtin recurrence: weights and output only (its internals are
        # calibrated).
        return SublayerQuantizeConfig(weights=[("kernel", True)], quantize_output=True)
    return None


class _LayoutTransform(_default_8bit.Default8BitQuantizeLayoutTransform):
    """tfmot's default layout transforms, minus fake-quant on integer inputs."""

    def apply(self, model, layer_quantize_map):
        integer_inputs = {
            layer.name
            for layer in model._input_layers  # noqa: SLF001  (tfmot works on the same list)
            if not tf.as_dtype(layer.dtype).is_floating
        }
        layer_quantize_map = {
            name: value for name, value in layer_quantize_map.items() if name not in integer_inputs
        }
        return super().apply(model, layer_quantize_map)


class PQRNNQuantizeScheme(_default_8bit.Default8BitQuantizeScheme):
    """tfmot's 8-bit scheme with integer model inputs left unquantized."""

    def get_layout_transformer(self):
        return _LayoutTransform()


def custom_objects() -> dict:
    """Classes a QAT model needs to be cloned, saved or loaded."""
    return {
        "SublayerQuantizeConfig": SublayerQuantizeConfig,
        "KernelQuantizer": KernelQuantizer,
        "FirstBatchMovingAverageQuantizer": FirstBatchMovingAverageQuantizer,
        "DeployDense": deploy_model.DeployDense,
        "DeployQRNN": deploy_model.DeployQRNN,
        "DeployIntentHead": deploy_model.DeployIntentHead,
        "DeploySlotHead": deploy_model.DeploySlotHead,
        "PaddingMask": deploy_model.PaddingMask,
        "QRNN": deploy_model.QRNN,
    }


def build_qat_model(model: keras.Model) -> keras.Model:
    """Wraps a deploy model (`build_deploy_model`) for quantization-aware training.

    Returns a new model with the same weights, inputs and outputs whose
    weights and activations pass through fake-quantization.
    """

    def annotate(layer):
        config = quantize_config_for(layer)
        if config is None:
            return layer  # Input and Dropout layers: tfmot's defaults.
        return tfmot.quantization.keras.quantize_annotate_layer(layer, quantize_config=config)

    with tfmot.quantization.keras.quantize_scope(custom_objects()):
        annotated = keras.models.clone_model(model, clone_function=annotate)
        annotated.set_weights(model.get_weights())
        return tfmot.quantization.keras.quantize_apply(annotated, scheme=PQRNNQuantizeScheme())


def fine_tune(
    model: keras.Model,
    config: ml_collections.ConfigDict,
    examples: Sequence[Example],
    vocabs: LabelVocabs,
    *,
    epochs: float,
    learning_rate: float,
    batch_size: int | None = None,
    log_every: int = 50,
) -> dict[str, float]:
    """Fine-tunes a QAT model with the training loss (trainer.joint_loss).

    Constant learning rate with AdamW; dropout and zoneout on as in training;
    the projection runs in the tf.data pipeline (with the config's
    distortion), so the model sees float inputs.

    Args:
      model: the QAT model (`build_qat_model`).
      config: the training config of the run (data, projection, train).
      examples: training examples.
      vocabs: the run's label vocabularies.
      epochs: passes over `examples` (fractions allowed).
      learning_rate: AdamW learning rate.
      batch_size: default config.train.batch_size.
      log_every: steps between progress lines.

    Returns:
      {"steps", "loss" (mean of the last `log_every` steps), "seconds"}.
    """
    keras.utils.set_random_seed(config.train.seed)  # Dropout and zoneout masks.
    batch_size = batch_size or config.train.batch_size
    steps_per_epoch = max(1, -(-len(examples) // batch_size))
    total_steps = max(1, int(round(epochs * steps_per_epoch)))
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate,
        weight_decay=config.train.weight_decay,
        clipnorm=config.train.clip_norm,
    )

    @tf.function(reduce_retracing=True)
    def step(features, labels):
        with tf.GradientTape() as tape:
            outputs = model(
                {
                    "projection": features["projection"],
                    "sequence_length": features["sequence_length"],
                },
                training=True,
            )
            losses = trainer.joint_loss(
                outputs, labels, batch_size, config.train.slot_loss_weight, 1
            )
        grads = tape.gradient(losses.total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return losses.total

    start, done, recent = time.time(), 0, []
    epoch = 0
    while done < total_steps:
        dataset = experiment.make_dataset(
            config, examples, vocabs, training=True, batch_size=batch_size, epoch=1000 + epoch
        )
        for features, labels in dataset:
            recent = (recent + [float(step(features, labels))])[-log_every:]
            done += 1
            if done % log_every == 0 or done == total_steps:
                logging.info(
                    "QAT step %d/%d  loss %.4f  %.0f s",
                    done,
                    total_steps,
                    sum(recent) / len(recent),
                    time.time() - start,
                )
            if done >= total_steps:
                break
        epoch += 1
    return {"steps": done, "loss": sum(recent) / len(recent), "seconds": time.time() - start}


def checkpoint_prefix(workdir: str) -> str:
    """Where `export/quantize.py --method=qat` keeps the QAT weights."""
    return os.path.join(workdir, "qat", "qat_model")


def save_qat_model(model: keras.Model, workdir: str) -> str:
    """Writes the QAT model's weights (quantizer ranges included); returns the path."""
    return tf.train.Checkpoint(model=model).write(checkpoint_prefix(workdir))


def restore_qat_model(deploy: keras.Model, workdir: str) -> keras.Model:
    """Rebuilds the QAT model of `deploy` and loads the weights QAT wrote.

    Raises:
      FileNotFoundError: no QAT weights in `workdir` (run quantize first).
    """
    prefix = checkpoint_prefix(workdir)
    if not tf.io.gfile.exists(prefix + ".index"):
        raise FileNotFoundError(
            f"no QAT weights at {prefix}: run `python export/quantize.py --workdir={workdir} "
            "--method=qat` first"
        )
    model = build_qat_model(deploy)
    tf.train.Checkpoint(model=model).read(prefix).assert_existing_objects_matched()
    return model
