"""Prints the distillation tables of docs/RESULTS.md from finished workdirs.

    .venv/bin/python tools/distill_table.py multiatis   # after tools/distill_results.sh multiatis
    .venv/bin/python tools/distill_table.py mtop
    (rows of STEPS=2, 3, 4 and 8 tools/distill_results.sh, with CNG=2 too, of pQRNN alone
    trained as long, and of CNG=2 and 3 runs appear when they exist)
    (and AUG=a runs, workdirs/distill_<dataset>_<k>x_cng2_aug<a>)
    .venv/bin/python tools/distill_table.py multiatis gap distill_multiatis_2x_cng2
    (teacher minus that student, per language: intent accuracy, slot F1, exact match)
    .venv/bin/python tools/distill_table.py ablate_en   # after tools/ablate_distill_en.sh

Reads metrics_test.json / teacher_metrics_test.json (pqrnn.bin.evaluate,
pqrnn.bin.teacher), <file>.metrics_test.json of the exported .tflite files
(`evaluate --tflite`) and train_summary.json. Prints exact match per language
with the average and each row's share of the teacher's average, then sizes.
"""

import json
import pathlib
import sys

from pqrnn.export import model_card

ROOT = pathlib.Path("workdirs")


def _read(path: pathlib.Path):
    return json.loads(path.read_text()) if path.exists() else None


def _method(workdir: pathlib.Path) -> str:
    """QAT or PTQ: how workdir/export/model_int8.tflite was quantized (its card)."""
    path = workdir / "export/model_int8.tflite"
    if not path.exists():
        return "?"
    card = model_card.read_model_card(str(path))
    return (card.get("quantization") or {}).get("method", "?").upper()


def _teacher_metrics(workdir: pathlib.Path):
    return _read(workdir / "metrics_test.json") or _read(workdir / "teacher_metrics_test.json")


def _em_table(rows: list[tuple[str, dict]], teacher_em: float) -> None:
    languages = list(rows[0][1]["per_language"])
    print("| model | " + " | ".join(languages) + " | avg | share of teacher |")
    print("|---|" + "---|" * (len(languages) + 2))
    for name, metrics in rows:
        cells = [f"{100 * metrics['per_language'][lang]['exact_match']:.1f}" for lang in languages]
        em = metrics["macro"]["exact_match"]
        print(
            f"| {name} | "
            + " | ".join(cells)
            + f" | **{100 * em:.1f}** | {100 * em / teacher_em:.1f}% |"
        )


def _variant_rows(dataset: str, suffix: str, label: str) -> list[tuple[str, pathlib.Path]]:
    """(name, metrics path) of pQRNN alone (Keras), the student (Keras) and
    the student's int8 file, for runs whose workdirs end in `suffix`."""
    student = ROOT / f"distill_{dataset}{suffix}"
    return [
        (f"pQRNN alone, {label}, Keras", ROOT / f"{dataset}_pqrnn{suffix}/metrics_test.json"),
        (f"pQRNN distilled, {label}, Keras", student / "metrics_test.json"),
        (
            f"pQRNN distilled, {label}, int8 .tflite ({_method(student)})",
            student / "export/model_int8.metrics_test.json",
        ),
    ]


def _label(suffix: str) -> str:
    """'2x_cng2_sqrt_aug7' -> 'char 2-grams / √G, 2x steps, 7 augmented per utterance'."""
    parts = suffix.split("_")
    steps = next(p for p in parts if p.endswith("x"))
    ngrams = next(p for p in parts if p.startswith("cng")).removeprefix("cng")
    label = f"char {ngrams}-grams" + (" / √G" if "sqrt" in parts else "") + f", {steps} steps"
    for p in parts:
        if p.startswith("aug"):
            label += f", {p.removeprefix('aug')} augmented per utterance"
    return label


