"""Prints the markdown tables of docs/RESULTS.md from training workdirs.

    .venv/bin/python tools/results_table.py multiatis   # workdirs/multiatis_{pqrnn,bilstm,transformer}
    .venv/bin/python tools/results_table.py multiatis pqrnn pqrnn_reg01 bilstm   # chosen runs

Reads each workdir's metrics_test.json (pqrnn.bin.evaluate) and
train_summary.json (pqrnn.bin.train); prints one table per metric (languages
as columns, models as rows) and a summary table with parameters and time.
"""

import json
import pathlib
import sys

MODELS = ("pqrnn", "bilstm", "transformer")
METRICS = (
    ("exact_match", "Exact match"),
    ("intent_accuracy", "Intent accuracy"),
    ("slot_f1", "Slot F1"),
)


def main(dataset: str, *models: str, root: str = "workdirs") -> None:
    runs = {}
    for model in models or MODELS:
        workdir = pathlib.Path(root) / f"{dataset}_{model}"
        metrics_file = workdir / "metrics_test.json"
        if metrics_file.exists():
            runs[model] = (
                json.loads(metrics_file.read_text()),
                json.loads((workdir / "train_summary.json").read_text()),
            )
    if not runs:
        sys.exit(f"no finished runs under {root}/{dataset}_*")
    languages = list(next(iter(runs.values()))[0]["per_language"])
    for key, title in METRICS:
        print(f"\n{title} (%), test:\n")
        print("| model | " + " | ".join(languages) + " | avg |")
        print("|---|" + "---|" * (len(languages) + 1))
        for model, (metrics, _) in runs.items():
            cells = [f"{100 * metrics['per_language'][lang][key]:.1f}" for lang in languages]
            print(
                f"| {model} | " + " | ".join(cells) + f" | **{100 * metrics['macro'][key]:.1f}** |"
            )
    print("\n| model | parameters | train examples/s | training wall time (this run) | steps |")
    print("|---|---|---|---|---|")
    for model, (_, summary) in runs.items():
        print(
            f"| {model} | {summary['parameters']:,} | {summary['examples_per_second']:.0f} | "
            f"{summary['train_seconds_this_run'] / 60:.1f} min | {summary['steps']} |"
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
