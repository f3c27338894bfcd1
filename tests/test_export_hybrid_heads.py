"""Float logits: hybrid classifiers in int8 files (pqrnn.export.hybrid_heads)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import pqrnn  # noqa: F401
from pqrnn import tflite
from pqrnn.export import checks, converter, hybrid_heads


def test_quantize_per_channel_rounds_each_row_to_its_own_scale():
    weights = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [3.0, 1.5, -0.01]], np.float32)
    values, scale = hybrid_heads.quantize_per_channel(weights)
    assert values.dtype == np.int8 and values.shape == weights.shape
    np.testing.assert_allclose(scale, [1.0 / 127, 1.0, 3.0 / 127], rtol=1e-6)
    # Each row's largest magnitude maps to +-127; every value is within half a step.
    assert values[0, 1] == -127 and values[2, 0] == 127 and not values[1].any()
    error = np.abs(values * scale[:, None] - weights)
    assert (error <= scale[:, None] / 2 + 1e-7).all()


def _toy_int8(float_logits: bool) -> tuple[bytes, keras.Model, np.ndarray]:
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    inputs = keras.Input([12], name="x")
    dense = dict(bias_initializer="random_normal")
    hidden = keras.layers.Dense(16, activation="relu", **dense)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(7, name="logits", **dense)(hidden))

    @tf.function(input_signature=[tf.TensorSpec([None, 12], tf.float32, name="x")])
    def serve(x):
        return {"logits": model(x)}

    samples = rng.normal(size=(64, 12)).astype(np.float32)

    def representative():
        for row in samples:
            yield {"x": row[None]}

    content = converter.convert(
        serve, model, precision="int8", representative=representative, float_logits=float_logits
    )
    return content, model, rng.normal(size=(32, 12)).astype(np.float32)


def _run(content: bytes, x: np.ndarray) -> np.ndarray:
    runner = tflite.Interpreter(model_content=content).get_signature_runner()
    return np.concatenate([runner(x=row[None])["logits"] for row in x])


@pytest.fixture(scope="module")
def toy(tflite_ops_library):
    return {flag: _toy_int8(flag) for flag in (False, True)}


def test_float_logits_makes_the_output_classifier_hybrid(toy):
    content, _, _ = toy[True]
    records = checks.op_records(content)
    fully_connected = [r for r in records if r.name == "FULLY_CONNECTED"]
    assert [r.input_types[:2] + r.output_types for r in fully_connected] == [
        ("INT8", "INT8", "INT8"),  # the hidden layer stays int8
        ("FLOAT32", "INT8", "FLOAT32"),  # the classifier: int8 weights, float logits
    ]
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(content, 0)
    graph = model.subgraphs[0]
    versions = {model.operatorCodes[op.opcodeIndex].version for op in graph.operators}
    assert hybrid_heads.HYBRID_PER_CHANNEL_VERSION in versions
    weights = graph.tensors[fully_connected[1].inputs[1]]
    assert len(weights.quantization.scale) == 7  # one scale per logit
    runtime = [m for m in model.metadata if m.name == b"min_runtime_version"][0]
    version = bytes(bytearray(model.buffers[runtime.buffer].data)).rstrip(b"\0").decode()
    assert tuple(map(int, version.split("."))) >= (2, 17, 0)
    # Without the flag the same conversion is all int8.
    plain = checks.op_records(toy[False][0])
    assert all(r.output_types == ("INT8",) for r in plain if r.name == "FULLY_CONNECTED"), plain


@pytest.mark.parametrize("xnnpack", [True, False])
def test_hybrid_logits_match_int8_products_of_the_real_input(toy, xnnpack):
    from ai_edge_litert.interpreter import OpResolverType

    content, model, x = toy[True]
    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = tflite.Interpreter(
        model_content=content,
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=resolver,
    )
    runner = interpreter.get_signature_runner()
    (head,) = [
        r
        for r in checks.op_records(content)
        if r.name == "FULLY_CONNECTED" and r.output_types == ("FLOAT32",)
    ]
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    w = details[head.inputs[1]]
    weights = interpreter.get_tensor(head.inputs[1]).astype(np.int32)
    w_scale = w["quantization_parameters"]["scales"]
    bias = interpreter.get_tensor(head.inputs[2])
    assert head.input_types[2] == "FLOAT32"  # the bias stays float
    for row in x[:8]:
        logits = runner(x=row[None])["logits"][0]
        features = interpreter.get_tensor(head.inputs[0])[0]
        # The input row is quantized to int8 on the fly, int8 x int8
        # products are summed in int32, then scaled. XNNPACK (the default
        # delegate) quantizes asymmetrically, 256 levels over [min(0, x),
        # max(0, x)]; TFLite's own kernel symmetrically, +-127 over max|x|.
        if xnnpack:
            low, high = min(0.0, features.min()), max(0.0, features.max())
            step = (high - low) / 255.0
            zero = np.clip(np.round(-128 - low / step), -128, 127)
            q = np.clip(np.round(features / step) + zero, -128, 127) - zero
        else:
            step = np.abs(features).max() / 127.0
            q = np.round(features / step)
        expected = (weights @ q) * step * w_scale + bias
        np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


def test_float_logits_are_not_rounded_to_an_int8_grid(toy):
    # The int8 file's logits take at most 256 values per output; the hybrid
    # file's logits are not requantized and stay close to the float model's.
    x = toy[True][2]
    int8_logits = _run(toy[False][0], x)
    hybrid_logits = _run(toy[True][0], x)
    float_logits = toy[True][1](x).numpy()
    steps = np.diff(np.unique(int8_logits[:, 0]))
    assert np.allclose(steps / steps.min(), np.round(steps / steps.min()), atol=1e-3)
    assert len(np.unique(hybrid_logits)) == hybrid_logits.size
    assert np.abs(hybrid_logits - float_logits).max() < 0.05 * np.abs(float_logits).max()


def test_int8_hybrid_weights_refuses_unknown_or_int8_ops(toy):
    content = toy[False][0]  # its classifier is already int8 (a DEQUANTIZE writes the output)
    assert hybrid_heads.output_fully_connected(content) == []
    from ai_edge_litert import schema_py_generated as schema

    graph = schema.ModelT.InitFromPackedBuf(content, 0).subgraphs[0]
    last = [r for r in checks.op_records(content) if r.name == "FULLY_CONNECTED"][-1]
    name = graph.tensors[last.outputs[0]].name.decode()
    with pytest.raises(ValueError, match="not constant float32"):
        hybrid_heads.int8_hybrid_weights(content, [name])
    with pytest.raises(ValueError, match="no float FULLY_CONNECTED"):
        hybrid_heads.int8_hybrid_weights(content, ["no_such_tensor"])
