// Coverage-guided fuzz target for the projection core
// (tflite_ops/projection/sequence_string_projection.h).
//
// Input layout: an 8-byte header that selects the options and the batch
// shape, then the text bytes (missing header bytes read as 0):
//
//   byte 0-1  feature_size: raw = b0 | (b1 & 0x1F) << 8;
//             b1 & 0x20: F = raw - 2 (any value -2..8189: odd, 0, > 4096
//             reach ValidateOptions); else F = 2 * (1 + raw % 64) (2..128).
//   byte 2    max_seq_len: b2 & 0x80 ? -(b2 & 0x7F) : b2 & 0x3F.
//   byte 3    bit 0 BOS, bit 1 EOS, bit 2 lowercase, bits 3-4 batch size - 1,
//             bit 5 distortion, bits 6-7 == 3: an empty batch.
//   byte 4    word_novelty_bits = b4 % 10 (8, 9 invalid);
//             char_ngram_size = (b4 / 10) % 10 (9 invalid).
//   byte 5    doc_size_levels = b5 % 20 (17..19 invalid);
//             char_ngram_sqrt = (b5 / 20) & 1 (invalid without n-grams).
//   byte 6    distortion_probability = b6 / 200 (> 1 invalid), if bit 5.
//   byte 7    where the text is cut into the batch's strings; RNG seed.
//
// Invalid options must be rejected with a message and never projected. Valid
// ones are projected, and every invariant of the contract (docs/PROJECTION.md)
// is checked: lengths and T, padding rows exactly 0, ternary features outside
// the novelty (F-1) and doc-size (F-2) slots (word + S / G in [-2, 2], or
// word + S / sqrt(G) in [-1 - sqrt(G), 1 + sqrt(G)], on the rows that get
// character n-grams) and finite values in
// [-1, 1] there, tokens equal to an obviously-right reference tokenizer (decode all,
// split on White_Space, lowercase, re-encode), each row equal to the hash of
// its token, batch == one-by-one, and two runs bit-identical. Every string
// lives in a heap block of exactly its size, so ASan catches any over-read.
//
// Build and run: `make -f Makefile -f tools/reliability.mk fuzz` (60 s) or
// `fuzz-long`; see docs/RELIABILITY.md.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tflite_ops/projection/sequence_string_projection.h"

namespace {

using pqrnn::ProjectionOptions;
using pqrnn::SequenceStringProjector;
using pqrnn::TokenizedBatch;
using pqrnn::TokenizedText;

[[noreturn]] void Fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) Fail(__FILE__, __LINE__, #cond); \
  } while (0)

constexpr size_t kHeaderSize = 8;

struct Header {
  ProjectionOptions options;
  bool distort = false;
  bool empty_batch = false;
  int batch_size = 1;
  uint8_t cut = 0;
};

Header ParseHeader(const uint8_t* data, size_t size) {
  uint8_t h[kHeaderSize] = {};
  if (size > 0) std::memcpy(h, data, size < kHeaderSize ? size : kHeaderSize);
  Header out;
  ProjectionOptions& o = out.options;
  const int raw = h[0] | ((h[1] & 0x1F) << 8);
  o.feature_size = (h[1] & 0x20) ? raw - 2 : 2 * (1 + raw % 64);
  o.max_seq_len = (h[2] & 0x80) ? -(h[2] & 0x7F) : (h[2] & 0x3F);
  o.add_bos_tag = h[3] & 1;
  o.add_eos_tag = h[3] & 2;
  o.lowercase = h[3] & 4;
  out.batch_size = 1 + ((h[3] >> 3) & 3);
  out.distort = h[3] & 0x20;
  out.empty_batch = (h[3] >> 6) == 3;
  o.word_novelty_bits = h[4] % 10;
  o.char_ngram_size = (h[4] / 10) % 10;
  o.doc_size_levels = h[5] % 20;
  o.char_ngram_sqrt = (h[5] / 20) & 1;
  o.distortion_probability = out.distort ? h[6] / 200.0f : 0.0f;
  out.cut = h[7];
  return out;
}

// The obviously-right tokenizer the fast one must match (no distortion).
std::vector<std::string> ReferenceTokens(std::string_view text, const ProjectionOptions& o) {
  std::vector<std::string> tokens;
  if (o.add_bos_tag) tokens.emplace_back("<BOS>");
  std::string current;
  bool in_token = false;
  int kept = 0;
  bool full = false;
  auto flush = [&]() {
    if (in_token && !full) {
      tokens.push_back(current.empty() ? "<null>" : current);
      ++kept;
      full = o.max_seq_len > 0 && kept >= o.max_seq_len;
    }
    current.clear();
    in_token = false;
  };
  for (char32_t c : pqrnn::DecodeUtf8(text)) {
    if (pqrnn::IsUnicodeWhitespace(c)) {
      flush();
    } else {
      in_token = true;
      pqrnn::AppendUtf8(o.lowercase ? pqrnn::SimpleLowercase(c) : c, &current);
    }
  }
  flush();
  if (o.add_eos_tag) tokens.emplace_back("<EOS>");
  return tokens;
}

