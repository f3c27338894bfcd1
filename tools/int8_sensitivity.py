r"""Where does a pQRNN's int8 loss come from? Simulated quantization, one place at a time.

    .venv/bin/python tools/int8_sensitivity.py workdirs/mtop_pqrnn   # ~10 min on 2 cores

Runs the run's deploy model (`pqrnn.export.deploy_model`) on the dev split
in float, then again with int8 quantization simulated at one group of
tensors only (TF's fake-quant: 256 levels over the range the calibration
utterances reach, as the converter's post-training calibration does, or
symmetric per output channel for kernels), and prints each group's exact
match change and the share of utterances whose prediction is unchanged.
Groups: the bottleneck output; the QRNN gate pre-activations per tensor
(what the int8 file does) and per gate block (z, f, o per direction: what
splitting the convolution would buy); the QRNN outputs; the output logits;
all activations; each layer's kernels. The last row is the real int8 file's
check from `export_report.json` (run export/export.py first).

It does not simulate what happens inside the heads' int8 ops (the intent
head's softmax and sum, the slot classifier's accumulator rounding).
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import tensorflow as tf

from pqrnn import metrics
from pqrnn.export import deploy_model, exporter
from pqrnn.training import experiment, predictor


class Simulator:
    """The deploy model's forward pass with optional fake quantization."""

    def __init__(self, deploy):
        kinds = {type(layer): layer for layer in deploy.layers}
        self.qrnns = [la for la in deploy.layers if isinstance(la, deploy_model.DeployQRNN)]
        self.bottleneck = next(
            la for la in deploy.layers if isinstance(la, deploy_model.DeployDense)
        )
        self.mask = kinds[deploy_model.PaddingMask]
        self.intent = kinds[deploy_model.DeployIntentHead]
        self.slots = kinds[deploy_model.DeploySlotHead]
        self.units = self.qrnns[0].units
        self.input_names = list(deploy.input_names)
        self.ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.spec: dict[str, str] = {}
        self.collecting = False

    def _record(self, name, x):
        v = tf.reshape(x, [-1, x.shape[-1]]).numpy()
        lo, hi = v.min(axis=0), v.max(axis=0)
        if name in self.ranges:
            lo, hi = np.minimum(self.ranges[name][0], lo), np.maximum(self.ranges[name][1], hi)
        self.ranges[name] = (lo, hi)

    def _q(self, name, x):
        if self.collecting:
            self._record(name, x)
            return x
        how = self.spec.get(name)
        if how is None:
            return x
        lo, hi = self.ranges[name]
        if how == "tensor":
            return tf.quantization.fake_quant_with_min_max_vars(x, lo.min(), hi.max(), num_bits=8)
        if how.startswith("clip"):  # "clip<c>": clipped to [-c, c], that range quantized
            c = float(how[4:])
            return tf.quantization.fake_quant_with_min_max_vars(x, -c, c, num_bits=8)
        if how.startswith("onlyclip"):
            c = float(how[8:])
            return tf.clip_by_value(x, -c, c)
        # "block": one range per `units` channels (a gate of one direction).
        blocks = lo.size // self.units
        lo, hi = lo.reshape(blocks, -1).min(1), hi.reshape(blocks, -1).max(1)
        shape = tf.shape(x)
        xb = tf.reshape(x, tf.concat([shape[:-1], [blocks, self.units]], 0))
        parts = [
            tf.quantization.fake_quant_with_min_max_vars(xb[..., i, :], lo[i], hi[i], num_bits=8)
            for i in range(blocks)
        ]
        return tf.reshape(tf.stack(parts, -2), shape)

    def __call__(self, inputs, training=False):
        projection, lengths = inputs["projection"], inputs["sequence_length"]
        valid = self.mask([projection, lengths])
        x = self._q("bottleneck", self.bottleneck(projection))
        for i, layer in enumerate(self.qrnns):
            layer.gates_activation = lambda g, i=i: self._q(f"gates{i}", g)
            x = layer(x, sequence_length=lengths, padding_mask=valid if i == 0 else None)
            x = self._q(f"qrnn{i}", x)
        intent = self.intent(x, sequence_length=lengths, padding_mask=valid)
        return {"intent": self._q("intent", intent), "slots": self._q("slots", self.slots(x))}


