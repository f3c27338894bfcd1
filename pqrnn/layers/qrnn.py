"""Quasi-recurrent neural network layer (fo-pooling) for tf_keras."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from pqrnn.layers._masking import resolve_training, valid_positions, zero_padding

DIRECTIONS = ("forward", "backward", "bidirectional")
MERGE_MODES = ("concat", "sum")


def fo_pool(forget, candidate):
    """Solves c_t = forget_t * c_{t-1} + candidate_t (c_{-1} = 0) along axis 1.

    A Hillis-Steele prefix scan: after the step with stride d, position t
    holds the recurrence restarted at t - 2d + 1, so ceil(log2 T) steps of
    whole-tensor PAD, STRIDED_SLICE, MUL and ADD solve it. This converts to
    TFLite builtins with dynamic batch and time (tf.scan's TensorList does
    not once the batch is dynamic) and runs log2(T) loop iterations instead
    of T. The forget gates lie in [0, 1], so the running products only shrink
    and cannot overflow. Positions where forget = 1 and candidate = 0 are the
    identity: padding folded in that way leaves real positions bit-identical.

    Args:
      forget: float [B, T, C] multipliers.
      candidate: float [B, T, C] additive terms, the same shape.

    Returns:
      float [B, T, C], the states c_t.
    """
    steps = tf.shape(forget)[1]

    def delayed(x, stride, fill):
        # x shifted `stride` steps later in time; the first steps hold `fill`.
        shifted = tf.pad(x, [[0, 0], [stride, 0], [0, 0]], constant_values=fill)[:, :steps]
        shifted.set_shape(x.shape)  # a dynamic pad loses the static shape
        return shifted

    def body(stride, f, c):
        c = c + f * delayed(c, stride, 0.0)
        f = f * delayed(f, stride, 1.0)
        return stride * 2, f, c

    _, _, states = tf.while_loop(
        lambda stride, f, c: stride < steps, body, (tf.constant(1), forget, candidate)
    )
    return states


@keras.utils.register_keras_serializable(package="pqrnn")
class QRNN(keras.layers.Layer):
    """Quasi-recurrent layer: a gated 1-D convolution plus fo-pooling.

    Bradbury et al., 2017, "Quasi-Recurrent Neural Networks" (ICLR), as used
    by pQRNN (Kaliamoorthi et al., 2021, "Distilling Large Language Models
    into Tiny and Effective Students using pQRNN"). One convolution of width
    `kernel_width` over time gives three gates per step, z = tanh(.),
    f = sigmoid(.) and o = sigmoid(.); then

        c_t = f_t * c_{t-1} + (1 - f_t) * z_t,    h_t = o_t * c_t,   c_{-1} = 0.

    The forward direction uses a causal convolution (step t sees inputs
    t-k+1..t) and runs left to right; the backward direction uses an
    anti-causal one (t..t+k-1) and runs right to left. "bidirectional" runs
    both with separate weights in one pass and merges them; pQRNN stacks
    bidirectional layers and concatenates the directions (seq_flow_lite's
    QRNNBidirectional), so "concat" is the default `merge_mode`.

    Padding: positions past `sequence_length` (or where the Keras mask is
    False) are zeroed before the convolution, so the convolution sees zeros
    there exactly as it does past the sequence ends; they hold the state
    (f = 1, no new input), so the backward direction starts from c = 0 at
    each sequence's last real token; and their outputs are zero. Outputs at
    real positions therefore do not depend on how much padding follows, nor
    on the values stored in it.

    Zoneout (Krueger et al., 2017), as the QRNN paper applies it: while
    training, each channel at each step keeps its previous state (f = 1) with
    probability `zoneout`, which is dropout on 1 - f without rescaling. At
    inference the gates are used unchanged, as in the QRNN paper and
    seq_flow_lite's pQRNN, so inference is deterministic. (The expected value
    of the training-time gate would be zoneout + (1 - zoneout) * f; like the
    paper, the layer does not use it.)

    The recurrence is `fo_pool`, a log2(T)-step parallel scan in a
    tf.while_loop; a float TFLite export holds only builtin ops
    (PAD/PADV2, CONV_2D, STRIDED_SLICE, REVERSE_V2, LOGISTIC, TANH, MUL, ADD,
    SUB, WHILE, ...), with dynamic batch and time.

    Args:
      units: int, state size per direction.
      kernel_width: int, convolution width over time (k >= 1).
      direction: str, "forward", "backward" or "bidirectional".
      merge_mode: str, how "bidirectional" merges its directions: "concat"
        (output 2 * units) or "sum" (output units). Ignored otherwise.
      zoneout: float in [0, 1), training-time probability of keeping a state.
      seed: int or None, seed of the zoneout mask.
      kernel_initializer: initializer of the [k, D, directions * 3 * units]
        convolution kernel.
      bias_initializer: initializer of the gate biases.
      kernel_regularizer: optional regularizer of the kernel.
      bias_regularizer: optional regularizer of the biases.
      **kwargs: standard Layer arguments (name, dtype, ...).

    Call arguments:
      inputs: float [B, T, D].
      sequence_length: optional int [B], real steps per example; wins over
        `mask`.
      mask: optional bool [B, T] Keras mask (True = real step).
      training: bool, enables zoneout.

    Returns:
      float [B, T, units] (or [B, T, 2 * units] for bidirectional concat),
      zero at padded positions. The Keras mask passes through.

    Example:
    >>> layer = QRNN(units=4, direction="bidirectional")
    >>> x = tf.random.normal([2, 5, 3])
    >>> layer(x, sequence_length=tf.constant([5, 2])).shape
    TensorShape([2, 5, 8])
    """

    def __init__(
        self,
        units: int,
        kernel_width: int = 3,
        direction: str = "forward",
        merge_mode: str = "concat",
        zoneout: float = 0.0,
        seed: int | None = None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        problems = []
        if units < 1:
            problems.append(f"units={units} must be >= 1")
        if kernel_width < 1:
            problems.append(f"kernel_width={kernel_width} must be >= 1")
        if direction not in DIRECTIONS:
            problems.append(f"direction={direction!r} must be one of {DIRECTIONS}")
        if merge_mode not in MERGE_MODES:
            problems.append(f"merge_mode={merge_mode!r} must be one of {MERGE_MODES}")
        if not 0.0 <= zoneout < 1.0:
            problems.append(f"zoneout={zoneout} must be in [0, 1)")
        if problems:
            raise ValueError("QRNN: " + "; ".join(problems))
        self.units = units
        self.kernel_width = kernel_width
        self.direction = direction
        self.merge_mode = merge_mode
        self.zoneout = zoneout
        self.seed = seed
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.supports_masking = True

    @property
    def _forward(self) -> bool:
        return self.direction in ("forward", "bidirectional")

    @property
    def _backward(self) -> bool:
        return self.direction in ("backward", "bidirectional")

    @property
    def output_size(self) -> int:
        """Channels of the output: units, or 2 * units for bidirectional concat."""
        if self.direction == "bidirectional" and self.merge_mode == "concat":
            return 2 * self.units
        return self.units

    def build(self, input_shape):
        input_dim = tf.TensorShape(input_shape)[-1]
        if input_dim is None:
            raise ValueError(f"QRNN needs a known last input dimension; got shape {input_shape}.")
        directions = 2 if self.direction == "bidirectional" else 1
        # Channels are laid out [direction][gate z, f, o][unit].
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_width, int(input_dim), directions * 3 * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(directions * 3 * self.units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )
        super().build(input_shape)

    def call(self, inputs, sequence_length=None, mask=None, training=None):
        valid = valid_positions(inputs, sequence_length, mask)
        steps = tf.shape(inputs)[1]
        k = self.kernel_width
        # One convolution serves both directions: with k-1 zeros on each side,
        # output t is the causal window of step t and output t+k-1 the
        # anti-causal window of step t.
        left = k - 1 if self._forward else 0
        right = k - 1 if self._backward else 0
        x = zero_padding(inputs, valid)
        if left or right:
            x = tf.pad(x, [[0, 0], [left, right], [0, 0]])
        gates = tf.nn.bias_add(tf.nn.conv1d(x, self.kernel, stride=1, padding="VALID"), self.bias)

        real = None if valid is None else tf.expand_dims(tf.cast(valid, gates.dtype), -1)
        width = 3 * self.units
        per_direction = []  # (gates [B, T, 3u], real [B, T, 1]) in scan order
        if self._forward:
            forward_gates = gates[:, :steps, :width] if self._backward else gates
            per_direction.append((forward_gates, real))
        if self._backward:
            backward_gates = gates[:, left : left + steps, -width:] if self._forward else gates
            per_direction.append(
                (
                    tf.reverse(backward_gates, [1]),
                    None if real is None else tf.reverse(real, [1]),
                )
            )

        candidates, forgets, outputs = [], [], []
        for direction_gates, direction_real in per_direction:
            # Slicing with a dynamic `steps` loses the static shape.
            direction_gates.set_shape(inputs.shape[:-1].concatenate([width]))
            z, f, o = tf.split(direction_gates, 3, axis=-1)
            f = tf.sigmoid(f)
            if direction_real is not None:
                # Padding holds the state: f = 1 (and so (1 - f) * z = 0).
                f = f * direction_real + (1.0 - direction_real)
            candidates.append(tf.tanh(z))
            forgets.append(f)
            outputs.append(tf.sigmoid(o))
        z, f, o = (tf.concat(g, -1) if len(g) > 1 else g[0] for g in (candidates, forgets, outputs))

        if resolve_training(training) and self.zoneout > 0.0:
            keep_state = (
                tf.random.uniform(tf.shape(f), dtype=f.dtype, seed=self.seed) < self.zoneout
            )
            f = tf.where(keep_state, tf.ones_like(f), f)

        hidden = o * fo_pool(f, (1.0 - f) * z)

        if self.direction == "backward":
            hidden = tf.reverse(hidden, [1])
        elif self.direction == "bidirectional":
            forward_hidden = hidden[:, :, : self.units]
            backward_hidden = tf.reverse(hidden[:, :, self.units :], [1])
            if self.merge_mode == "concat":
                hidden = tf.concat([forward_hidden, backward_hidden], -1)
            else:
                hidden = forward_hidden + backward_hidden
        return zero_padding(hidden, valid)

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        return input_shape[:-1].concatenate([self.output_size])

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units,
            kernel_width=self.kernel_width,
            direction=self.direction,
            merge_mode=self.merge_mode,
            zoneout=self.zoneout,
            seed=self.seed,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=keras.regularizers.serialize(self.bias_regularizer),
        )
        return config
