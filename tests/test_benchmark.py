"""The benchmark binary: figures in the TFLite benchmark tool's terms, no TF."""

import json
import os
import subprocess
import sys

import pytest

import pqrnn  # noqa: F401
from pqrnn.export import benchmark

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def graphs(tmp_path_factory, tflite_ops_library) -> list[str]:
    """Untrained smoke-sized pQRNN files, float32 and int8 (PTQ)."""
    from pqrnn import models
    from pqrnn.configs import smoke
    from pqrnn.data import synthetic
    from pqrnn.export import converter, deploy_model, model_card

    config = smoke.get_config()
    model = models.build_joint_model(
        models.PQRNNConfig.from_dict(config.model.pqrnn.to_dict()), 6, 13
    )
    deploy = deploy_model.build_deploy_model(model)
    serve = converter.text_serving_function(config, deploy)
    texts = [e.text for e in synthetic.generate("train", synthetic.LANGUAGES, seed=0)[:50]]
    folder = tmp_path_factory.mktemp("bench")
    paths = []
    for precision in ("float32", "int8"):
        content = converter.convert(
            serve,
            deploy,
            precision=precision,
            representative=converter.representative_dataset(texts, "text"),
        )
        card = {
            "model": "pqrnn",
            "precision": precision,
            "training_config": config.to_dict(),
            "input": {"signature": "serving_default", "kind": "text", "name": "text"},
            "intent_labels": [str(i) for i in range(6)],
            "slot_tags": [str(i) for i in range(13)],
        }
        path = folder / f"model_{precision}.tflite"
        path.write_bytes(model_card.add_model_card(content, card))
        paths.append(str(path))
    return paths


def test_benchmark_binary_prints_the_tool_figures_without_tensorflow(graphs, tmp_path):
    output = tmp_path / "bench.json"
    inputs = tmp_path / "utterances.txt"
    inputs.write_text("call mom\nwhat is the weather in paris\n\nplay some adele\n")
    code = (
        "import sys, runpy; sys.argv = sys.argv[1:]; "
        "runpy.run_path('export/benchmark.py', run_name='__main__')"
    )
    args = [f"--graph={g}" for g in graphs] + [
        f"--graph_without_xnnpack={graphs[1]}",
        "--num_runs=30",
        "--warmup_runs=5",
        f"--output_json={output}",
        f"--input_file={inputs}",
    ]
    # A wrapper asserts that the benchmark never imports TensorFlow.
    wrapper = (
        "import atexit, sys; "
        "atexit.register(lambda: sys.stderr.write('TF_IMPORTED\\n' if 'tensorflow' in "
        "sys.modules else 'TF_CLEAN\\n')); " + code
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, "benchmark.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for words in (
        "The input model file size (MB):",
        "Initialized session in",
        "Inference timings in us: Init:",
        "First inference:",
        "Warmup (avg):",
        "Inference (avg):",
        "p50=",
        "p90=",
        "p99=",
        "Per utterance (input setup + inference",
        "Memory footprint delta from the start of the tool (MB):",
        "Overall peak memory footprint (MB):",
        "x p50",
    ):
        assert words in out, words
    assert "TF_CLEAN" in result.stderr
    figures = json.loads(output.read_text())
    assert figures["num_inputs"] == 3 and len(figures["graphs"]) == 3
    assert all(g["inference_count"] == 30 for g in figures["graphs"])
    assert [g["use_xnnpack"] for g in figures["graphs"]] == [True, True, False]
    assert "model_int8.tflite (no XNNPACK)" in out and "Use xnnpack: [0]" in out
    assert f"CPU: {benchmark.cpu_description()}" in out and figures["cpu"]


def test_run_benchmark_interleaves_and_cycles_inputs(graphs):
    results = benchmark.run_benchmark(
        graphs, ["call mom", "play jazz now"], num_runs=7, warmup_runs=2
    )
    assert [len(r.run_us) for r in results] == [7, 7]
    assert all(len(r.warmup_us) == 2 and r.first_us > 0 for r in results)
    for r in results:
        # Per utterance = each run's input setup + its inference.
        assert len(r.setup_us) == len(r.lookup_us) == 7
        s = r.stats()
        assert s["utterance_p50"] > s["p50"] and s["utterance_avg"] == pytest.approx(
            s["avg"] + s["setup_avg"]
        )
    assert "x p50" in benchmark.format_comparison(results)


def test_without_xnnpack_the_runtime_delegates_nothing(graphs):
    def ops(use_xnnpack):
        graph = benchmark._Graph(graphs[1], 1, use_xnnpack)
        return [op["op_name"] for op in graph.interpreter._get_ops_details()]

    assert "DELEGATE" in ops(True)
    assert "DELEGATE" not in ops(False) and "FULLY_CONNECTED" in ops(False)


def test_default_inputs_need_no_data_files():
    texts = benchmark.default_utterances()
    assert len(texts) == 450 and all(t.strip() for t in texts)


def test_macs_of_the_default_pqrnn():
    from pqrnn.configs import common

    config = common.base_config("pqrnn").to_dict()
    macs = benchmark.pqrnn_macs_per_token(config, num_intents=113, num_tags=149)
    # bottleneck 2048x96 + QRNN 3x96x384 + 3x128x384 + attention 128 + slots 128x149
    assert macs["per_token"] == 196608 + 110592 + 147456 + 128 + 19072
    assert macs["per_utterance"] == 128 * 113


_X86_CPUINFO = """processor\t: 0
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni
processor\t: 1
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
"""


def test_cpu_description_names_the_instruction_sets_that_pick_kernels():
    assert benchmark.cpu_description(_X86_CPUINFO) == (
        "Intel(R) Xeon(R) CPU @ 2.20GHz; avx2 fma avx512f avx512_vnni"
    )
    amd = "model name\t: AMD EPYC\nflags\t: sse2 avx fma avx2 f16c\n"
    assert benchmark.cpu_description(amd) == "AMD EPYC; avx2 fma (no AVX-512, no VNNI)"
    old = "model name\t: Old\nflags\t: sse2\n"
    assert benchmark.cpu_description(old) == "Old; no AVX2 (no AVX-512, no VNNI)"
    arm = "processor\t: 0\nFeatures\t: fp asimd asimddp i8mm\nCPU part\t: 0xd41\n"
    assert benchmark.cpu_description(arm).endswith("0xd41; asimd asimddp i8mm")
    arm_old = "Features\t: fp asimd\nCPU part\t: 0xd03\n"
    assert benchmark.cpu_description(arm_old).endswith("(no 8-bit dot product)")
    assert benchmark.cpu_description()  # this machine, whatever it is


@pytest.mark.parametrize("int8", [True, False])
def test_peak_matmul_counts_macs_of_either_precision(int8):
    peak = benchmark.peak_matmul(rows=4, depth=32, columns=16, runs=3, int8=int8)
    assert peak["macs"] == 4 * 32 * 16
    assert peak["p50_us"] > 0
    assert peak["gmacs_per_s"] == pytest.approx(peak["macs"] / peak["p50_us"] / 1e3)