def _quantize_kernels(layers) -> list:
    """Rounds each kernel to symmetric int8 per output channel; returns the originals."""
    saved = []
    for layer in layers:
        for weight in layer.weights:
            if "kernel" in weight.name:
                value = weight.numpy()
                scale = np.abs(value).max(axis=tuple(range(value.ndim - 1)), keepdims=True) / 127
                scale = np.maximum(scale, 1e-12)
                weight.assign(np.round(value / scale) * scale)
                saved.append((weight, value))
    return saved


def main(workdir: str) -> None:
    run = exporter.load_run(workdir, exporter.DEFAULT_NUM_CALIBRATION, 0, 0)
    trained = run.trained
    sim = Simulator(deploy_model.build_deploy_model(trained.model))
    train, _ = experiment.load_examples(trained.config, "train")
    chosen = set(run.calibration_texts)
    calibration = [e for e in train if e.text in chosen][: len(run.calibration_texts)]
    sim.collecting = True
    for features, _ in experiment.make_dataset(
        trained.config, calibration, trained.vocabs, training=False, batch_size=256
    ):
        sim(predictor.model_inputs(trained.model, features))
    sim.collecting = False

    def predict():
        return predictor.predict_examples(trained.config, sim, trained.vocabs, run.dev)

    def em(predictions):
        return 100 * metrics.evaluate(predictions, run.dev)["macro"]["exact_match"]

    reference = predict()
    base = em(reference)
    print(f"{workdir}: dev, {len(run.dev)} utterances; float exact match {base:.2f}")
    print("| quantized | exact match | change (points) | unchanged predictions |")
    print("|---|---|---|---|")

    def row(name, predictions):
        same = np.mean(
            [
                a[0] == b[0] and tuple(a[1]) == tuple(b[1])
                for a, b in zip(reference, predictions, strict=True)
            ]
        )
        print(
            f"| {name} | {em(predictions):.2f} | {em(predictions) - base:+.2f} | {100 * same:.1f}% |"
        )

    layers = range(len(sim.qrnns))
    groups = {
        "bottleneck output": {"bottleneck": "tensor"},
        "QRNN gates, per tensor": {f"gates{i}": "tensor" for i in layers},
        "QRNN gates, per gate block": {f"gates{i}": "block" for i in layers},
        "QRNN gates, clipped to ±8 (float)": {f"gates{i}": "onlyclip8" for i in layers},
        "QRNN gates, clipped to ±8, per tensor": {f"gates{i}": "clip8" for i in layers},
        "QRNN gates, clipped to ±4, per tensor": {f"gates{i}": "clip4" for i in layers},
        "QRNN outputs": {f"qrnn{i}": "tensor" for i in layers},
        "output logits": {"intent": "tensor", "slots": "tensor"},
    }
    everything = {"bottleneck": "tensor", "intent": "tensor", "slots": "tensor"}
    everything.update({f"qrnn{i}": "tensor" for i in layers})
    groups["all activations (gates per tensor)"] = {
        **everything,
        **{f"gates{i}": "tensor" for i in layers},
    }
    groups["all activations (gates clipped to ±8)"] = {
        **everything,
        **{f"gates{i}": "clip8" for i in layers},
    }
    for name, spec in groups.items():
        sim.spec = spec
        row(name, predict())
    sim.spec = {}
    for name, kernels in [
        ("bottleneck kernel", [sim.bottleneck]),
        ("QRNN kernels", sim.qrnns),
        ("head kernels", [sim.intent, sim.slots]),
    ]:
        saved = _quantize_kernels(kernels)
        row(name, predict())
        for weight, value in saved:
            weight.assign(value)
    report = pathlib.Path(workdir, "export", exporter.REPORT_FILE)
    if report.exists():
        check = json.loads(report.read_text())["artifacts"]["int8"]["predictions"]
        print(
            f"| the int8 .tflite file (export_report.json) | {100 * check['exact_match_tflite']:.2f} "
            f"| {check['exact_match_delta_points']:+.2f} | {100 * check['identical']:.1f}% |"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
