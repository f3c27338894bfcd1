r"""Do a token model's outputs change when its ids are padded?

The exported baselines take ids of one utterance's exact length and have no
padding mask (`pqrnn.export.converter.tokens_serving_function`). This runs
each --graph on test utterances twice, as is and with the ids padded (id 0)
to --pad_to, and counts the utterances whose intent or slot predictions (on
the real tokens) differ. docs/RESULTS.md ("Per utterance") cites it.

    python tools/padded_ids_check.py --dataset=multiatis \
        --graph=workdirs/multiatis_transformer/export/model_float32.tflite
"""

from __future__ import annotations

import numpy as np
from absl import app, flags

from pqrnn.export import benchmark, runner

_GRAPHS = flags.DEFINE_multi_string("graph", [], "A token-input .tflite file; repeat.")
_DATASET = flags.DEFINE_string("dataset", "multiatis", "multiatis or mtop (test split).")
_NUM = flags.DEFINE_integer("num_utterances", 300, "Test utterances checked.")
_PAD_TO = flags.DEFINE_integer("pad_to", 40, "Length the ids are padded to.")


def _predict(model: runner.TFLiteNLUModel, inputs: dict[str, np.ndarray], n: int):
    model.feed(inputs)
    model.interpreter.invoke()
    out = model.outputs()
    return int(np.argmax(out["intent"])), np.argmax(out["slots"][0, :n], -1)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    benchmark.load_custom_ops()
    texts = benchmark.dataset_utterances(_DATASET.value, "test", limit=_NUM.value)
    for path in _GRAPHS.value:
        model = runner.TFLiteNLUModel(path)
        if model.kind != "tokens":
            raise app.UsageError(f"{path} takes {model.kind}, not token ids")
        intents = slots = checked = 0
        for text in texts:
            inputs = model.inputs([text])
            n = int(inputs["sequence_length"][0])
            if n > _PAD_TO.value:
                continue
            ids = np.zeros(_PAD_TO.value, np.int32)
            ids[:n] = inputs[model.card["input"]["name"]]
            padded = {**inputs, model.card["input"]["name"]: ids}
            intent_a, slots_a = _predict(model, inputs, n)
            intent_b, slots_b = _predict(model, padded, n)
            checked += 1
            intents += intent_a != intent_b
            slots += not np.array_equal(slots_a, slots_b)
        print(
            f"{path}: of {checked} utterances padded to {_PAD_TO.value} ids, "
            f"intent changed on {intents}, slot predictions on {slots}"
        )


if __name__ == "__main__":
    app.run(main)
