"""Float logits: float classifiers in int8 files (pqrnn.export.float_heads)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import pqrnn  # noqa: F401
from pqrnn import tflite
from pqrnn.export import checks, converter, float_heads, model_card


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


def test_float_logits_makes_the_output_classifier_float_with_float16_weights(toy):
    content, _, _ = toy[True]
    records = checks.op_records(content)
    fully_connected = [r for r in records if r.name == "FULLY_CONNECTED"]
    assert [r.input_types[:2] + r.output_types for r in fully_connected] == [
        ("INT8", "INT8", "INT8"),  # the hidden layer stays int8
        ("FLOAT32", "FLOAT32", "FLOAT32"),  # the classifier
    ]
    producers = {t: r for r in records for t in r.outputs}
    weights = producers[fully_connected[1].inputs[1]]
    assert weights.name == "DEQUANTIZE" and weights.input_types == ("FLOAT16",)
    assert weights.index < fully_connected[1].index  # runs before its user
    # The boundary is documented, so the int8 check passes; the float32
    # weights are gone from the file (their buffer is empty).
    assert [p for p in checks.float_ops(records) if "FULLY_CONNECTED" in p] == []
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(content, 0)
    graph = model.subgraphs[0]
    stored = graph.tensors[fully_connected[1].inputs[1]]
    assert model.buffers[stored.buffer].data is None or not len(model.buffers[stored.buffer].data)
    # Without the flag the same conversion is all int8.
    plain = checks.op_records(toy[False][0])
    assert all(r.output_types == ("INT8",) for r in plain if r.name == "FULLY_CONNECTED"), plain


@pytest.mark.parametrize("xnnpack", [True, False])
def test_float_logits_are_the_float16_weights_times_the_real_input(toy, xnnpack):
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
    kernel, bias = model.get_layer("logits").get_weights()
    half = kernel.astype(np.float16).astype(np.float32)
    for row in x[:8]:
        logits = runner(x=row[None])["logits"][0]
        features = interpreter.get_tensor(head.inputs[0])[0]
        np.testing.assert_allclose(logits, features @ half + bias, rtol=1e-5, atol=1e-5)


def test_float_logits_are_not_rounded_to_an_int8_grid(toy):
    # The int8 file's logits take at most 256 values per output; the float
    # classifier's are not requantized and stay close to the float model's.
    x = toy[True][2]
    int8_logits = _run(toy[False][0], x)
    float_logits = _run(toy[True][0], x)
    reference = toy[True][1](x).numpy()
    steps = np.diff(np.unique(int8_logits[:, 0]))
    assert np.allclose(steps / steps.min(), np.round(steps / steps.min()), atol=1e-3)
    assert len(np.unique(float_logits)) == float_logits.size
    assert np.abs(float_logits - reference).max() < 0.05 * np.abs(reference).max()


def test_float16_weights_refuses_unknown_or_int8_ops(toy):
    content = toy[False][0]  # its classifier is int8 (a DEQUANTIZE writes the output)
    assert float_heads.output_fully_connected(content) == []
    from ai_edge_litert import schema_py_generated as schema

    graph = schema.ModelT.InitFromPackedBuf(content, 0).subgraphs[0]
    last = [r for r in checks.op_records(content) if r.name == "FULLY_CONNECTED"][-1]
    name = graph.tensors[last.outputs[0]].name.decode()
    with pytest.raises(ValueError, match="not constant float32"):
        float_heads.float16_weights(content, [name])
    with pytest.raises(ValueError, match="no float FULLY_CONNECTED"):
        float_heads.float16_weights(content, ["no_such_tensor"])


def test_replacing_the_model_card_does_not_keep_the_old_one(toy):
    content = toy[True][0]
    once = model_card.add_model_card(content, {"note": "x" * 5000})
    twice = model_card.add_model_card(once, {"note": "y"})
    assert model_card.read_model_card(twice)["note"] == "y"
    assert len(twice) < len(once) - 4000
