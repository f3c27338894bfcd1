"""Writes the seed corpus of tflite_ops/fuzz/projection_fuzzer.cc.

Seeds are generated, never committed: the committed hostile strings
(tests/hostile_strings.py) under several option headers, plus real
utterances sampled from ../shared/data when that folder exists (real data must
never be committed; the seeds go to a build folder).

    python tflite_ops/fuzz/make_seed_corpus.py --out build/fuzz/seeds

Each seed is the fuzzer's 8-byte header (see projection_fuzzer.cc) followed by
the text. Texts are cut to --max_text bytes (the 1 MB hostile strings are
covered in full by the core tests and tests/test_ops.py; the fuzzer runs with
a small -max_len for speed).
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.hostile_strings import HOSTILE_STRINGS  # noqa: E402


def header(
    feature_size: int = 64,
    max_seq_len: int = 0,
    bos: bool = False,
    eos: bool = False,
    lowercase: bool = False,
    batch_size: int = 1,
    distortion: float | None = None,
    novelty_bits: int = 0,
    doc_size_levels: int = 0,
    char_ngram_size: int = 0,
    char_ngram_sqrt: bool = False,
    cut: int = 0,
    raw_feature_size: bool = False,
    empty_batch: bool = False,
) -> bytes:
    """The 8-byte option header the fuzzer decodes (inverse of ParseHeader)."""
    if raw_feature_size:  # Any F in -2..8189, invalid ones included.
        raw = feature_size + 2
        b0, b1 = raw & 0xFF, ((raw >> 8) & 0x1F) | 0x20
    else:
        assert feature_size % 2 == 0 and 2 <= feature_size <= 128
        raw = feature_size // 2 - 1
        b0, b1 = raw, 0
    b2 = (0x80 | -max_seq_len) if max_seq_len < 0 else max_seq_len
    assert 0 <= b2 <= 0xFF and (max_seq_len < 0 or max_seq_len <= 0x3F)
    b3 = bos | eos << 1 | lowercase << 2 | (batch_size - 1) << 3
    if distortion is not None:
        b3 |= 0x20
    if empty_batch:
        b3 |= 0xC0
    b6 = round((distortion or 0.0) * 200)
    assert 0 <= novelty_bits < 10 and 0 <= char_ngram_size < 10 and 0 <= doc_size_levels < 20
    b4 = novelty_bits + 10 * char_ngram_size
    b5 = doc_size_levels + 20 * char_ngram_sqrt
    return bytes([b0, b1, b2, b3, b4, b5, b6, cut])


# Option headers every hostile string is tried under.
HOSTILE_HEADERS = {
    "plain": header(feature_size=64),
    "rich": header(
        feature_size=16,
        max_seq_len=8,
        bos=True,
        eos=True,
        lowercase=True,
        novelty_bits=3,
        doc_size_levels=4,
    ),
    "batch3": header(feature_size=32, batch_size=3, cut=85, lowercase=True),
    "distort": header(feature_size=32, distortion=0.5, cut=7, eos=True),
    "ngrams_sqrt": header(feature_size=66, char_ngram_size=3, char_ngram_sqrt=True, bos=True),
}

# Option edge cases (valid and invalid), on a short text.
OPTION_SEEDS = {
    "f4096": header(feature_size=4096, raw_feature_size=True, novelty_bits=7, doc_size_levels=16),
    "f2_novelty": header(feature_size=2, novelty_bits=1),
    "f2_both_invalid": header(feature_size=2, novelty_bits=1, doc_size_levels=1),
    "f_odd": header(feature_size=7, raw_feature_size=True),
    "f_zero": header(feature_size=0, raw_feature_size=True),
    "f_negative": header(feature_size=-2, raw_feature_size=True),
    "f_too_large": header(feature_size=4098, raw_feature_size=True),
    "max_seq_len_negative": header(max_seq_len=-1),
    "novelty_8": header(novelty_bits=8),
    "doc_size_17": header(doc_size_levels=17),
    "ngrams_8": header(char_ngram_size=8, cut=5),
    "ngram_sqrt_without_ngrams": header(char_ngram_sqrt=True),
    "distortion_above_1": header(distortion=1.25),
    "distortion_1": header(distortion=1.0, cut=3),
    "empty_batch": header(empty_batch=True),
    "batch4": header(batch_size=4, cut=200, bos=True, eos=True, max_seq_len=2),
}


def real_utterances(data_root: pathlib.Path, per_file: int) -> list[tuple[str, bytes]]:
    """Up to `per_file` utterances (raw bytes) from each real-data file, evenly spaced."""
    columns = {"multiatis": 1, "mtop": 3, "mtop_train_flat": 4}
    out = []
    for dataset, column in columns.items():
        for path in sorted((data_root / dataset).rglob("*")):
            if (
                path.suffix not in (".tsv", ".txt")
                or "README" in path.name
                or "LICENSE" in path.name
            ):
                continue
            lines = path.read_bytes().split(b"\n")
            step = max(1, len(lines) // per_file)
            for i in range(1, len(lines), step)[:per_file]:
                fields = lines[i].split(b"\t")
                if len(fields) > column and fields[column]:
                    name = f"{dataset}_{path.parent.name}_{path.stem}_{i}"
                    out.append((name, fields[column]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="Folder to (re)write the seeds into.")
    parser.add_argument(
        "--data",
        default=str(REPO.parent / "shared" / "data"),
        help="Real-data folder; skipped if absent.",
    )
    parser.add_argument("--per_file", type=int, default=12, help="Utterances per data file.")
    parser.add_argument("--max_text", type=int, default=4096, help="Bytes of text per seed.")
    args = parser.parse_args()

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    seeds: dict[str, bytes] = {}
    for name, text in HOSTILE_STRINGS:
        for variant, head in HOSTILE_HEADERS.items():
            seeds[f"hostile_{name}_{variant}"] = head + text[: args.max_text]
    for name, head in OPTION_SEEDS.items():
        seeds[f"options_{name}"] = head + "Hello wörld  नमस्ते hello\u3000HELLO".encode()
    data_root = pathlib.Path(args.data)
    real = real_utterances(data_root, args.per_file) if data_root.is_dir() else []
    for k, (name, text) in enumerate(real):
        head = [HOSTILE_HEADERS["plain"], HOSTILE_HEADERS["rich"]][k % 2]
        seeds[f"real_{name}"] = head + text[: args.max_text]
    for name, data in seeds.items():
        digest = hashlib.sha1(data).hexdigest()[:8]
        (out / f"{name}_{digest}").write_bytes(data)
    print(
        f"wrote {len(seeds)} seeds to {out} ({len(HOSTILE_STRINGS)} hostile strings x "
        f"{len(HOSTILE_HEADERS)} headers, {len(OPTION_SEEDS)} option cases, "
        f"{len(real)} real utterances{'' if real else ' (no data folder)'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
