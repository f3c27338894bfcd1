"""Checks an exported `.tflite` before it is written: its ops and its predictions.

Two checks, both run by the exporter (export/export.py refuses to write a
file that fails one, unless --force):

1. The op list (`check_ops`). A pQRNN file must start with the projection
   custom op, run one PQRNN>QRNNPooling per QRNN layer (no WHILE loop),
   hold only ops this module expects, and, when int8, compute every tensor
   in int8 except at the documented float boundaries:
     - pqrnn's custom ops (float kernels) and the DEQUANTIZE/QUANTIZE the
       converter puts around them;
     - the padding mask: CAST bool -> float32 straight into QUANTIZE;
     - the final DEQUANTIZE of the float32 outputs (logits);
     - with float logits (the exporter's default for PTQ), the classifiers
       instead: FULLY_CONNECTED ops in float32 that write the model's
       outputs, their float16 weights' DEQUANTIZE, and the DEQUANTIZE
       that feeds them.
   Integer plumbing (int32 shapes, lengths, bool masks) is not float math
   and is allowed. docs/EXPORT.md lists the ops and why.
2. The predictions (`compare_predictions`): the file runs on the dev split
   and is compared with the Keras model it came from. float32: identical
   (intent and every tag) on >= 99.5% of utterances; int8: loses at most
   0.5 points of exact match against the Keras model (scoring higher is
   not a defect: rounding moves near-ties both ways, and which way wins on
   one split is chance; `identical` reports how many predictions moved).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Sequence

from pqrnn import metrics
from pqrnn.export import flatbuffer

FLOAT_SAME_MIN = 0.995  # float32 .tflite: share of identical predictions
INT8_EXACT_MATCH_TOLERANCE = 0.5  # int8 .tflite: exact-match points it may lose

PROJECTION_OP = "PQRNN>SequenceStringProjection"
POOLING_OP = "PQRNN>QRNNPooling"
PQRNN_CUSTOM_OPS = frozenset({PROJECTION_OP, POOLING_OP})

# Ops of the pQRNN graphs (both pooling choices) and what they do there.
PQRNN_OPS = frozenset(
    {
        PROJECTION_OP,
        POOLING_OP,
        "QUANTIZE",  # float -> int8 after a custom op or the mask cast
        "DEQUANTIZE",  # int8 -> float before a custom op and for the outputs
        "FULLY_CONNECTED",  # bottleneck, attention score, intent and slot classifiers
        "CONV_2D",  # the QRNN gates (conv1d over time)
        "EXPAND_DIMS",
        "SQUEEZE",
        "RESHAPE",
        "PAD",
        "MUL",  # zeroing padded positions
        "SHAPE",
        "STRIDED_SLICE",
        "RANGE",
        "LESS",
        "CAST",  # the padding mask
        "SELECT_V2",
        "REDUCE_MIN",
        "REDUCE_MAX",
        "SUB",
        "SOFTMAX",
        "SUM",
        "ADD",
        "GATHER",
        "REDUCE_PROD",
        "CONCATENATION",
        "PACK",
    }
)
# Extra ops of the builtin recurrence (pooling="builtin", kept for comparison).
BUILTIN_POOLING_OPS = frozenset(
    {"WHILE", "LOGISTIC", "TANH", "SPLIT", "REVERSE_V2", "PADV2", "QUANTIZE"}
)

_INTEGER_TYPES = frozenset({"INT32", "INT64", "BOOL", "STRING", "RESOURCE"})


@dataclasses.dataclass(frozen=True)
class OpRecord:
    """One operator of a `.tflite` file."""

    subgraph: int
    index: int
    name: str  # builtin name ("CONV_2D") or custom code ("PQRNN>QRNNPooling")
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]

    @property
    def is_custom(self) -> bool:
        return self.name not in _builtin_names()


def _builtin_names() -> frozenset[str]:
    return frozenset(k for k in vars(flatbuffer.schema().BuiltinOperator) if not k.startswith("_"))


def op_records(tflite_model: bytes) -> list[OpRecord]:
    """Every operator of every subgraph, in execution order."""
    schema = flatbuffer.schema()
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    model = flatbuffer.read(tflite_model)
    records = []
    for s, subgraph in enumerate(model.subgraphs or []):

        def type_of(i, subgraph=subgraph):
            return "-" if i < 0 else types[subgraph.tensors[i].type]

        for i, op in enumerate(subgraph.operators or []):
            code = model.operatorCodes[op.opcodeIndex]
            number = flatbuffer.builtin_code(code)
            name = (
                code.customCode.decode("utf-8")
                if number == schema.BuiltinOperator.CUSTOM
                else builtin[number]
            )
            inputs = tuple(int(x) for x in (op.inputs if op.inputs is not None else []))
            outputs = tuple(int(x) for x in (op.outputs if op.outputs is not None else []))
            records.append(
                OpRecord(
                    subgraph=s,
                    index=i,
                    name=name,
                    inputs=inputs,
                    outputs=outputs,
                    input_types=tuple(type_of(x) for x in inputs),
                    output_types=tuple(type_of(x) for x in outputs),
                )
            )
    return records


def op_counts(tflite_model: bytes) -> dict[str, int]:
    """How many times each op occurs (all subgraphs), most frequent first."""
    counts = collections.Counter(r.name for r in op_records(tflite_model))
    return dict(counts.most_common())


@dataclasses.dataclass(frozen=True)
class ExpectedOps:
    """What a file's op list must look like.

    Attributes:
      first_op: the first op of the main subgraph, or None.
      counts: ops that must occur exactly this many times.
      allowed: every op must be one of these (None: any builtin op; custom
        ops must then still be pqrnn's).
      int8: data tensors must be int8 outside the documented boundaries.
    """

    first_op: str | None
    counts: dict[str, int]
    allowed: frozenset[str] | None
    int8: bool


def expected_ops(
    model_name: str, precision: str, num_qrnn_layers: int = 0, pooling: str = "op"
) -> ExpectedOps:
    """The expected op list of an exported model (see the module docstring)."""
    int8 = precision == "int8"
    if model_name != "pqrnn":
        # Baselines: builtins only (their int8 files keep float ops where
        # TFLite has no int8 kernel; check_ops reports them, see EXPORT.md).
        return ExpectedOps(first_op=None, counts={}, allowed=None, int8=False)
    counts = {PROJECTION_OP: 1, "CONV_2D": num_qrnn_layers, "FULLY_CONNECTED": 4}
    allowed = PQRNN_OPS
    if pooling == "op":
        counts[POOLING_OP] = num_qrnn_layers
        counts["WHILE"] = 0
    else:
        counts[POOLING_OP] = 0
        allowed = allowed | BUILTIN_POOLING_OPS
    return ExpectedOps(first_op=PROJECTION_OP, counts=counts, allowed=allowed, int8=int8)


def check_ops(tflite_model: bytes, expected: ExpectedOps) -> list[str]:
    """Problems of the op list against `expected`; empty when it passes."""
    records = op_records(tflite_model)
    problems = []
    main = [r for r in records if r.subgraph == 0]
    if expected.first_op and (not main or main[0].name != expected.first_op):
        first = main[0].name if main else "nothing"
        problems.append(f"the first op is {first}, expected {expected.first_op}")
    counts = collections.Counter(r.name for r in records)
    for name, count in expected.counts.items():
        if counts.get(name, 0) != count:
            problems.append(f"{counts.get(name, 0)} x {name}, expected {count}")
    for name in sorted(counts):
        if name.startswith("Flex"):
            problems.append(f"{name} is a TensorFlow (Flex) op; the file must run on TFLite alone")
        elif name not in _builtin_names() and name not in PQRNN_CUSTOM_OPS:
            problems.append(f"{name} is a custom op pqrnn does not register")
        elif expected.allowed is not None and name not in expected.allowed:
            problems.append(
                f"unexpected op {name} (x{counts[name]}); if intended, add it to "
                "pqrnn/export/checks.py and docs/EXPORT.md"
            )
    if expected.int8:
        problems.extend(f"float op: {p}" for p in float_ops(records))
    return problems


def float_ops(records: Sequence[OpRecord]) -> list[str]:
    """Ops computing in float32 outside the documented boundaries of an int8 file."""
    producers = {}
    consumers = collections.defaultdict(list)
    for r in records:
        for t in r.outputs:
            producers[(r.subgraph, t)] = r
        for t in r.inputs:
            if t >= 0:
                consumers[(r.subgraph, t)].append(r)

    def float_head(r: OpRecord) -> bool:
        # A float classifier writing a model output (nothing reads it), its
        # weights dequantized from a float16 constant.
        if not (
            r.name == "FULLY_CONNECTED"
            and r.subgraph == 0
            and r.input_types[:2] == ("FLOAT32", "FLOAT32")
            and r.output_types == ("FLOAT32",)
            and not any(consumers.get((r.subgraph, t)) for t in r.outputs)
        ):
            return False
        weights = producers.get((r.subgraph, r.inputs[1]))
        return (
            weights is not None
            and weights.name == "DEQUANTIZE"
            and weights.input_types == ("FLOAT16",)
        )

    found = []
    for r in records:
        if "FLOAT32" not in r.input_types + r.output_types or r.name in PQRNN_CUSTOM_OPS:
            continue
        if float_head(r):
            continue
        if r.name == "QUANTIZE" and r.input_types[0] == "FLOAT32":
            producer = producers.get((r.subgraph, r.inputs[0]))
            if producer is not None and (
                producer.name in PQRNN_CUSTOM_OPS
                or (producer.name == "CAST" and producer.input_types[0] == "BOOL")
            ):
                continue
        if r.name == "DEQUANTIZE":
            users = consumers.get((r.subgraph, r.outputs[0]), [])
            if all(u.name in PQRNN_CUSTOM_OPS or float_head(u) for u in users):
                continue  # Into a custom op or a classifier, or a model output (no users).
        if r.name == "CAST" and r.input_types[0] == "BOOL":
            users = consumers.get((r.subgraph, r.outputs[0]), [])
            if users and all(u.name == "QUANTIZE" for u in users):
                continue
        found.append(
            f"{r.name} #{r.index} (subgraph {r.subgraph}): "
            f"{', '.join(r.input_types)} -> {', '.join(r.output_types)}"
        )
    return found


def compare_predictions(
    reference: Sequence[tuple[str, Sequence[str]]],
    candidate: Sequence[tuple[str, Sequence[str]]],
    examples: Sequence,
    precision: str,
) -> dict:
    """Compares a `.tflite`'s predictions with its Keras model's on `examples`.

    Returns:
      {"passed", "criterion", "identical" (share of utterances with the same
      intent and tags), "exact_match_keras", "exact_match_tflite",
      "exact_match_delta_points", "num_examples", "per_language": {...}}.
    """
    if len(reference) != len(candidate) or len(reference) != len(examples):
        raise ValueError(
            f"{len(reference)} reference and {len(candidate)} candidate predictions for "
            f"{len(examples)} examples"
        )
    identical = sum(
        a[0] == b[0] and tuple(a[1]) == tuple(b[1])
        for a, b in zip(reference, candidate, strict=True)
    ) / max(1, len(examples))
    keras_metrics = metrics.evaluate(reference, examples)
    tflite_metrics = metrics.evaluate(candidate, examples)
    keras_em = keras_metrics["macro"]["exact_match"]
    tflite_em = tflite_metrics["macro"]["exact_match"]
    delta = 100.0 * (tflite_em - keras_em)
    if precision == "float32":
        passed = identical >= FLOAT_SAME_MIN - 1e-12
        criterion = f"identical predictions on >= {100 * FLOAT_SAME_MIN:.1f}% of utterances"
    else:
        passed = delta >= -INT8_EXACT_MATCH_TOLERANCE - 1e-9  # float rounding
        criterion = (
            f"exact match at most {INT8_EXACT_MATCH_TOLERANCE} points below the Keras model's"
        )
    return {
        "passed": bool(passed),
        "criterion": criterion,
        "identical": identical,
        "exact_match_keras": keras_em,
        "exact_match_tflite": tflite_em,
        "exact_match_delta_points": delta,
        "num_examples": len(examples),
        "per_language": {
            language: {
                "exact_match_keras": keras_metrics["per_language"][language]["exact_match"],
                "exact_match_tflite": tflite_metrics["per_language"][language]["exact_match"],
            }
            for language in keras_metrics["per_language"]
        },
    }
