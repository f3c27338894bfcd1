r"""Position-balanced latency comparison of .tflite files.

In one interleaved export/benchmark.py run a file's position changes its
figures (the files' weights evict each other from the caches). This runs
every rotation of the --graph list, --rounds times, and prints each file's
median p50 over all runs and its ratio to the first file's: of inference
alone, and per utterance (input setup + inference; export/benchmark.py
says why they differ).

    python tools/rotated_benchmark.py --dataset=multiatis \
        --graph=workdirs/distill_multiatis_2x_cng2/export/model_int8.tflite \
        --graph=workdirs/multiatis_transformer/export/model_float32.tflite \
        --graph=workdirs/multiatis_bilstm/export/model_float32.tflite
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

from absl import app, flags

_GRAPHS = flags.DEFINE_multi_string("graph", [], "A .tflite file; repeat (2 or more).")
_DATASET = flags.DEFINE_string("dataset", "multiatis", "Utterances: multiatis or mtop test split.")
_ROUNDS = flags.DEFINE_integer("rounds", 3, "Times each rotation is run.")
_NUM_RUNS = flags.DEFINE_integer("num_runs", 2000, "Timed invokes per file per run.")

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(graphs: list[str], path: str) -> tuple[str, dict[str, tuple[float, float]]]:
    """One export/benchmark.py run: the CPU line it recorded, and per graph
    (inference p50, per-utterance p50)."""
    command = [
        sys.executable,
        os.path.join(_REPO, "export", "benchmark.py"),
        *(f"--graph={g}" for g in graphs),
        f"--dataset={_DATASET.value}",
        "--split=test",
        f"--num_runs={_NUM_RUNS.value}",
        "--num_threads=1",
        f"--output_json={path}",
    ]
    subprocess.run(command, check=True, capture_output=True, cwd=_REPO)
    with open(path) as f:
        result = json.load(f)
    return result["cpu"], {
        g["graph"]: (g["inference_p50"], g["inference_utterance_p50"]) for g in result["graphs"]
    }


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    graphs = _GRAPHS.value
    if len(graphs) < 2:
        raise app.UsageError("give two or more --graph files")
    p50s: dict[str, list[float]] = {g: [] for g in graphs}
    utterance_p50s: dict[str, list[float]] = {g: [] for g in graphs}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(_ROUNDS.value):
            for shift in range(len(graphs)):
                order = graphs[shift:] + graphs[:shift]
                cpu, figures = _run(order, os.path.join(tmp, "run.json"))
                if r == 0 and shift == 0:
                    print(f"CPU: {cpu}", flush=True)
                line = "  ".join(
                    f"{os.path.basename(os.path.dirname(os.path.dirname(g)))} "
                    f"{figures[g][0]:.1f}/{figures[g][1]:.1f}"
                    for g in order
                )
                print(
                    f"round {r + 1}, order {shift + 1} (p50 inference/utterance): {line}",
                    flush=True,
                )
                for g in graphs:
                    p50s[g].append(figures[g][0])
                    utterance_p50s[g].append(figures[g][1])
    runs = _ROUNDS.value * len(graphs)
    print(f"\nmedian p50 over {runs} runs (every position {_ROUNDS.value} times), one thread:")
    first = statistics.median(p50s[graphs[0]])
    first_utterance = statistics.median(utterance_p50s[graphs[0]])
    print(f"  {'graph':<60} {'inference':>10} {'x':>5} {'per utterance':>14} {'x':>5}")
    for g in graphs:
        m = statistics.median(p50s[g])
        u = statistics.median(utterance_p50s[g])
        print(f"  {g:<60} {m:7.1f} us x{m / first:.2f} {u:11.1f} us x{u / first_utterance:.2f}")


if __name__ == "__main__":
    app.run(main)