def dataset_tables(dataset: str) -> None:
    teacher_dir = ROOT / f"teacher_{dataset}"
    student_dir = ROOT / f"distill_{dataset}"
    alone_dir = ROOT / f"{dataset}_pqrnn"
    teacher = _teacher_metrics(teacher_dir)
    if teacher is None:
        sys.exit(f"no teacher metrics in {teacher_dir}")
    rows = [("teacher (char_bilstm)", teacher)]
    for name, path in (
        ("pQRNN alone, Keras", alone_dir / "metrics_test.json"),
        (
            f"pQRNN alone, int8 .tflite ({_method(alone_dir)})",
            alone_dir / "export/model_int8.metrics_test.json",
        ),
        ("pQRNN distilled, Keras", student_dir / "metrics_test.json"),
        (
            "pQRNN distilled, float32 .tflite",
            student_dir / "export/model_float32.metrics_test.json",
        ),
        (
            f"pQRNN distilled, int8 .tflite ({_method(student_dir)})",
            student_dir / "export/model_int8.metrics_test.json",
        ),
        # STEPS=k tools/distill_results.sh: the same student trained k times
        # as long, and pQRNN alone trained as long (workdirs/<dataset>_pqrnn_<k>x).
        *(row for k in (2, 3, 4, 8) for row in _variant_rows(dataset, f"_{k}x", f"{k}x steps")),
        # CNG=n tools/run_results.sh / distill_results.sh: character n-grams
        # of size n in the projection (workdirs/<name>_cng<n>).
        *(row for n in (2, 3) for row in _variant_rows(dataset, f"_cng{n}", f"char {n}-grams")),
        # Both: STEPS=k CNG=2 (workdirs/<name>_<k>x_cng2).
        *(
            row
            for k in (2, 3, 4, 8)
            for row in _variant_rows(dataset, f"_{k}x_cng2", f"char 2-grams, {k}x steps")
        ),
        # Further STEPS=k CNG=2 runs: SQRT=1 (n-grams' sum / sqrt(G)) and
        # AUG=a (a augmented utterances per training utterance).
        *(
            row
            for workdir in sorted(ROOT.glob(f"distill_{dataset}_*x_cng2_*"))
            for row in _variant_rows(
                dataset,
                workdir.name.removeprefix(f"distill_{dataset}"),
                _label(workdir.name.removeprefix(f"distill_{dataset}_")),
            )
        ),
    ):
        metrics = _read(path)
        if metrics is not None:
            rows.append((name, metrics))
    print(f"\nExact match (%), {dataset} test:\n")
    _em_table(rows, teacher["macro"]["exact_match"])
    print("\nIntent accuracy / slot F1 (%, averages):\n")
    print("| model | intent acc. | slot F1 | exact match |")
    print("|---|---|---|---|")
    for name, m in rows:
        macro = m["macro"]
        print(
            f"| {name} | {100 * macro['intent_accuracy']:.2f} | {100 * macro['slot_f1']:.2f} | "
            f"{100 * macro['exact_match']:.2f} |"
        )
    teacher_summary = _read(teacher_dir / "train_summary.json") or {}
    student_summary = _read(student_dir / "train_summary.json") or {}
    # Its weights as float32 (its checkpoints also hold the optimizer's state).
    teacher_bytes = 4 * teacher_summary.get("parameters", 0)
    int8 = student_dir / "export/model_int8.tflite"
    print("\n| | parameters | file |")
    print("|---|---|---|")
    print(
        f"| teacher | {teacher_summary.get('parameters', 0):,} | "
        f"{teacher_bytes / 1024:,.0f} KB (float32 weights) |"
    )
    if int8.exists():
        print(
            f"| student | {student_summary.get('parameters', 0):,} | "
            f"{int8.stat().st_size / 1024:,.0f} KB (int8 .tflite) |"
        )
        if teacher_summary.get("parameters") and student_summary.get("parameters"):
            print(
                f"| teacher / student | {teacher_summary['parameters'] / student_summary['parameters']:.1f}× | "
                f"{teacher_bytes / int8.stat().st_size:.1f}× |"
            )


def gap_table(dataset: str, student: str) -> None:
    """Teacher minus student per language (the student's int8 file when it
    has one): which languages and which half of the task the gap is in."""
    teacher = _teacher_metrics(ROOT / f"teacher_{dataset}")
    workdir = ROOT / student
    metrics = _read(workdir / "export/model_int8.metrics_test.json") or _read(
        workdir / "metrics_test.json"
    )
    if teacher is None or metrics is None:
        sys.exit(f"no test metrics for the teacher of {dataset} or for {workdir}")
    keys = ("intent_accuracy", "slot_f1", "exact_match")
    print(f"\nTeacher − {student} (points, test):\n")
    print("| language | intent acc. | slot F1 | exact match |")
    print("|---|---|---|---|")
    for lang in [*metrics["per_language"], "macro"]:
        t = teacher["macro"] if lang == "macro" else teacher["per_language"][lang]
        m = metrics["macro"] if lang == "macro" else metrics["per_language"][lang]
        cells = [f"{100 * t[k]:.1f} − {100 * m[k]:.1f} = {100 * (t[k] - m[k]):+.1f}" for k in keys]
        print(f"| {'avg' if lang == 'macro' else lang} | " + " | ".join(cells) + " |")


def ablation_table() -> None:
    teacher = _teacher_metrics(ROOT / "teacher_multiatis")
    alone = _read(ROOT / "ablate_en_pqrnn_no_dropout_no_zoneout/metrics_test.json")
    print("\nMultiATIS++ English test (%):\n")
    print("| run | intent acc. | slot F1 | exact match |")
    print("|---|---|---|---|")

    def row(name, m):
        e = m["per_language"]["en"]
        print(
            f"| {name} | {100 * e['intent_accuracy']:.1f} | {100 * e['slot_f1']:.1f} | "
            f"{100 * e['exact_match']:.1f} |"
        )

    if teacher:
        row("teacher (multilingual char_bilstm), English", teacher)
    if alone:
        row("pQRNN alone (12 epochs)", alone)
    for workdir in sorted(ROOT.glob("ablate_en_distill_*")):
        metrics = _read(workdir / "metrics_test.json")
        if metrics:
            row(workdir.name.removeprefix("ablate_en_distill_"), metrics)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "multiatis"
    if which == "ablate_en":
        ablation_table()
    elif len(sys.argv) > 3 and sys.argv[2] == "gap":
        gap_table(which, sys.argv[3])
    else:
        dataset_tables(which)
