"""Prints the "Int8 export" table of docs/RESULTS.md for one dataset.

    .venv/bin/python tools/export_table.py mtop   # after tools/export_results.sh mtop ...
    .venv/bin/python tools/export_table.py mtop float_logits   # tools/float_logits_results.sh

Reads workdirs/<dataset>_benchmark[_<run>].json (export/benchmark.py --output_json)
for size and latency, and the `<file>.metrics_test.json` that
`pqrnn.bin.evaluate --tflite` writes beside each file for the test metrics;
the file's model card says which model and quantization it holds. Prints
one row per benchmarked file, in benchmark order, then the MAC figures.
"""

import json
import pathlib
import re
import sys

from pqrnn.export import model_card

ROOT = pathlib.Path("workdirs")


def _describe(path: str) -> tuple[str, str]:
    """(model, file) cells of a row, from the path and the file's model card."""
    card = model_card.read_model_card(path)
    parts = pathlib.Path(path).parts
    workdir = parts[-3] if len(parts) >= 3 else path
    if workdir.startswith("distill_"):
        steps = re.search(r"_(\d+)x(_|$)", workdir)
        bigrams = re.search(r"_cng(\d)", workdir)
        model = "pQRNN distilled" + (f", {steps.group(1)}x steps" if steps else "")
        model += f", char {bigrams.group(1)}-grams" if bigrams else ""
    else:
        model = {"pqrnn": "pQRNN", "bilstm": "BiLSTM", "transformer": "transformer"}.get(
            workdir.split("_", 1)[-1], workdir
        )
    precision = card.get("precision", "?")
    method = (card.get("quantization") or {}).get("method", "")
    file = precision if precision == "float32" else f"{precision}, {method.upper()}"
    if precision == "int8" and method == "ptq":
        float_logits = (card.get("quantization") or {}).get("float_logits", False)
        file += ", float logits" if float_logits else ", int8 logits"
    return model, file


def main(dataset: str, run: str = "") -> None:
    name = f"{dataset}_benchmark{'_' + run if run else ''}.json"
    bench = json.loads((ROOT / name).read_text())
    print(
        f"{bench['num_runs']} interleaved runs, {bench['num_threads']} thread(s), "
        f"inputs: {bench['inputs']} ({bench['num_inputs']} utterances, "
        f"mean {bench['mean_tokens']:.2f} tokens)\n"
    )
    print(
        "| model | file | size | p50 latency / utterance | test exact match | "
        "test intent acc. | test slot F1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for g in bench["graphs"]:
        path = g["graph"]
        metrics_path = pathlib.Path(path).with_suffix(".metrics_test.json")
        macro = json.loads(metrics_path.read_text())["macro"] if metrics_path.exists() else None
        model, file = _describe(path)
        lookup = "" if model.startswith("pQRNN") else " (+ lookup in the app)"
        cells = (
            [f"{100 * macro[k]:.2f}" for k in ("exact_match", "intent_accuracy", "slot_f1")]
            if macro
            else ["—"] * 3
        )
        print(
            f"| {model} | {file} | {g['model_bytes'] / 1024:,.0f} KB | "
            f"{g['inference_p50']:.1f} µs{lookup} | " + " | ".join(cells) + " |"
        )
    peak = bench.get("peak_int8_matmul")
    if peak:
        print(
            f"\nint8 matrix throughput of this machine in the same run: "
            f"{peak['gmacs_per_s']:.1f} GMAC/s (p50 {peak['p50_us']:,.0f} µs)"
        )
    for path, m in (bench.get("pqrnn_macs") or {}).items():
        print(
            f"- {path}: {m['per_token'] / 1e3:.0f}K MACs per token, "
            f"{m['per_utterance_at_mean_tokens'] / 1e6:.2f}M per utterance, "
            f"{m['achieved_gmacs_per_s']:.1f} GMAC/s = {100 * m['share_of_peak']:.1f}% of it"
        )


if __name__ == "__main__":
    main(*(sys.argv[1:3] or ["multiatis"]))
