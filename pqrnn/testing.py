"""A small layer-test harness shared by pqrnn's tests.

`run_layer_test` checks, for one layer class and a batch of inputs, what every
pqrnn layer must honour (in the spirit of keras-hub's `run_layer_test`):
constructor arguments round-trip through `get_config`, `from_config` and Keras
serialization; eager and symbolic (functional) calls agree on values and
shapes; a clone with copied weights gives identical outputs; inference is
deterministic; every trainable weight gets a non-zero gradient; one `fit` step
runs. `assert_padding_invariant` checks that appending padding, and writing
garbage into padded positions, changes no output at a real position.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import numpy as np
import tensorflow as tf
import tf_keras as keras

_PRIMITIVES = (bool, int, float, str, type(None))


def _symbolic_input(name: str, value: np.ndarray):
    # Batch and time stay dynamic; the feature axis (rank >= 3) is static.
    value = np.asarray(value)
    shape = (None,) * min(value.ndim - 1, 1) + value.shape[2:]
    return keras.Input(shape=shape, dtype=tf.as_dtype(value.dtype), name=name)


def _assert_config_round_trip(layer_cls, init_kwargs: Mapping, layer) -> dict:
    config = layer.get_config()
    signature = inspect.signature(layer_cls.__init__)
    for name, param in signature.parameters.items():
        if name == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        assert name in config, f"{layer_cls.__name__}.get_config() lacks argument {name!r}"
        assert hasattr(layer, name), f"{layer_cls.__name__} does not store argument {name!r}"
    for name, value in init_kwargs.items():
        if isinstance(value, _PRIMITIVES) and isinstance(config[name], _PRIMITIVES):
            assert config[name] == value, f"get_config()[{name!r}]={config[name]!r}, not {value!r}"
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "from_config(get_config()).get_config() differs"
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is layer_cls and restored.get_config() == config
    return config


def run_layer_test(
    layer_cls: type,
    init_kwargs: Mapping,
    inputs: np.ndarray,
    call_kwargs: Mapping | None = None,
    expected_output_shape: tuple | None = None,
    run_training_check: bool = True,
    atol: float = 1e-6,
) -> keras.layers.Layer:
    """Runs the standard checks on `layer_cls(**init_kwargs)`; returns the layer.

    Args:
      layer_cls: the Layer class under test.
      init_kwargs: constructor arguments.
      inputs: numpy array, the first call argument.
      call_kwargs: other call arguments; numpy arrays become model inputs in
        the symbolic checks, anything else is passed as is.
      expected_output_shape: shape of the eager output, if given.
      run_training_check: also compile the layer in a model and `fit` a step.
      atol: tolerance of the value comparisons.
    """
    call_kwargs = dict(call_kwargs or {})
    layer = layer_cls(**init_kwargs)
    _assert_config_round_trip(layer_cls, init_kwargs, layer)

    outputs = layer(inputs, training=False, **call_kwargs)
    if expected_output_shape is not None:
        assert tuple(outputs.shape) == tuple(expected_output_shape), (
            f"output shape {tuple(outputs.shape)}, expected {tuple(expected_output_shape)}"
        )
    try:
        declared = layer.compute_output_shape(tf.TensorShape(np.shape(inputs)))
    except NotImplementedError:
        declared = None
    if declared is not None:
        assert declared.is_compatible_with(outputs.shape), (
            f"compute_output_shape gives {declared}, the call gives {outputs.shape}"
        )
    np.testing.assert_allclose(
        layer(inputs, training=False, **call_kwargs), outputs, atol=atol,
        err_msg="inference is not deterministic",
    )  # fmt: skip

    clone = layer_cls.from_config(layer.get_config())
    clone(inputs, training=False, **call_kwargs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        clone(inputs, training=False, **call_kwargs), outputs, atol=atol,
        err_msg="from_config(get_config()) with copied weights gives other outputs",
    )  # fmt: skip

    # Symbolic call inside a functional model; array call arguments become inputs.
    tensor_kwargs = {k: v for k, v in call_kwargs.items() if isinstance(v, np.ndarray)}
    symbolic = {"inputs": _symbolic_input("inputs", inputs)}
    symbolic.update({k: _symbolic_input(k, v) for k, v in tensor_kwargs.items()})
    static_kwargs = {k: v for k, v in call_kwargs.items() if k not in tensor_kwargs}
    symbolic_kwargs = {k: symbolic[k] for k in tensor_kwargs}
    model = keras.Model(symbolic, layer(symbolic["inputs"], **symbolic_kwargs, **static_kwargs))
    feed = {"inputs": inputs, **tensor_kwargs}
    np.testing.assert_allclose(
        model(feed, training=False), outputs, atol=atol,
        err_msg="symbolic (functional) call differs from the eager call",
    )  # fmt: skip

    # Gradients reach every trainable weight (random readout: no cancellation).
    readout = tf.random.stateless_normal(tf.shape(outputs), seed=[1, 2], dtype=outputs.dtype)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(inputs, training=False, **call_kwargs) * readout)
    gradients = tape.gradient(loss, layer.trainable_weights)
    assert layer.trainable_weights, f"{layer_cls.__name__} has no trainable weights"
    for weight, gradient in zip(layer.trainable_weights, gradients, strict=True):
        assert gradient is not None, f"no gradient reaches {weight.name}"
        gradient = tf.convert_to_tensor(gradient)
        assert np.any(gradient.numpy() != 0), f"the gradient of {weight.name} is all zero"

    if run_training_check:
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        target = np.zeros(outputs.shape, np.float32)
        history = model.fit(feed, target, batch_size=len(inputs), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0]), "fit produced a non-finite loss"
    return layer


def assert_padding_invariant(
    call: Callable,
    inputs: np.ndarray,
    sequence_length: np.ndarray,
    extra_steps: int = 3,
    per_token: bool = True,
    atol: float = 1e-5,
    seed: int = 0,
) -> None:
    """Asserts outputs at real positions ignore padding length and padding values.

    `call(inputs, sequence_length)` is run on `inputs` with garbage written
    into each example's padded steps, then on the same batch with
    `extra_steps` more steps of garbage appended. Per-token outputs ([B, T,
    ...]) must agree at real positions; other outputs (`per_token=False`,
    e.g. [B, C] logits) must agree entirely.
    """
    rng = np.random.default_rng(seed)
    inputs = np.array(inputs)
    steps = inputs.shape[1]
    real = np.arange(steps)[None, :] < np.asarray(sequence_length)[:, None]
    garbage = (100.0 * rng.standard_normal(inputs.shape)).astype(inputs.dtype)
    noisy = np.where(real.reshape(real.shape + (1,) * (inputs.ndim - 2)), inputs, garbage)
    tail = (100.0 * rng.standard_normal((inputs.shape[0], extra_steps) + inputs.shape[2:])).astype(
        inputs.dtype
    )
    longer = np.concatenate([noisy, tail], axis=1)
    sequence_length = np.asarray(sequence_length, np.int32)
    short_out = np.asarray(call(inputs, sequence_length))
    noisy_out = np.asarray(call(noisy, sequence_length))
    long_out = np.asarray(call(longer, sequence_length))
    if per_token:
        assert long_out.shape[1] == steps + extra_steps
        long_out = long_out[:, :steps]
        keep = real.reshape(real.shape + (1,) * (short_out.ndim - 2))
        short_out, noisy_out, long_out = (
            np.where(keep, o, 0.0) for o in (short_out, noisy_out, long_out)
        )
    np.testing.assert_allclose(noisy_out, short_out, atol=atol, err_msg="padding values leak")
    np.testing.assert_allclose(long_out, short_out, atol=atol, err_msg="padding length leaks")


def tflite_op_names(model_content: bytes) -> set[str]:
    """Names of the ops a `.tflite` model uses: builtin names ("CONV_2D") and
    custom codes ("PQRNN>...", "Flex..."), so a test can pin the exact set."""
    from pqrnn.export import flatbuffer

    schema = flatbuffer.schema()
    builtin_names = {
        value: name for name, value in vars(schema.BuiltinOperator).items() if name.isupper()
    }
    names = set()
    for code in flatbuffer.read(model_content).operatorCodes:
        builtin = flatbuffer.builtin_code(code)
        if builtin == schema.BuiltinOperator.CUSTOM:
            names.add(flatbuffer.text(code.customCode))
        else:
            names.add(builtin_names[builtin])
    return names