bool IsWellFormedUtf8(const std::string& s) {
  std::string round_trip;
  for (char32_t c : pqrnn::DecodeUtf8(s)) pqrnn::AppendUtf8(c, &round_trip);
  return round_trip == s;
}

bool HasWhitespace(const std::string& s) {
  for (char32_t c : pqrnn::DecodeUtf8(s)) {
    if (pqrnn::IsUnicodeWhitespace(c)) return true;
  }
  return false;
}

// One projection of the batch into exactly-sized buffers.
struct Output {
  TokenizedBatch batch;
  std::vector<float> features;
  std::vector<int32_t> lengths;
};

Output Run(const SequenceStringProjector& projector, const std::vector<std::string_view>& texts,
           pqrnn::Rng* rng) {
  Output out;
  out.batch = projector.TokenizeBatch(texts, rng);
  const size_t f = static_cast<size_t>(projector.options().feature_size);
  const size_t n = texts.size() * static_cast<size_t>(out.batch.max_tokens) * f;
  out.features.assign(n, 12345.0f);  // Sentinel: every element must be written.
  out.lengths.assign(texts.size(), -7);
  // Empty vectors have no buffer; the adapters hand ProjectBatch a dummy.
  float dummy_f = 0;
  int32_t dummy_l = 0;
  projector.ProjectBatch(out.batch, n ? out.features.data() : &dummy_f,
                         texts.empty() ? &dummy_l : out.lengths.data());
  return out;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

void CheckOutput(const ProjectionOptions& o, const std::vector<std::string_view>& texts,
                 const Output& out, bool distorted) {
  const size_t f = static_cast<size_t>(o.feature_size);
  const size_t b_count = texts.size();
  FUZZ_CHECK(out.batch.examples.size() == b_count);
  int max_tokens = 0;
  for (const TokenizedText& e : out.batch.examples) {
    max_tokens = std::max(max_tokens, static_cast<int>(e.tokens.size()));
  }
  FUZZ_CHECK(out.batch.max_tokens == max_tokens);
  const size_t t = static_cast<size_t>(max_tokens);
  const int extras = o.add_bos_tag + o.add_eos_tag;

  std::vector<uint64_t> words((f + 31) / 32);
  std::vector<float> expected(f);
  std::vector<float> gram_features(f);
  std::vector<float> gram_sum(f);
  for (size_t b = 0; b < b_count; ++b) {
    const TokenizedText& e = out.batch.examples[b];
    FUZZ_CHECK(out.lengths[b] == static_cast<int32_t>(e.tokens.size()));
    FUZZ_CHECK(static_cast<int>(e.tokens.size()) == e.num_real_tokens + extras);
    if (o.max_seq_len > 0) FUZZ_CHECK(e.num_real_tokens <= o.max_seq_len);
    if (o.add_bos_tag) FUZZ_CHECK(e.tokens.front() == "<BOS>");
    if (o.add_eos_tag) FUZZ_CHECK(e.tokens.back() == "<EOS>");
    if (!distorted) {
      FUZZ_CHECK(e.tokens == ReferenceTokens(texts[b], o));
    }
    for (const std::string& token : e.tokens) {
      FUZZ_CHECK(!token.empty());
      FUZZ_CHECK(IsWellFormedUtf8(token));
      if (!distorted) FUZZ_CHECK(!HasWhitespace(token));
    }

    const float* block = out.features.data() + b * t * f;
    for (size_t r = 0; r < t; ++r) {
      const float* row = block + r * f;
      if (r >= e.tokens.size()) {  // Padding rows are exactly +0.0.
        for (size_t k = 0; k < f; ++k) FUZZ_CHECK(row[k] == 0.0f && !std::signbit(row[k]));
        continue;
      }
      pqrnn::CodeWords(e.tokens[r], static_cast<int>(words.size()), words.data());
      pqrnn::FeaturesFromCodeWords(words.data(), static_cast<int>(f), expected.data());
      const bool special = (r == 0 && o.add_bos_tag) ||
                           (r + 1 == e.tokens.size() && o.add_eos_tag) ||
                           e.tokens[r] == "<null>";
      const bool has_grams = o.char_ngram_size > 0 && !special;
      float bound = 2.0f;  // |word + S / D| <= 1 + G / D.
      if (has_grams) {  // word + S / D, S summed over the public n-gram list.
        const std::vector<std::string> grams = pqrnn::CharNgrams(e.tokens[r], o.char_ngram_size);
        FUZZ_CHECK(!grams.empty() &&
                   grams.size() <= static_cast<size_t>(pqrnn::kMaxCharNgramsPerToken));
        std::fill(gram_sum.begin(), gram_sum.end(), 0.0f);
        for (const std::string& gram : grams) {
          FUZZ_CHECK(static_cast<unsigned char>(gram[0]) == 0xFF);
          pqrnn::CodeWords(gram, static_cast<int>(words.size()), words.data());
          pqrnn::FeaturesFromCodeWords(words.data(), static_cast<int>(f), gram_features.data());
          for (size_t k = 0; k < f; ++k) gram_sum[k] += gram_features[k];
        }
        const float count = static_cast<float>(grams.size());
        const float divisor = o.char_ngram_sqrt ? std::sqrt(count) : count;
        for (size_t k = 0; k < f; ++k) expected[k] += gram_sum[k] / divisor;
        bound = 1.0f + count / divisor;
      }
      for (size_t k = 0; k < f; ++k) {
        const float v = row[k];
        FUZZ_CHECK(std::isfinite(v));
        const bool novelty = o.word_novelty_bits > 0 && k == f - 1;
        const bool doc_size = o.doc_size_levels > 0 && k == f - 2;
        if (novelty || doc_size) {
          FUZZ_CHECK(v >= -1.0f && v <= 1.0f);
        } else if (has_grams) {
          FUZZ_CHECK(v >= -bound && v <= bound);
          FUZZ_CHECK(v == expected[k]);
        } else {
          FUZZ_CHECK(v == -1.0f || v == 0.0f || v == 1.0f);
          FUZZ_CHECK(v == expected[k]);
        }
      }
      if (o.doc_size_levels > 0) {  // Same value on every row of an example.
        FUZZ_CHECK(row[f - 2] == block[f - 2]);
        if (e.num_real_tokens <= 1) FUZZ_CHECK(row[f - 2] == -1.0f);
      }
      if (o.word_novelty_bits > 0 && r == 0) FUZZ_CHECK(row[f - 1] == -1.0f);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Header header = ParseHeader(data, size);
  const ProjectionOptions& o = header.options;
  const std::string error = pqrnn::ValidateOptions(o);
  const bool in_range = o.feature_size >= 2 && o.feature_size <= pqrnn::kMaxFeatureSize &&
                        o.feature_size % 2 == 0 && o.max_seq_len >= 0 &&
                        o.word_novelty_bits <= pqrnn::kMaxWordNoveltyBits &&
                        o.doc_size_levels <= pqrnn::kMaxDocSizeLevels &&
                        o.char_ngram_size <= pqrnn::kMaxCharNgramSize &&
                        !(o.char_ngram_sqrt && o.char_ngram_size == 0) &&
                        o.distortion_probability <= 1.0f &&
                        o.feature_size >= 2 * ((o.word_novelty_bits > 0) +
                                               (o.doc_size_levels > 0));
  // ValidateOptions accepts exactly the documented ranges, with a message
  // naming the attribute otherwise.
  FUZZ_CHECK(error.empty() == in_range);
  if (!error.empty()) return 0;

  // Cut the text into the batch's strings, each in its own exact-size block.
  const uint8_t* text = data + (size < kHeaderSize ? size : kHeaderSize);
  const size_t text_size = size - (size < kHeaderSize ? size : kHeaderSize);
  const int batch_size = header.empty_batch ? 0 : header.batch_size;
  std::vector<size_t> cuts = {0};
  for (int k = 1; k < batch_size; ++k) {
    cuts.push_back(text_size * ((header.cut * k + 37 * (k - 1)) % 256) / 256);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(text_size);
  std::vector<std::unique_ptr<char[]>> blocks;
  std::vector<std::string_view> texts;
  for (int k = 0; k < batch_size; ++k) {
    const size_t n = cuts[k + 1] - cuts[k];
    blocks.emplace_back(new char[n == 0 ? 1 : n]);
    if (n) std::memcpy(blocks.back().get(), text + cuts[k], n);
    texts.emplace_back(blocks.back().get(), n);
  }

  const SequenceStringProjector projector(o);
  if (header.distort && o.distortion_probability > 0) {
    // Distortion: reproducible per seed, same token counts as without it.
    pqrnn::Rng rng_a(header.cut), rng_b(header.cut);
    const Output a = Run(projector, texts, &rng_a);
    const Output b = Run(projector, texts, &rng_b);
    FUZZ_CHECK(SameBits(a.features, b.features) && a.lengths == b.lengths);
    CheckOutput(o, texts, a, /*distorted=*/true);
    const Output clean = Run(projector, texts, nullptr);
    FUZZ_CHECK(clean.lengths == a.lengths);
    return 0;
  }

  const Output first = Run(projector, texts, nullptr);
  CheckOutput(o, texts, first, /*distorted=*/false);
  const Output second = Run(projector, texts, nullptr);  // Deterministic.
  FUZZ_CHECK(SameBits(first.features, second.features) && first.lengths == second.lengths);
  // Batch == each string alone (up to its own padding).
  const size_t f = static_cast<size_t>(o.feature_size);
  for (size_t b = 0; b < texts.size() && texts.size() > 1; ++b) {
    const Output alone = Run(projector, {texts[b]}, nullptr);
    const size_t rows = static_cast<size_t>(alone.lengths[0]);
    FUZZ_CHECK(alone.lengths[0] == first.lengths[b]);
    const float* in_batch = first.features.data() + b * first.batch.max_tokens * f;
    FUZZ_CHECK(rows * f == 0 ||
               std::memcmp(alone.features.data(), in_batch, rows * f * sizeof(float)) == 0);
  }
  return 0;
}
