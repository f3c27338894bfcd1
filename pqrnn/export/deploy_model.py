"""The model that gets exported: a flat copy of a trained pQRNN model.

`pqrnn.models.build_joint_model` nests the bottleneck and the QRNN layers in
one `PQRNNEncoder` layer. Quantization-aware training needs them as
top-level layers (tfmot wraps top-level layers only), and the exported graph
should run the QRNN recurrence in the `PQRNN>QRNNPooling` kernel instead of
the training-time prefix scan. `build_deploy_model` therefore rebuilds the
same network flat, with the same weights:

    projection -> DeployDense bottleneck -> (Dropout -> DeployQRNN) x L
               -> DeployIntentHead, DeploySlotHead

`DeployQRNN` is `pqrnn.layers.QRNN` with its recurrence in the kernel
(`pqrnn.ops.qrnn_pooling`), which is differentiable, so the same model
fine-tunes under QAT and exports. Its outputs equal QRNN's to float rounding
(tests/test_export_deploy_model.py and test_export_qrnn_pooling.py check it).
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn import ops
from pqrnn.layers import QRNN, IntentHead, SlotHead
from pqrnn.layers._masking import (
    int32_lengths,
    resolve_training,
    valid_positions,
    zero_padding,
)

POOLING_CHOICES = ("op", "builtin")

# A forget-gate pre-activation this large makes sigmoid(f) == 1 in float32:
# how zoneout ("keep the previous state") is expressed on gates.
_KEEP_STATE_LOGIT = 30.0


@keras.utils.register_keras_serializable(package="pqrnn")
class DeployDense(keras.layers.Dense):
    """`keras.layers.Dense` that applies its kernel to [B, T, D] with one matmul.

    Dense's rank-3 path (`tf.tensordot`) converts to a FULLY_CONNECTED between
    ~10 shape ops (SHAPE, GATHER, REDUCE_PROD, PACK, RESHAPE) when B and T are
    dynamic; `tf.matmul` with a 2-D kernel converts to one FULLY_CONNECTED
    that keeps the leading dimensions. Same weights and values as Dense.
    """

    def call(self, inputs):
        if inputs.shape.rank != 3:
            return super().call(inputs)
        outputs = tf.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs


@keras.utils.register_keras_serializable(package="pqrnn")
class DeployQRNN(QRNN):
    """`pqrnn.layers.QRNN` whose fo-pooling runs in the PQRNN>QRNNPooling kernel.

    Same constructor, weights and outputs as `QRNN` (Bradbury et al., 2017,
    "Quasi-Recurrent Neural Networks"): the convolution computes every gate
    of both directions at once, then one C++ kernel applies tanh/sigmoid, the
    recurrence c_t = f c_{t-1} + (1 - f) z, h_t = o c_t, both directions and
    the merge. In a `.tflite` file that is one custom op per layer instead of
    a WHILE loop of builtins (docs/EXPORT.md has the measurements).

    With `gate_clip` c > 0, the gate pre-activations are clipped to [-c, c]
    (computed as a clip of gates / c to [-1, 1], then scaled back): tanh and
    sigmoid are flat beyond ±8 (1 - tanh(8) < 3e-7, sigmoid(-8) < 4e-4), and
    an int8 file then spends its 256 levels on that range instead of the
    widest gate seen in calibration (±60 on MTOP).

    The convolution output passes through `gates_activation` (the identity):
    the attribute quantization-aware training wraps to fake-quantize the
    gates, which the int8 model stores as int8 between CONV_2D and the
    kernel.

    Padding must come last (a prefix mask, as pqrnn's pipelines produce):
    the kernel reads each example's length, not a per-position mask. With
    `mask_inputs=False` the layer trusts its inputs to be zero at padded
    positions already (true of every DeployQRNN's output) and skips zeroing
    them, which saves the mask ops in a stack's later layers.

    Call arguments: as `QRNN`, plus `padding_mask`: optional bool [B, T] of
    real positions (`PaddingMask`'s output); when given, it is the mask the
    inputs are zeroed with (lengths still come from `sequence_length`), so a
    model computes its mask once for every layer that needs it.

    Example:
    >>> layer = DeployQRNN(units=4, direction="bidirectional")
    >>> layer(tf.random.normal([2, 5, 3]), sequence_length=tf.constant([5, 2])).shape
    TensorShape([2, 5, 8])
    """

    def __init__(self, *args, mask_inputs: bool = True, gate_clip: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if gate_clip < 0:
            raise ValueError(f"gate_clip={gate_clip} must be >= 0 (0: off)")
        self.mask_inputs = mask_inputs
        self.gate_clip = float(gate_clip)
        self.gates_activation = keras.activations.linear

    def call(self, inputs, sequence_length=None, mask=None, training=None, padding_mask=None):
        valid = None
        if self.mask_inputs:
            valid = (
                padding_mask
                if padding_mask is not None
                else valid_positions(inputs, sequence_length, mask)
            )
        if sequence_length is not None:
            lengths = int32_lengths(sequence_length)
        elif mask is not None:
            lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        elif valid is not None:
            lengths = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1)
        else:
            lengths = tf.fill(tf.shape(inputs)[:1], tf.shape(inputs)[1])
        k = self.kernel_width
        # As QRNN: one convolution with k - 1 zeros on each side serves both
        # directions; the backward gates of step t sit k - 1 rows later.
        left = k - 1 if self._forward else 0
        right = k - 1 if self._backward else 0
        x = zero_padding(inputs, valid)
        if left or right:
            x = tf.pad(x, [[0, 0], [left, right], [0, 0]])
        # conv1d spelled out as the conv2d it is, so that a 4-D kernel (the
        # QAT kernel quantizer's [1, k, D, C]) is used as is.
        kernel = self.kernel if self.kernel.shape.rank == 4 else tf.expand_dims(self.kernel, 0)
        bias = self.bias
        c = self.gate_clip
        if c:
            # gates / c clipped to [-1, 1]: CONV_2D fuses that clip as its
            # RELU_N1_TO_1 activation, so an int8 file's gates are quantized
            # over [-c, c] instead of their full calibrated range (EXPORT.md).
            kernel, bias = kernel / c, bias / c
        gates = tf.nn.conv2d(tf.expand_dims(x, 1), kernel, strides=1, padding="VALID")
        # Bias (and clip) before the squeeze: CONV_2D then fuses them.
        gates = tf.nn.bias_add(gates, bias)
        if c:
            gates = tf.clip_by_value(gates, -1.0, 1.0)
        gates = self.gates_activation(tf.squeeze(gates, 1))
        if c:
            gates = gates * c
        if resolve_training(training) and self.zoneout > 0.0:
            gates = self._zoneout(gates)
        return ops.qrnn_pooling(
            gates,
            lengths,
            direction=self.direction,
            merge_mode=self.merge_mode,
            backward_offset=left if self.direction == "bidirectional" else 0,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(mask_inputs=self.mask_inputs, gate_clip=self.gate_clip)
        return config

    def _zoneout(self, gates):
        # Keeping the state is f = 1; on gates that is a huge forget logit.
        z, f, o = tf.split(
            tf.reshape(gates, tf.concat([tf.shape(gates)[:2], [-1, 3, self.units]], 0)), 3, axis=3
        )
        keep = tf.random.uniform(tf.shape(f), dtype=f.dtype, seed=self.seed) < self.zoneout
        f = tf.where(keep, tf.fill(tf.shape(f), _KEEP_STATE_LOGIT), f)
        return tf.reshape(tf.concat([z, f, o], axis=3), tf.shape(gates))


@keras.utils.register_keras_serializable(package="pqrnn")
class PaddingMask(keras.layers.Layer):
    """bool [B, T] mask of real positions, from [B, T, ...] inputs and [B] lengths.

    `valid_positions` (the layers' own mask), computed once for the whole
    deploy model from the projection: in a `.tflite` file its int32 /
    bool ops (SHAPE, STRIDED_SLICE, RANGE, LESS), which XNNPACK does not
    delegate, then run once, before the first delegated op, instead of once
    per layer that masks, between delegated ops.

    Example:
    >>> PaddingMask()([tf.zeros([2, 3, 4]), tf.constant([3, 1])]).numpy()
    array([[ True,  True,  True],
           [ True, False, False]])
    """

    def call(self, inputs):
        sequence, sequence_length = inputs
        return valid_positions(sequence, sequence_length)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.utils.register_keras_serializable(package="pqrnn")
class DeployIntentHead(IntentHead):
    """`pqrnn.layers.IntentHead` with its per-token score as a `DeployDense`.

    Args:
      zeroed_inputs: the inputs are zero at padded positions already (true
        of DeployQRNN outputs), so the head skips zeroing them; the values
        are the same.
      *args, **kwargs: as `IntentHead`.

    Call arguments: as `IntentHead`, plus `padding_mask` (bool [B, T], wins
    over `sequence_length` and `mask`).
    """

    def __init__(self, *args, zeroed_inputs: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.zeroed_inputs = zeroed_inputs
        self.attention_score = DeployDense(1, use_bias=False, name="attention_score")

    def call(self, inputs, sequence_length=None, mask=None, training=None, padding_mask=None):
        if padding_mask is None and not self.zeroed_inputs:
            return super().call(inputs, sequence_length, mask, training)
        # IntentHead.call with the mask given and, with zeroed inputs, no
        # zeroing: the same ops on the same values.
        valid = padding_mask
        if valid is None:
            valid = valid_positions(inputs, sequence_length, mask)
        encodings = inputs if self.zeroed_inputs else zero_padding(inputs, valid)
        return self._pool(encodings, valid, training)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(zeroed_inputs=self.zeroed_inputs)
        return config


@keras.utils.register_keras_serializable(package="pqrnn")
class DeploySlotHead(SlotHead):
    """`pqrnn.layers.SlotHead` with its classifier as a `DeployDense`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.classifier = DeployDense(self.num_tags, name="classifier")


def build_deploy_model(
    model: keras.Model, pooling: str = "op", gate_clip: float = 0.0
) -> keras.Model:
    """A flat copy of a `build_joint_model` model, with its weights.

    Args:
      model: a model from `pqrnn.models.build_joint_model` (layers "encoder",
        "intent" and "slots"), trained or not.
      pooling: "op" (DeployQRNN: the PQRNN>QRNNPooling kernel) or "builtin"
        (pqrnn.layers.QRNN: its prefix scan, which converts to TFLite
        builtins in a WHILE loop).
      gate_clip: DeployQRNN's `gate_clip` (pooling "op" only; 0: off).

    Returns:
      A tf_keras functional model with the same inputs ({"projection",
      "sequence_length"}), outputs ({"intent", "slots"} logits) and values.

    Raises:
      ValueError: `model` is not a pQRNN joint model, or pooling is unknown.
    """
    if pooling not in POOLING_CHOICES:
        raise ValueError(f"pooling={pooling!r} must be one of {POOLING_CHOICES}")
    if gate_clip and pooling != "op":
        raise ValueError("gate_clip needs pooling='op' (the builtin scan has no clip)")
    try:
        encoder = model.get_layer("encoder")
        intent_head = model.get_layer("intent")
        slot_head = model.get_layer("slots")
    except ValueError as e:
        raise ValueError(f"{model.name}: not a pQRNN joint model ({e})") from e
    if not hasattr(encoder, "qrnn_layers"):
        raise ValueError(
            f"{model.name}: its encoder is a {type(encoder).__name__}, not a PQRNNEncoder; "
            "only pQRNN models have a deploy model (baselines export as they are)"
        )
    feature_size = model.input["projection"].shape[-1] if isinstance(model.input, dict) else None
    projection = keras.Input(shape=(None, feature_size), dtype=tf.float32, name="projection")
    sequence_length = keras.Input(shape=(), dtype=tf.int32, name="sequence_length")
    pairs = []  # (new layer, trained layer) whose weights are copied

    def clone(layer, cls=None, **overrides):
        new = (cls or type(layer)).from_config({**layer.get_config(), **overrides})
        pairs.append((new, layer))
        return new

    # One padding mask for the first QRNN layer and the intent head (every
    # DeployQRNN zeroes its padded outputs: only the first one needs to zero
    # its inputs, the bottleneck's, and the head's inputs are zero there).
    valid = None
    if pooling == "op":
        valid = PaddingMask(name="padding_mask")([projection, sequence_length])
    x = clone(encoder.bottleneck_dense, DeployDense)(projection)
    for i, (dropout, qrnn) in enumerate(
        zip(encoder.dropout_layers, encoder.qrnn_layers, strict=True)
    ):
        x = clone(dropout)(x)
        if pooling == "op":
            layer = clone(qrnn, DeployQRNN, mask_inputs=i == 0, gate_clip=gate_clip)
            x = layer(x, sequence_length=sequence_length, padding_mask=valid if i == 0 else None)
        else:
            x = clone(qrnn, QRNN)(x, sequence_length=sequence_length)
    if pooling == "op":
        intent = clone(intent_head, DeployIntentHead, zeroed_inputs=True)(
            x, sequence_length=sequence_length, padding_mask=valid
        )
    else:
        intent = clone(intent_head, DeployIntentHead)(x, sequence_length=sequence_length)
    slots = clone(slot_head, DeploySlotHead)(x)
    deploy = keras.Model(
        inputs={"projection": projection, "sequence_length": sequence_length},
        outputs={"intent": intent, "slots": slots},
        name=f"{model.name}_deploy",
    )
    for new, old in pairs:
        _copy_weights(old, new)
    return deploy


def build_deploy_baseline(model: keras.Model) -> keras.Model:
    """The exported core of a baseline (`pqrnn.models.baselines`): no lookup.

    Inputs {"token_ids" [B, T] int32 (the vocabulary lookup happens in the
    app), "sequence_length" [B]}; the trained embedding and encoder (shared,
    not copied), then the heads as `DeployIntentHead`/`DeploySlotHead` with
    their weights, as for pQRNN. The encoder runs without a padding mask: a
    baseline `.tflite` takes one utterance per call, where the mask is all
    true (see `pqrnn.export.converter.tokens_serving_function` for why).
    """
    try:
        embedding, encoder = model.get_layer("embedding"), model.get_layer("encoder")
        intent_head, slot_head = model.get_layer("intent"), model.get_layer("slots")
    except ValueError as e:
        raise ValueError(f"{model.name}: not a pqrnn baseline model ({e})") from e
    token_ids = keras.Input(shape=(None,), dtype=tf.int32, name="token_ids")
    sequence_length = keras.Input(shape=(), dtype=tf.int32, name="sequence_length")
    encodings = encoder(embedding(token_ids))
    intent = DeployIntentHead.from_config(intent_head.get_config())
    slots = DeploySlotHead.from_config(slot_head.get_config())
    outputs = {
        "intent": intent(encodings, sequence_length=sequence_length),
        "slots": slots(encodings),
    }
    _copy_weights(intent_head, intent)
    _copy_weights(slot_head, slots)
    return keras.Model(
        inputs={"token_ids": token_ids, "sequence_length": sequence_length},
        outputs=outputs,
        name=f"{model.name}_deploy",
    )


def _copy_weights(source: keras.layers.Layer, target: keras.layers.Layer) -> None:
    """Copies weights, sublayer by sublayer name for composite layers (the
    heads track a replaced sublayer last, so plain weight order differs)."""

    def parts(layer):
        subs = {m.name: m for m in layer.submodules if isinstance(m, keras.layers.Layer)}
        return {name: m for name, m in subs.items() if m.weights} or {layer.name: layer}

    sources, targets = parts(source), parts(target)
    if sorted(sources) != sorted(targets):
        raise ValueError(
            f"{source.name}: sublayers {sorted(sources)} do not match the deploy layer's "
            f"{sorted(targets)}"
        )
    for name, layer in targets.items():
        layer.set_weights(sources[name].get_weights())
