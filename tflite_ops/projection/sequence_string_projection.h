// The hashing projection of pQRNN: UTF-8 text -> ternary features per token.
//
// This is the single implementation of the algorithm. It includes nothing from
// TensorFlow or TFLite; `tf_kernel.cc` and `tflite_kernel.cc` are thin adapters
// around it. The contract is written down in docs/PROJECTION.md; changing the
// output of any function here is a breaking model-format change and must be
// caught by the golden-vector test (tflite_ops/projection/golden_test.cc).
#ifndef PQRNN_TFLITE_OPS_PROJECTION_SEQUENCE_STRING_PROJECTION_H_
#define PQRNN_TFLITE_OPS_PROJECTION_SEQUENCE_STRING_PROJECTION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pqrnn {

// Limits, shared with both runtimes' attribute validation.
inline constexpr int kMaxFeatureSize = 4096;
inline constexpr int kMaxWordNoveltyBits = 7;
inline constexpr int kMaxDocSizeLevels = 16;
inline constexpr int kMaxCharNgramSize = 8;
// Each token contributes at most this many character n-grams (its first
// ones), which bounds what a hostile long token costs them: they read only
// its first kMaxCharNgramsPerToken + n - 1 code points (its word hash still
// reads all its bytes once).
inline constexpr int kMaxCharNgramsPerToken = 64;

struct ProjectionOptions {
  int feature_size = 0;        // F: even, 2..4096.
  int max_seq_len = 0;         // Tokens kept (excluding BOS/EOS); 0 = no limit.
  bool add_bos_tag = false;
  bool add_eos_tag = false;
  int word_novelty_bits = 0;   // 0 = off, else 1..7; overwrites feature F-1.
  int doc_size_levels = 0;     // 0 = off, else 1..16; overwrites feature F-2.
  float distortion_probability = 0.0f;  // Training only; [0, 1].
  bool lowercase = false;
  // 0 = off, else 1..8: each real token's row adds the mean of the features
  // of its character n-grams (see Project).
  int char_ngram_size = 0;
  // With char_ngram_size > 0: divide the n-grams' sum by sqrt(G) instead of
  // G, so the n-gram part of a row has the word part's scale whatever the
  // token's length (the mean shrinks it by 1/sqrt(G)).
  bool char_ngram_sqrt = false;
};

// Returns "" when `options` are valid, else a message a user can act on
// (names the attribute, the value and the allowed range). Besides the ranges
// above: each extra feature (word novelty, doc size) overwrites one hash
// feature and at least half of the features must stay hash features, so
// feature_size >= 4 when both are on (F = 2 with one of them is allowed).
std::string ValidateOptions(const ProjectionOptions& options);

// 128-bit MurmurHash64A-style hash of `bytes`, bytes read as unsigned.
struct Hash128 {
  uint64_t low;
  uint64_t high;
};
Hash128 HashBytes(std::string_view bytes);

// Fills `words` with `num_words` 64-bit code words for `token`:
// [low0, high0, low1, high1, ...]: (low0, high0) = HashBytes(token), each
// further pair chained from the previous one. num_words may be odd; a
// projection of F features needs ceil(F / 32) words.
void CodeWords(std::string_view token, int num_words, uint64_t* words);

// Maps code words to `feature_size` ternary features in {-1, 0, +1}:
// feature k is bits 2(k%32), 2(k%32)+1 of words[k/32]; 0,1,2,3 -> 0,+1,-1,0.
void FeaturesFromCodeWords(const uint64_t* words, int feature_size, float* out);

// The character n-grams of a normalised token, as the byte strings that are
// hashed: the token's code points are bounded by '<' and '>', the n-grams
// are the windows of `n` code points of that sequence, left to right (one
// window, the whole bounded token, when it is shorter than n), at most
// kMaxCharNgramsPerToken of them, each UTF-8 encoded behind a 0xFF byte.
// 0xFF never occurs in UTF-8, so an n-gram never hashes like a token.
std::vector<std::string> CharNgrams(std::string_view token, int n);

