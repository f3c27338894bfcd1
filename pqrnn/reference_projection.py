"""A NumPy implementation of the projection contract, independent of the C++ op.

It exists for two reasons: it is the reference the C++ kernel's throughput is
measured against (`python -m pqrnn.bin.benchmark_projection`), and it is a
second, independently written oracle that tests compare the op with. It is
vectorised over tokens (the hash runs as uint64 array arithmetic) but
tokenises in Python. Distortion is not implemented (training-only).
"""

from __future__ import annotations

import math
import re

import numpy as np

_K_MUL = np.uint64(0xC6A4A7935BD1E995)
_K_MUL2 = np.uint64(0x9E3779B97F4A7835)
_SHIFT = np.uint64(47)

# Unicode White_Space (PropList.txt). Python's str.split() is not this set: it
# also splits on U+001C..U+001F.
_WHITESPACE = re.compile(
    "[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
_FEATURE_OF_BITS = np.array([0.0, 1.0, -1.0, 0.0], dtype=np.float32)


def _shift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> _SHIFT)


def hash_tokens(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """128-bit hash (low, high) of each token, bytes read as unsigned."""
    n = len(tokens)
    lengths = np.array([len(t) for t in tokens], dtype=np.uint64)
    max_blocks = int(max((len(t) for t in tokens), default=0)) // 8 + 1
    buffer = np.zeros((n, max_blocks * 8), dtype=np.uint8)
    for i, token in enumerate(tokens):
        buffer[i, : len(token)] = np.frombuffer(token, dtype=np.uint8)
    blocks = buffer.view("<u8")
    full_blocks = lengths // np.uint64(8)
    has_tail = (lengths % np.uint64(8)) != 0
    with np.errstate(over="ignore"):
        low = lengths * _K_MUL
        high = np.zeros(n, dtype=np.uint64)
        for j in range(max_blocks):
            d = blocks[:, j]
            full = np.uint64(j) < full_blocks
            mixed = (low ^ (_shift_mix(d * _K_MUL) * _K_MUL)) * _K_MUL
            tail = (np.uint64(j) == full_blocks) & has_tail
            tailed = (low ^ d) * _K_MUL
            new_low = np.where(full, mixed, np.where(tail, tailed, low))
            high = np.where(full | tail, high ^ new_low, high)
            low = new_low
        low = _shift_mix(low) * _K_MUL
        high ^= low
        low = _shift_mix(low)
        high = _shift_mix(high * _K_MUL2) * _K_MUL2
    return low, high


def code_words(tokens: list[bytes], num_words: int) -> np.ndarray:
    """[N, num_words] uint64 code words [low0, high0, low1, high1, ...]."""
    low, high = hash_tokens(tokens)
    words = np.zeros((len(tokens), num_words + (num_words % 2)), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for pair in range(words.shape[1] // 2):
            if pair:
                t = _shift_mix(low) * _K_MUL
                u = high ^ t
                high = _shift_mix(t)
                low = _shift_mix(u * _K_MUL2) * _K_MUL2
            words[:, 2 * pair] = low
            words[:, 2 * pair + 1] = high
    return words[:, :num_words]


def features(tokens: list[bytes], feature_size: int) -> np.ndarray:
    """[N, feature_size] ternary features of each token."""
    words = code_words(tokens, (feature_size + 31) // 32)
    k = np.arange(feature_size)
    bits = (words[:, k // 32] >> (2 * (k % 32)).astype(np.uint64)) & np.uint64(3)
    return _FEATURE_OF_BITS[bits.astype(np.int64)]


MAX_CHAR_NGRAMS_PER_TOKEN = 64


def char_ngrams(token: bytes, n: int) -> list[bytes]:
    """The hashed byte strings of a normalised token's character n-grams.

    Windows of n code points over "<" + token + ">" (the whole bounded token
    when it is shorter), the first MAX_CHAR_NGRAMS_PER_TOKEN, each behind a
    0xFF byte (never part of UTF-8, so no n-gram hashes like a token).
    """
    bounded = "<" + token.decode("utf-8") + ">"
    starts = range(max(len(bounded) - n + 1, 1))[:MAX_CHAR_NGRAMS_PER_TOKEN]
    return [b"\xff" + bounded[i : i + n].encode("utf-8") for i in starts]


def _simple_lower(token: str) -> str:
    # One-to-one simple lowercase: str.lower() is the full mapping, which can
    # change the length (U+0130 -> "i̇"); keep a code point unchanged unless
    # its lowercase is a single code point (U+0130's simple lowercase is "i").
    out = []
    for ch in token:
        lower = ch.lower()
        out.append(lower if len(lower) == 1 else ("i" if ch == "\u0130" else ch))
    return "".join(out)


def tokenize(
    text: bytes,
    max_seq_len: int = 0,
    add_bos_tag: bool = False,
    add_eos_tag: bool = False,
    lowercase: bool = False,
) -> tuple[list[bytes], int]:
    """Tokens (normalised UTF-8 bytes, with BOS/EOS) and the real-token count."""
    decoded = text.decode("utf-8", errors="replace")
    pieces = [p for p in _WHITESPACE.split(decoded) if p]
    if max_seq_len > 0:
        pieces = pieces[:max_seq_len]
    if lowercase:
        pieces = [_simple_lower(p) for p in pieces]
    tokens = [p.encode("utf-8") if p else b"<null>" for p in pieces]
    real = len(tokens)
    if add_bos_tag:
        tokens.insert(0, b"<BOS>")
    if add_eos_tag:
        tokens.append(b"<EOS>")
    return tokens, real


def sequence_string_projection(
    texts: list[bytes] | list[str],
    feature_size: int,
    max_seq_len: int = 0,
    add_bos_tag: bool = False,
    add_eos_tag: bool = False,
    word_novelty_bits: int = 0,
    doc_size_levels: int = 0,
    lowercase: bool = False,
    char_ngram_size: int = 0,
    char_ngram_sqrt: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """NumPy twin of `pqrnn.ops.sequence_string_projection` (no distortion)."""
    encoded = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in texts]
    tokenized = [tokenize(t, max_seq_len, add_bos_tag, add_eos_tag, lowercase) for t in encoded]
    lengths = np.array([len(toks) for toks, _ in tokenized], dtype=np.int32)
    max_len = int(lengths.max(initial=0))
    out = np.zeros((len(encoded), max_len, feature_size), dtype=np.float32)
    unique = sorted({tok for toks, _ in tokenized for tok in toks})
    if unique:
        table = features(unique, feature_size)
        index = {tok: i for i, tok in enumerate(unique)}
    for b, (toks, real) in enumerate(tokenized):
        if not toks:
            continue
        out[b, : len(toks)] = table[[index[t] for t in toks]]
        if char_ngram_size:
            first = 1 if add_bos_tag else 0
            for i in range(first, first + real):
                if toks[i] == b"<null>":
                    continue
                grams = features(char_ngrams(toks[i], char_ngram_size), feature_size)
                total = grams.sum(axis=0, dtype=np.float32)  # small integers: exact
                count = np.float32(len(grams))
                # np.sqrt of a float32 is the correctly rounded float32, as sqrtf.
                out[b, i] += total / (np.sqrt(count) if char_ngram_sqrt else count)
        if word_novelty_bits:
            seen: dict[bytes, int] = {}
            for i, tok in enumerate(toks):
                count = seen.get(tok, 0)
                seen[tok] = count + 1
                out[b, i, feature_size - 1] = min(count * 2.0**-word_novelty_bits, 1.0) * 2.0 - 1.0
        if doc_size_levels:
            size = math.log2(real) if real > 0 else 0.0
            out[b, : len(toks), feature_size - 2] = min(size / doc_size_levels, 1.0) * 2.0 - 1.0
    return out, lengths