// Decodes UTF-8 with every invalid byte sequence replaced by U+FFFD (one per
// maximal invalid subpart, as in Unicode's "best practice"); never reads past
// the buffer.
// Overlongs (C0 80, E0 80 80), surrogates (ED A0 80), code points above
// U+10FFFF (F4 90 80 80) and sequences cut off by the end of the buffer are
// invalid. NUL is an ordinary character.
std::vector<char32_t> DecodeUtf8(std::string_view bytes);
// Appends the UTF-8 encoding of `code_point`; surrogates and values above
// U+10FFFF are written as U+FFFD.
void AppendUtf8(char32_t code_point, std::string* out);

// Unicode White_Space property.
bool IsUnicodeWhitespace(char32_t c);
// One-to-one simple lowercase mapping (table generated from a named Unicode
// version by tools/gen_unicode_tables.py).
char32_t SimpleLowercase(char32_t c);
// The Unicode version the tables were generated from, e.g. "14.0.0".
const char* UnicodeTablesVersion();

// Deterministic pseudo-random source for distortion (splitmix64).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  double Uniform();  // [0, 1)
 private:
  uint64_t state_;
};

struct TokenizedText {
  std::vector<std::string> tokens;  // Including "<BOS>"/"<EOS>" if asked.
  int num_real_tokens = 0;          // Tokens excluding BOS/EOS.
};

struct TokenizedBatch {
  std::vector<TokenizedText> examples;
  int max_tokens = 0;  // T: the longest token count in the batch.
};

class SequenceStringProjector {
 public:
  // `options` must be valid (check with ValidateOptions first; the adapters
  // reject invalid attributes before constructing a projector).
  explicit SequenceStringProjector(const ProjectionOptions& options);

  const ProjectionOptions& options() const { return options_; }

  // Tokenizes and normalizes `text`: split on Unicode whitespace, drop empty
  // tokens, keep the first max_seq_len, lowercase if asked, add "<BOS>" and
  // "<EOS>" if asked. Tokens that are empty after normalization are "<null>".
  // Separators are White_Space code points as the decoder sees them (bytes
  // of an invalid sequence never form whitespace). Scanning stops once
  // max_seq_len tokens are found.
  //
  // `rng` may be null; when non-null and distortion_probability > 0, each
  // kept real token (after normalization) takes exactly one Uniform() draw
  // and, with that probability, one edit on its code points: Next() % 3
  // picks delete (position Next() % L) / move (remove position Next() % L,
  // reinsert before position Next() % L of the rest; no-op if L < 2) /
  // insert (at position Next() % (L + 1) a copy of the token's own character
  // Next() % L, so the script stays the token's own; the reference inserted
  // the last deleted character instead). A token emptied by deletion is
  // "<null>". L counts code points.
  // The same seed and inputs give the same tokens on every platform.
  TokenizedText Tokenize(std::string_view text, Rng* rng = nullptr) const;

  // Writes text.tokens.size() * feature_size floats to `out` (row-major),
  // including the extra features, on every row (BOS/EOS rows too):
  //   word novelty (F-1) = min(c / 2^bits, 1) * 2 - 1, c = number of earlier
  //     rows of this example with the same token bytes (so "<BOS>"/"<EOS>"
  //     count only against identical strings; all "<null>" rows are alike);
  //   doc size (F-2) = min(log2(n) / levels, 1) * 2 - 1, n = num_real_tokens,
  //     and -1 when n = 0 (the log2 term is taken as 0).
  // With char_ngram_size > 0, each real token's row (not "<BOS>"/"<EOS>",
  // not "<null>") is word + S / G before the extra features are written,
  // where S sums the ternary features of the token's G = CharNgrams(...)
  // n-grams (an exact integer in float) and both operations are one IEEE
  // float32 division and one addition, so every platform gives the same bits.
  // With char_ngram_sqrt the divisor is sqrtf(G), itself correctly rounded.
  void Project(const TokenizedText& text, float* out) const;

  TokenizedBatch TokenizeBatch(const std::vector<std::string_view>& texts,
                               Rng* rng = nullptr) const;
  // Writes B * max_tokens * feature_size floats to `out` (padding rows are 0)
  // and B lengths to `lengths`.
  void ProjectBatch(const TokenizedBatch& batch, float* out,
                    int32_t* lengths) const;

 private:
  ProjectionOptions options_;
};

}  // namespace pqrnn

#endif  // PQRNN_TFLITE_OPS_PROJECTION_SEQUENCE_STRING_PROJECTION_H_
