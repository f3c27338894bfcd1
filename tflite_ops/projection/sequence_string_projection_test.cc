// Unit tests of the projection core. The golden files are checked in
// golden_test.cc; this file also provides the test binary's main().
#define PQRNN_TEST_MAIN
#include "tflite_ops/projection/test_harness.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tflite_ops/projection/sequence_string_projection.h"

namespace {

using pqrnn::CharNgrams;
using pqrnn::kMaxCharNgramsPerToken;
using pqrnn::AppendUtf8;
using pqrnn::CodeWords;
using pqrnn::DecodeUtf8;
using pqrnn::FeaturesFromCodeWords;
using pqrnn::HashBytes;
using pqrnn::IsUnicodeWhitespace;
using pqrnn::ProjectionOptions;
using pqrnn::Rng;
using pqrnn::SequenceStringProjector;
using pqrnn::SimpleLowercase;
using pqrnn::TokenizedBatch;
using pqrnn::TokenizedText;
using pqrnn::ValidateOptions;
using pqrnn_test::HexEncode;

constexpr uint64_t kMul = 0xc6a4a7935bd1e995ULL;
constexpr uint64_t kMul2 = 0x9e3779b97f4a7835ULL;

ProjectionOptions Options(int feature_size) {
  ProjectionOptions o;
  o.feature_size = feature_size;
  return o;
}

std::vector<float> Features(std::string_view token, int feature_size) {
  std::vector<uint64_t> words((feature_size + 31) / 32);
  CodeWords(token, static_cast<int>(words.size()), words.data());
  std::vector<float> out(feature_size);
  FeaturesFromCodeWords(words.data(), feature_size, out.data());
  return out;
}

// A copy of `s` in a heap block of exactly s.size() bytes, so that
// AddressSanitizer catches any read past the end.
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view s)
      : size_(s.size()), data_(new char[s.size() == 0 ? 1 : s.size()]) {
    if (size_) std::memcpy(data_.get(), s.data(), size_);
  }
  std::string_view view() const { return std::string_view(data_.get(), size_); }

 private:
  size_t size_;
  std::unique_ptr<char[]> data_;
};

// The slow, obviously-right tokenizer the fast one must agree with: decode
// the whole text, split on White_Space code points, lowercase, re-encode.
std::vector<std::string> ReferenceTokenize(std::string_view text,
                                           const ProjectionOptions& o) {
  std::vector<std::string> tokens;
  if (o.add_bos_tag) tokens.push_back("<BOS>");
  std::string current;
  bool in_token = false;
  int kept = 0;
  auto flush = [&]() {
    if (in_token && (o.max_seq_len == 0 || kept < o.max_seq_len)) {
      tokens.push_back(current.empty() ? "<null>" : current);
      ++kept;
    }
    current.clear();
    in_token = false;
  };
  for (char32_t c : DecodeUtf8(text)) {
    if (IsUnicodeWhitespace(c)) {
      flush();
    } else {
      in_token = true;
      AppendUtf8(o.lowercase ? SimpleLowercase(c) : c, &current);
    }
  }
  flush();
  if (o.add_eos_tag) tokens.push_back("<EOS>");
  return tokens;
}

std::vector<std::string> HexTokens(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens) out.push_back(HexEncode(t));
  return out;
}

// ---------------------------------------------------------------------------
// Hash.

TEST(HashCheckValuesFromContract) {
  CHECK_EQ(HashBytes("hello").low, 0x1e68d17c457bf117ULL);
  CHECK_EQ(HashBytes("hello").high, 0x1aec33d7dd3e8013ULL);
  CHECK_EQ(HashBytes("<EOS>").low, 0x47fd321388990c04ULL);
  CHECK_EQ(HashBytes("<EOS>").high, 0x935001a210b65e8aULL);
  CHECK_EQ(HashBytes("<null>").low, 0x4ceb8215f2f24d4fULL);
  CHECK_EQ(HashBytes("<null>").high, 0x9aa1cdf144676538ULL);
  const std::vector<float> expected = {0, 1, 1, 0, 1, 0, 0, 0,
                                       0, -1, 0, 1, 1, 1, 0, 1};
  std::vector<float> f = Features("hello", 16);
  CHECK_EQ(f, expected);
}

TEST(CodeWordsChainAfterFirstPair) {
  uint64_t w[6];
  CodeWords("hello", 6, w);
  const pqrnn::Hash128 h = HashBytes("hello");
  CHECK_EQ(w[0], h.low);
  CHECK_EQ(w[1], h.high);
  uint64_t low = h.low, high = h.high;
  for (int pair = 1; pair < 3; ++pair) {
    const uint64_t t = (low ^ (low >> 47)) * kMul;
    const uint64_t u = high ^ t;
    high = t ^ (t >> 47);
    const uint64_t v = u * kMul2;
    low = (v ^ (v >> 47)) * kMul2;
    CHECK_EQ(w[2 * pair], low);
    CHECK_EQ(w[2 * pair + 1], high);
  }
  // An odd count writes a prefix of the same sequence, and nothing more.
  uint64_t odd[4] = {0, 0, 0, 0xdeadbeef};
  CodeWords("hello", 3, odd);
  CHECK_EQ(odd[0], w[0]);
  CHECK_EQ(odd[1], w[1]);
  CHECK_EQ(odd[2], w[2]);
  CHECK_EQ(odd[3], uint64_t{0xdeadbeef});
  uint64_t none = 7;
  CodeWords("hello", 0, &none);
  CHECK_EQ(none, uint64_t{7});
}

TEST(HashIsAlignmentIndependentAndReadsOnlyItsBytes) {
  const std::string token = "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"
                            "\xe0\xa4\xa4\xe0\xa5\x87";  // नमस्ते, 18 bytes
  const pqrnn::Hash128 expected = HashBytes(token);
  std::string buffer(64, '\xff');
  for (size_t offset = 0; offset < 16; ++offset) {
    buffer.replace(offset, token.size(), token);
    const pqrnn::Hash128 h =
        HashBytes(std::string_view(buffer.data() + offset, token.size()));
    CHECK_EQ(h.low, expected.low);
    CHECK_EQ(h.high, expected.high);
    buffer.assign(64, '\xff');
  }
  // Every length 0..24 from an exact-size buffer (ASan: no over-read).
  for (size_t len = 0; len <= 24; ++len) {
    ExactBuffer exact(std::string(len, '\x80'));
    const pqrnn::Hash128 a = HashBytes(exact.view());
    const pqrnn::Hash128 b = HashBytes(std::string(len, '\x80'));
    CHECK_EQ(a.low, b.low);
  }
  // Empty bytes hash to zero (never a token: empty tokens become "<null>").
  CHECK_EQ(HashBytes("").low, uint64_t{0});
  CHECK_EQ(HashBytes("").high, uint64_t{0});
}

TEST(FeaturesTakeTwoBitsLeastSignificantFirst) {
  // Words: bit pairs 00, 01, 10, 11 -> 0, +1, -1, 0; feature 32 from word 1.
  const uint64_t words[2] = {0xE4ULL | (2ULL << 62), 0x1ULL};
  float out[34];
  FeaturesFromCodeWords(words, 34, out);
  CHECK_EQ(out[0], 0.0f);
  CHECK_EQ(out[1], 1.0f);
  CHECK_EQ(out[2], -1.0f);
  CHECK_EQ(out[3], 0.0f);
  CHECK_EQ(out[4], 0.0f);
  CHECK_EQ(out[31], -1.0f);
  CHECK_EQ(out[32], 1.0f);
  CHECK_EQ(out[33], 0.0f);
  // F = 4096 uses all 128 words (ASan checks bounds).
  std::vector<float> big = Features("hello", pqrnn::kMaxFeatureSize);
  int zeros = 0;
  for (float v : big) zeros += v == 0.0f;
  CHECK(zeros > 1800 && zeros < 2300);  // P(0) = 1/2.
}

// ---------------------------------------------------------------------------
// UTF-8.

struct DecodeCase {
  const char* name;
  std::string bytes;
  std::vector<char32_t> expected;
};

TEST(DecodeUtf8EdgeCases) {
  const char32_t R = 0xFFFD;
  const std::vector<DecodeCase> cases = {
      {"empty", "", {}},
      {"ascii with NUL", std::string("a\0b", 3), {'a', 0, 'b'}},
      {"2-byte", "\xc3\xa9", {0xE9}},
      {"3-byte", "\xe0\xa4\xa8", {0x928}},
      {"4-byte", "\xf0\x9f\x98\x80", {0x1F600}},
      {"smallest 2/3/4-byte", "\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80",
       {0x80, 0x800, 0x10000}},
      {"largest", "\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf",
       {0x7FF, 0xFFFF, 0x10FFFF}},
      {"around surrogates", "\xed\x9f\xbf\xee\x80\x80", {0xD7FF, 0xE000}},
      {"literal U+FFFD", "\xef\xbf\xbd", {R}},
      {"lone continuation", "\x80", {R}},
      {"continuations", "a\x80\xbf" "b", {'a', R, R, 'b'}},
      {"overlong C0 80", "\xc0\x80", {R, R}},
      {"overlong C1 BF", "\xc1\xbf", {R, R}},
      {"overlong E0 80 80", "\xe0\x80\x80", {R, R, R}},
      {"overlong F0 80 80 80", "\xf0\x80\x80\x80", {R, R, R, R}},
      {"surrogate ED A0 80", "\xed\xa0\x80", {R, R, R}},
      {"CESU pair", "\xed\xa0\xbd\xed\xb8\x80", {R, R, R, R, R, R}},
      {"above U+10FFFF", "\xf4\x90\x80\x80", {R, R, R, R}},
      {"F5 lead", "\xf5\x80", {R, R}},
      {"FF FE", "\xff\xfe", {R, R}},
      {"truncated 2-byte at end", "a\xc3", {'a', R}},
      {"truncated 3-byte at end", "\xe2\x82", {R}},
      {"truncated 4-byte at end", "\xf0\x9f\x98", {R}},
      {"truncated then ASCII", "\xe2\x82" "A", {R, 'A'}},
      {"truncated then lead", "\xf0\x9f\xc3\xa9", {R, 0xE9}},
      {"lead then lead", "\xe2\xe2\x82\xac", {R, 0x20AC}},
  };
  for (const DecodeCase& c : cases) {
    ExactBuffer exact(c.bytes);
    CHECK_EQ_CTX(DecodeUtf8(exact.view()), c.expected, c.name);
  }
  // Every prefix of a multi-byte sequence, alone in an exact buffer.
  const std::string seqs[] = {"\xc3\xa9", "\xe0\xa4\xa8", "\xf0\x9f\x98\x80"};
  for (const std::string& s : seqs) {
    for (size_t len = 1; len < s.size(); ++len) {
      ExactBuffer exact(s.substr(0, len));
      CHECK_EQ_CTX(DecodeUtf8(exact.view()), std::vector<char32_t>{R},
                   HexEncode(s.substr(0, len)));
    }
  }
}

TEST(AppendUtf8RoundTripsEveryScalarValue) {
  std::string buf;
  int bad = 0;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    buf.clear();
    AppendUtf8(c, &buf);
    const std::vector<char32_t> back = DecodeUtf8(buf);
    if (back.size() != 1 || back[0] != c) ++bad;
  }
  CHECK_EQ(bad, 0);
  std::string s;
  AppendUtf8(0xD800, &s);
  AppendUtf8(0x110000, &s);
  CHECK_EQ(s, std::string("\xef\xbf\xbd\xef\xbf\xbd"));
}

TEST(WhitespaceIsExactlyWhiteSpaceProperty) {
  const std::vector<char32_t> expected = {
      0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,
      0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
      0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
      0x2029, 0x202F, 0x205F, 0x3000};
  std::vector<char32_t> found;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (IsUnicodeWhitespace(c)) found.push_back(c);
  }
  CHECK_EQ(found, expected);
  CHECK(!IsUnicodeWhitespace(0x1C));   // isspace() in Python, not White_Space.
  CHECK(!IsUnicodeWhitespace(0x200B));  // ZERO WIDTH SPACE is not White_Space.
  CHECK(!IsUnicodeWhitespace(0xFEFF));  // BOM.
}

TEST(SimpleLowercaseTable) {
  const std::vector<std::pair<char32_t, char32_t>> cases = {
      {'A', 'a'},       {'Z', 'z'},       {'a', 'a'},       {'0', '0'},
      {'@', '@'},       {'[', '['},       {0xC4, 0xE4},      // Ä
      {0xC9, 0xE9},                                          // É
      {0xDF, 0xDF},                                          // ß stays
      {0x1E9E, 0xDF},                                        // ẞ -> ß
      {0x130, 'i'},                                          // İ (simple)
      {0x49, 'i'},                                           // I (not Turkish)
      {0x131, 0x131},                                        // ı stays
      {0x3A3, 0x3C3},                                        // Σ -> σ
      {0x3C2, 0x3C2},                                        // ς stays
      {0x212A, 'k'},                                         // KELVIN SIGN
      {0x2126, 0x3C9},                                       // OHM SIGN
      {0x1C5, 0x1C6},                                        // ǅ titlecase
      {0x100, 0x101},   {0x12E, 0x12F},   {0x101, 0x101},   // alternating
      {0x178, 0xFF},                                         // Ÿ
      {0x410, 0x430},                                        // Cyrillic А
      {0x10400, 0x10428},                                    // Deseret
      {0x1E921, 0x1E943},                                    // Adlam, last
      {0x928, 0x928},                                        // Devanagari
      {0xE01, 0xE01},                                        // Thai
      {0x4E2D, 0x4E2D},                                      // CJK
      {0x1F600, 0x1F600}, {0x10FFFF, 0x10FFFF},
  };
  for (const auto& [in, out] : cases) {
    CHECK_EQ_CTX(SimpleLowercase(in), out, pqrnn_test::Repr(in));
  }
  // Never produces a surrogate or an out-of-range value; ASCII agrees.
  int bad = 0;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    const char32_t l = SimpleLowercase(c);
    if (l > 0x10FFFF || (l >= 0xD800 && l <= 0xDFFF && l != c)) ++bad;
    if (c < 0x80 && l != static_cast<char32_t>(std::tolower(static_cast<int>(c)))) ++bad;
  }
  CHECK_EQ(bad, 0);
  CHECK(std::strlen(pqrnn::UnicodeTablesVersion()) > 0);
}

// ---------------------------------------------------------------------------
// Validation.

TEST(ValidateOptionsAcceptsTheDocumentedRanges) {
  for (int f : {2, 4, 128, 4096}) {
    ProjectionOptions o = Options(f);
    CHECK_EQ_CTX(ValidateOptions(o), std::string(), std::to_string(f));
  }
  ProjectionOptions o = Options(4);
  o.max_seq_len = 128;
  o.word_novelty_bits = 7;
  o.doc_size_levels = 16;
  o.distortion_probability = 1.0f;
  o.char_ngram_size = 8;
  CHECK_EQ(ValidateOptions(o), std::string());
  ProjectionOptions one_extra = Options(2);
  one_extra.doc_size_levels = 1;
  CHECK_EQ(ValidateOptions(one_extra), std::string());
}

TEST(ValidateOptionsMessagesNameAttributeValueAndRange) {
  struct Case {
    ProjectionOptions options;
    std::vector<std::string> must_contain;
  };
  auto with = [](auto setter) {
    ProjectionOptions o = Options(64);
    setter(o);
    return o;
  };
  const std::vector<Case> cases = {
      {Options(0), {"feature_size", "0", "[2, 4096]", "even"}},
      {Options(7), {"feature_size", "7", "even"}},
      {Options(4098), {"feature_size", "4098", "[2, 4096]"}},
      {Options(-2), {"feature_size", "-2"}},
      {with([](ProjectionOptions& o) { o.max_seq_len = -1; }),
       {"max_seq_len", "-1", ">= 0"}},
      {with([](ProjectionOptions& o) { o.word_novelty_bits = 8; }),
       {"word_novelty_bits", "8", "[0, 7]"}},
      {with([](ProjectionOptions& o) { o.word_novelty_bits = -1; }),
       {"word_novelty_bits", "-1", "[0, 7]"}},
      {with([](ProjectionOptions& o) { o.doc_size_levels = 17; }),
       {"doc_size_levels", "17", "[0, 16]"}},
      {with([](ProjectionOptions& o) { o.char_ngram_size = 9; }),
       {"char_ngram_size", "9", "[0, 8]"}},
      {with([](ProjectionOptions& o) { o.char_ngram_size = -1; }),
       {"char_ngram_size", "-1", "[0, 8]"}},
      {with([](ProjectionOptions& o) { o.char_ngram_sqrt = true; }),
       {"char_ngram_sqrt", "char_ngram_size > 0"}},
      {with([](ProjectionOptions& o) { o.distortion_probability = 1.5f; }),
       {"distortion_probability", "1.5", "[0, 1]"}},
      {with([](ProjectionOptions& o) { o.distortion_probability = -0.1f; }),
       {"distortion_probability", "-0.1", "[0, 1]"}},
      {with([](ProjectionOptions& o) {
         o.distortion_probability = std::numeric_limits<float>::quiet_NaN();
       }),
       {"distortion_probability", "nan", "[0, 1]"}},
      {with([](ProjectionOptions& o) {
         o.feature_size = 2;
         o.word_novelty_bits = 1;
         o.doc_size_levels = 1;
       }),
       {"feature_size", ">= 4", "word_novelty_bits", "doc_size_levels", "2"}},
  };
  for (const Case& c : cases) {
    const std::string msg = ValidateOptions(c.options);
    if (!CHECK_CTX(!msg.empty(), "expected an error")) continue;
    for (const std::string& part : c.must_contain) {
      CHECK_CTX(msg.find(part) != std::string::npos,
                "\"" + msg + "\" lacks \"" + part + "\"");
    }
  }
}

// ---------------------------------------------------------------------------
// Tokenization.

TEST(TokenizeBasics) {
  ProjectionOptions o = Options(8);
  SequenceStringProjector p(o);
  TokenizedText t = p.Tokenize("  hello \t\n World  ");
  CHECK_EQ(t.tokens, (std::vector<std::string>{"hello", "World"}));
  CHECK_EQ(t.num_real_tokens, 2);

  o.add_bos_tag = o.add_eos_tag = true;
  o.lowercase = true;
  o.max_seq_len = 1;
  TokenizedText u = SequenceStringProjector(o).Tokenize("HeLLo World");
  CHECK_EQ(u.tokens, (std::vector<std::string>{"<BOS>", "hello", "<EOS>"}));
  CHECK_EQ(u.num_real_tokens, 1);

  TokenizedText empty = SequenceStringProjector(o).Tokenize("");
  CHECK_EQ(empty.tokens, (std::vector<std::string>{"<BOS>", "<EOS>"}));
  CHECK_EQ(empty.num_real_tokens, 0);
  TokenizedText spaces =
      SequenceStringProjector(Options(8)).Tokenize("\xe3\x80\x80 \xc2\xa0");
  CHECK_EQ(spaces.tokens.size(), size_t{0});

  // Bytes that are not whitespace unless decoded together: E2 80 80 is U+2000.
  TokenizedText split = SequenceStringProjector(Options(8))
                            .Tokenize("a\xe2\x80\x80" "b \xe2\x80" "c\x80");
  CHECK_EQ(HexTokens(split.tokens),
           HexTokens({"a", "b", "\xef\xbf\xbd" "c\xef\xbf\xbd"}));
}

// The ASCII fast path, the byte-level separator scan and per-token decoding
// must agree with decoding the whole text and splitting code points.
TEST(FastPathsAgreeWithReferenceTokenizer) {
  const std::vector<std::string> pieces = {
      "a", "Z", "Hello", "x", "0", ".", "\0", " ", "  ", "\t", "\n", "\r\n",
      "\x0b", "\x0c", "\x1c", "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80",
      "\xe2\x80\x80", "\xe2\x80\x8a", "\xe2\x80\x8b", "\xe2\x80\xa8",
      "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80", "\xc3\xa9", "\xc3\x89",
      "\xc3\x9f", "\xc4\xb0", "\xce\xa3", "\xe0\xa4\xa8", "\xe0\xb8\x81",
      "\xe4\xb8\xad", "\xf0\x9f\x91\xa9", "\xe2\x80\x8d", "\xf0\x90\x90\x80",
      "\x80", "\xbf", "\xc2", "\xe2", "\xe2\x80", "\xe3\x80", "\xe1\x9a",
      "\xed\xa0\x80", "\xc0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xff",
      "\xfe", "\xf0\x9f", "\xef\xbf\xbd", "\xef\xbb\xbf"};
  Rng rng(12345);
  int compared = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    const int n = static_cast<int>(rng.Next() % 24);
    for (int i = 0; i < n; ++i) {
      const std::string& piece = pieces[rng.Next() % pieces.size()];
      text += piece.empty() ? std::string(1, '\0') : piece;
    }
    ProjectionOptions o = Options(8);
    o.lowercase = rng.Next() % 2;
    o.add_bos_tag = rng.Next() % 2;
    o.add_eos_tag = rng.Next() % 2;
    o.max_seq_len = static_cast<int>(rng.Next() % 5);
    ExactBuffer exact(text);
    const TokenizedText got = SequenceStringProjector(o).Tokenize(exact.view());
    const std::vector<std::string> want = ReferenceTokenize(text, o);
    CHECK_EQ_CTX(HexTokens(got.tokens), HexTokens(want),
                 "text " + HexEncode(text) + (o.lowercase ? " lowercase" : ""));
    const int specials = o.add_bos_tag + o.add_eos_tag;
    CHECK_EQ(got.num_real_tokens,
             static_cast<int>(got.tokens.size()) - specials);
    ++compared;
  }
  CHECK_EQ(compared, 3000);
  // Pure ASCII with every byte value, fast path vs reference.
  std::string ascii;
  for (int c = 0; c < 128; ++c) ascii.push_back(static_cast<char>(c));
  for (bool lower : {false, true}) {
    ProjectionOptions o = Options(8);
    o.lowercase = lower;
    CHECK_EQ(SequenceStringProjector(o).Tokenize(ascii).tokens,
             ReferenceTokenize(ascii, o));
  }
}

TEST(OneMegabyteInputWithMaxSeqLenIsFast) {
  std::string big;
  big.reserve(1 << 20);
  while (big.size() < (1u << 20)) big += "Wörd ab\xe0\xa4\xa8 ";
  big.resize(1 << 20);
  ProjectionOptions o = Options(64);
  o.max_seq_len = 16;
  o.lowercase = true;
  const SequenceStringProjector limited(o);
  o.max_seq_len = 0;
  const SequenceStringProjector unlimited(o);

  using Clock = std::chrono::steady_clock;
  double best_limited = 1e9, best_unlimited = 1e9;
  TokenizedText a, b;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = Clock::now();
    a = limited.Tokenize(big);
    auto t1 = Clock::now();
    b = unlimited.Tokenize(big);
    auto t2 = Clock::now();
    best_limited =
        std::min(best_limited, std::chrono::duration<double>(t1 - t0).count());
    best_unlimited = std::min(best_unlimited,
                              std::chrono::duration<double>(t2 - t1).count());
  }
  CHECK_EQ(a.num_real_tokens, 16);
  CHECK_EQ(std::vector<std::string>(b.tokens.begin(), b.tokens.begin() + 16),
           a.tokens);
  CHECK(b.num_real_tokens > 100000);
  // Stops scanning after 16 tokens: orders of magnitude faster than a scan.
  CHECK_CTX(best_limited * 50 < best_unlimited,
            "limited " + std::to_string(best_limited) + " s, unlimited " +
                std::to_string(best_unlimited) + " s");
  std::vector<float> out(16 * 64);
  limited.Project(a, out.data());
  CHECK_EQ(out, [&] {
    std::vector<float> v;
    for (const auto& t : a.tokens) {
      std::vector<float> f = Features(t, 64);
      v.insert(v.end(), f.begin(), f.end());
    }
    return v;
  }());

  // One 1 MB token (no separators) is kept whole.
  const std::string one(1 << 20, 'x');
  TokenizedText c = limited.Tokenize(one);
  CHECK_EQ(c.tokens.size(), size_t{1});
  CHECK_EQ(c.tokens[0].size(), one.size());
}

// ---------------------------------------------------------------------------
// Extra features.

TEST(WordNoveltyAndDocSize) {
  ProjectionOptions o = Options(8);
  o.word_novelty_bits = 1;
  o.doc_size_levels = 2;
  o.add_bos_tag = o.add_eos_tag = true;
  const SequenceStringProjector p(o);
  const TokenizedText t = p.Tokenize("a b a a");
  CHECK_EQ(t.tokens,
           (std::vector<std::string>{"<BOS>", "a", "b", "a", "a", "<EOS>"}));
  std::vector<float> out(t.tokens.size() * 8);
  p.Project(t, out.data());
  // c = 0, 0, 0, 1, 2, 0 with 2^-1 per occurrence: -1, -1, -1, 0, 1, -1.
  const std::vector<float> novelty = {-1, -1, -1, 0, 1, -1};
  for (size_t r = 0; r < t.tokens.size(); ++r) {
    CHECK_EQ_CTX(out[r * 8 + 7], novelty[r], "row " + std::to_string(r));
    CHECK_EQ_CTX(out[r * 8 + 6], 1.0f, "row " + std::to_string(r));  // log2(4)/2
    const std::vector<float> hashed = Features(t.tokens[r], 8);
    for (int k = 0; k < 6; ++k) CHECK_EQ(out[r * 8 + k], hashed[k]);
  }

  // Doc size for n = 0, 1, 2, 3 and saturation.
  const std::vector<std::pair<std::string, float>> docs = {
      {"", -1.0f},
      {"x", -1.0f},
      {"x y", 0.0f},
      {"x y z", static_cast<float>(std::log2(3.0) / 2 * 2 - 1)},
      {"a b c d e f g h i j", 1.0f}};
  for (const auto& [text, want] : docs) {
    const TokenizedText d = p.Tokenize(text);
    std::vector<float> rows(d.tokens.size() * 8);
    p.Project(d, rows.data());
    for (size_t r = 0; r < d.tokens.size(); ++r) {
      CHECK(std::isfinite(rows[r * 8 + 6]));
      CHECK_EQ_CTX(rows[r * 8 + 6], want, "text \"" + text + "\"");
    }
  }

  // 7 bits: saturates after 128 earlier occurrences.
  o.word_novelty_bits = 7;
  o.doc_size_levels = 0;
  o.add_bos_tag = o.add_eos_tag = false;
  const SequenceStringProjector q(o);
  std::string many;
  for (int i = 0; i < 200; ++i) many += "w ";
  const TokenizedText m = q.Tokenize(many);
  std::vector<float> mrows(m.tokens.size() * 8);
  q.Project(m, mrows.data());
  CHECK_EQ(mrows[0 * 8 + 7], -1.0f);
  CHECK_EQ(mrows[64 * 8 + 7], 0.0f);
  CHECK_EQ(mrows[127 * 8 + 7], 127.0f / 64 - 1);
  CHECK_EQ(mrows[128 * 8 + 7], 1.0f);
  CHECK_EQ(mrows[199 * 8 + 7], 1.0f);
  // Doc size off: feature F-2 is a hash feature.
  CHECK_EQ(mrows[6], Features("w", 8)[6]);

  // A literal "<EOS>" in the text and the EOS tag are the same bytes.
  o.word_novelty_bits = 1;
  o.add_eos_tag = true;
  const SequenceStringProjector e(o);
  const TokenizedText lit = e.Tokenize("<EOS>");
  std::vector<float> lrows(lit.tokens.size() * 8);
  e.Project(lit, lrows.data());
  CHECK_EQ(lrows[7], -1.0f);
  CHECK_EQ(lrows[8 + 7], 0.0f);
}

// ---------------------------------------------------------------------------
// Character n-grams.

TEST(CharNgramsAreCodePointWindowsOfTheBoundedToken) {
  const std::string m = "\xFF";  // The n-gram marker byte.
  CHECK_EQ(CharNgrams("hello", 3),
           (std::vector<std::string>{m + "<he", m + "hel", m + "ell", m + "llo",
                                     m + "lo>"}));
  // Shorter than n: one n-gram, the whole bounded token.
  CHECK_EQ(CharNgrams("a", 8), (std::vector<std::string>{m + "<a>"}));
  CHECK_EQ(CharNgrams("ab", 4), (std::vector<std::string>{m + "<ab>"}));
  CHECK_EQ(CharNgrams("a", 1),
           (std::vector<std::string>{m + "<", m + "a", m + ">"}));
  // Windows count code points, not bytes (Devanagari: 3 bytes each).
  CHECK_EQ(CharNgrams("\xE0\xA4\xA8\xE0\xA4\xAE", 2),
           (std::vector<std::string>{m + "<\xE0\xA4\xA8",
                                     m + "\xE0\xA4\xA8\xE0\xA4\xAE",
                                     m + "\xE0\xA4\xAE>"}));
  // Each maximal invalid subpart is one U+FFFD code point (as DecodeUtf8);
  // a 4-byte sequence is one code point.
  const std::string r = "\xEF\xBF\xBD";
  CHECK_EQ(CharNgrams("a\xC3(\xE0\xA4", 2),
           (std::vector<std::string>{m + "<a", m + "a" + r, m + r + "(", m + "(" + r,
                                     m + r + ">"}));
  CHECK_EQ(CharNgrams("\xF0\x9F\x98\x80", 3),
           (std::vector<std::string>{m + "<\xF0\x9F\x98\x80>"}));
  CHECK(CharNgrams("hello", 0).empty());
  CHECK(CharNgrams("", 2) == (std::vector<std::string>{m + "<>"}));
  // At most kMaxCharNgramsPerToken, the first ones.
  const std::string long_token(1000, 'x');
  const std::vector<std::string> grams = CharNgrams(long_token, 3);
  CHECK_EQ(grams.size(), static_cast<size_t>(kMaxCharNgramsPerToken));
  CHECK_EQ(grams.front(), m + "<xx");
  CHECK_EQ(grams.back(), m + "xxx");
}

// CharNgrams against the contract spelled out directly: decode, bound with
// '<' '>', take the windows, re-encode. Token lengths around the cap (where
// the last kept n-gram does or does not reach '>'), ASCII, multi-byte and
// invalid bytes.
TEST(CharNgramsNearTheCapEqualTheWindowsOfTheDecodedToken) {
  const std::string pieces[] = {"a", "\xC3\xA9", "\xE0\xA4\xA8", "\xF0\x9F\x98\x80", "\xC3"};
  for (int n : {1, 2, 3, 8}) {
    for (int extra = -3; extra <= 3; ++extra) {
      const int length = kMaxCharNgramsPerToken + n - 2 + extra;  // code points
      std::string token;
      for (int i = 0; i < length; ++i) token += pieces[(i * 7 + n) % 5];
      std::vector<char32_t> cps = {U'<'};
      for (char32_t c : DecodeUtf8(token)) cps.push_back(c);
      cps.push_back(U'>');
      std::vector<std::string> expected;
      const size_t size = static_cast<size_t>(n);
      const size_t windows = cps.size() <= size ? 1 : cps.size() - size + 1;
      for (size_t g = 0; g < windows && g < static_cast<size_t>(kMaxCharNgramsPerToken); ++g) {
        std::string gram = "\xFF";
        for (size_t i = g; i < std::min(cps.size(), g + size); ++i) AppendUtf8(cps[i], &gram);
        expected.push_back(gram);
      }
      CHECK_EQ(CharNgrams(token, n), expected);
    }
  }
}

TEST(CharNgramCheckValueFromContract) {
  // docs/PROJECTION.md: "hello" with char_ngram_size 3, F = 16: the sum of
  // its 5 n-grams' features is S, and the row is word + S / 5.
  ProjectionOptions o = Options(16);
  o.char_ngram_size = 3;
  const SequenceStringProjector p(o);
  const TokenizedText t = p.Tokenize("hello");
  std::vector<float> out(16);
  p.Project(t, out.data());
  const std::vector<float> word = {0, 1, 1, 0, 1, 0, 0, 0, 0, -1, 0, 1, 1, 1, 0, 1};
  const std::vector<float> sum = {1, 1, 0, 3, -2, -3, 2, -1, 1, 1, -2, -2, -1, 1, -2, 1};
  for (int k = 0; k < 16; ++k) {
    CHECK_EQ_CTX(out[k], word[k] + sum[k] / 5.0f, "feature " + std::to_string(k));
  }
  // char_ngram_sqrt: word + S / sqrt(5), sqrtf correctly rounded.
  o.char_ngram_sqrt = true;
  const SequenceStringProjector scaled(o);
  scaled.Project(scaled.Tokenize("hello"), out.data());
  for (int k = 0; k < 16; ++k) {
    CHECK_EQ_CTX(out[k], word[k] + sum[k] / std::sqrt(5.0f), "sqrt, feature " + std::to_string(k));
  }
  // The same sum from the public pieces.
  std::vector<float> acc(16, 0.0f);
  for (const std::string& gram : CharNgrams("hello", 3)) {
    const std::vector<float> features = Features(gram, 16);
    for (int k = 0; k < 16; ++k) acc[k] += features[k];
  }
  CHECK_EQ(acc, sum);
}

TEST(CharNgramRowsEqualThePublicPiecesAtEveryWidth) {
  // Project() accumulates the n-grams' code words without storing them
  // (NgramSums::Add); this pins it to CodeWords + FeaturesFromCodeWords
  // wherever F ends inside a code word or a byte, for ASCII and non-ASCII
  // tokens, including one that hits the 64 n-gram cap.
  const std::string long_token(100, 'x');
  const std::string text = "a hello gr\xC3\xBC\xC3\x9F" "e \xE6\x97\xA5\xE6\x9C\xAC " + long_token;
  for (const int f : {1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 2048}) {
    for (const int n : {1, 2, 3, 8}) {
      for (const bool sqrt_norm : {false, true}) {
        ProjectionOptions o = Options(f);
        o.char_ngram_size = n;
        o.char_ngram_sqrt = sqrt_norm;
        const SequenceStringProjector p(o);
        const TokenizedText t = p.Tokenize(text);
        std::vector<float> out(t.tokens.size() * f);
        p.Project(t, out.data());
        for (size_t r = 0; r < t.tokens.size(); ++r) {
          const std::vector<std::string> grams = CharNgrams(t.tokens[r], n);
          std::vector<int> sum(f, 0);
          for (const std::string& gram : grams) {
            const std::vector<float> features = Features(gram, f);
            for (int k = 0; k < f; ++k) sum[k] += static_cast<int>(features[k]);
          }
          const std::vector<float> word = Features(t.tokens[r], f);
          const float count = static_cast<float>(grams.size());
          const float divisor = sqrt_norm ? std::sqrt(count) : count;
          for (int k = 0; k < f; ++k) {
            CHECK_EQ_CTX(out[r * f + k], word[k] + static_cast<float>(sum[k]) / divisor,
                         "F " + std::to_string(f) + " n " + std::to_string(n) + " sqrt " +
                             std::to_string(sqrt_norm) + " row " + std::to_string(r) +
                             " feature " + std::to_string(k));
          }
        }
      }
    }
  }
}

TEST(CharNgramsSkipSpecialRowsAndKeepExtraFeatures) {
  ProjectionOptions o = Options(64);
  o.char_ngram_size = 3;
  o.add_bos_tag = o.add_eos_tag = true;
  o.word_novelty_bits = 1;
  o.doc_size_levels = 2;
  const SequenceStringProjector p(o);
  // "\xC0" normalises to U+FFFD, a real token; "<null>" typed by the user
  // has the bytes of the null token and, like it, gets no n-grams.
  const TokenizedText t = p.Tokenize("ab <null> \xC0");
  CHECK_EQ(t.tokens.size(), static_cast<size_t>(5));
  std::vector<float> out(t.tokens.size() * 64);
  p.Project(t, out.data());
  ProjectionOptions plain_options = o;
  plain_options.char_ngram_size = 0;
  const SequenceStringProjector plain(plain_options);
  std::vector<float> words(t.tokens.size() * 64);
  plain.Project(t, words.data());
  for (size_t r = 0; r < t.tokens.size(); ++r) {
    const bool has_grams = r == 1 || r == 3;
    bool differs = false;
    for (int k = 0; k < 62; ++k) differs |= out[r * 64 + k] != words[r * 64 + k];
    CHECK_EQ_CTX(differs, has_grams, "row " + std::to_string(r));
    // Novelty and doc size overwrite the last features as without n-grams.
    CHECK_EQ(out[r * 64 + 62], words[r * 64 + 62]);
    CHECK_EQ(out[r * 64 + 63], words[r * 64 + 63]);
  }
}

TEST(CharNgramsOnAHostileMegabyteTokenAreBounded) {
  ProjectionOptions o = Options(2048);
  o.char_ngram_size = 8;
  const SequenceStringProjector p(o);
  std::string token;
  for (int i = 0; i < (1 << 18); ++i) token += "\xF0\x9F\x98\x80";  // 1 MB
  const TokenizedText t = p.Tokenize(token);
  std::vector<float> out(2048);
  p.Project(t, out.data());
  for (float v : out) CHECK(std::isfinite(v) && v >= -2.0f && v <= 2.0f);
}

// ---------------------------------------------------------------------------
// Distortion.

TEST(DistortionIsSeededAndReproducible) {
  ProjectionOptions o = Options(16);
  o.distortion_probability = 0.5f;
  o.add_bos_tag = o.add_eos_tag = true;
  const SequenceStringProjector p(o);
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "word" + std::to_string(i) + " \xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8 ";
  }
  Rng r1(7), r2(7), r3(8);
  const TokenizedText a = p.Tokenize(text, &r1);
  const TokenizedText b = p.Tokenize(text, &r2);
  const TokenizedText c = p.Tokenize(text, &r3);
  const TokenizedText clean = p.Tokenize(text);
  CHECK_EQ(a.tokens, b.tokens);
  CHECK(a.tokens != c.tokens);
  CHECK(a.tokens != clean.tokens);
  CHECK_EQ(a.tokens.front(), std::string("<BOS>"));
  CHECK_EQ(a.tokens.back(), std::string("<EOS>"));
  int changed = 0;
  for (size_t i = 0; i < a.tokens.size(); ++i) {
    const std::vector<char32_t> x = DecodeUtf8(a.tokens[i]);
    const std::vector<char32_t> y = DecodeUtf8(clean.tokens[i]);
    // At most one edit of one code point; output stays valid UTF-8.
    const long diff = static_cast<long>(x.size()) - static_cast<long>(y.size());
    CHECK(diff >= -1 && diff <= 1);
    CHECK(std::find(x.begin(), x.end(), char32_t{0xFFFD}) == x.end());
    changed += a.tokens[i] != clean.tokens[i];
  }
  CHECK(changed > 15 && changed < 85);  // ~ 0.5 * 100 (some edits are no-ops)

  // p = 0 or no rng: identical to the clean tokens.
  ProjectionOptions off = o;
  off.distortion_probability = 0.0f;
  Rng r4(7);
  CHECK_EQ(SequenceStringProjector(off).Tokenize(text, &r4).tokens,
           clean.tokens);
  CHECK_EQ(p.Tokenize(text, nullptr).tokens, clean.tokens);

  // p = 1 on one-character tokens: deletions give "<null>".
  ProjectionOptions always = Options(16);
  always.distortion_probability = 1.0f;
  Rng r5(1);
  const TokenizedText single =
      SequenceStringProjector(always).Tokenize("a b c d e f g h i j k l", &r5);
  CHECK(std::find(single.tokens.begin(), single.tokens.end(), "<null>") !=
        single.tokens.end());

  // Pinned output: the same on every platform (x86 and aarch64 runs).
  Rng r6(42);
  const TokenizedText pinned = SequenceStringProjector(always).Tokenize(
      "hello world \xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4"
      "\xe0\xa5\x87 \xf0\x9f\x98\x80\xf0\x9f\x98\x81",
      &r6);
  // hello -> helol (move), world -> orld (delete), नमस्ते -> नम्तेस (move),
  // 😀😁 -> 😀😀😁 (insert a copy of one of its own characters).
  CHECK_EQ(HexTokens(pinned.tokens),
           (std::vector<std::string>{
               "68656c6f6c", "6f726c64",
               "e0a4a8e0a4aee0a58de0a4a4e0a587e0a4b8",
               "f09f9880f09f9880f09f9881"}));
}

TEST(RngIsSplitMix64) {
  Rng rng(0);
  // splitmix64 reference outputs for seed 0.
  CHECK_EQ(rng.Next(), 0xe220a8397b1dcdafULL);
  CHECK_EQ(rng.Next(), 0x6e789e6aa1b965f4ULL);
  CHECK_EQ(rng.Next(), 0x06c45d188009454fULL);
  Rng u(3);
  for (int i = 0; i < 1000; ++i) {
    const double v = u.Uniform();
    CHECK(v >= 0.0 && v < 1.0);
  }
}

// ---------------------------------------------------------------------------
// Batches.

TEST(BatchPadsWithZerosAndReportsLengths) {
  ProjectionOptions o = Options(64);
  o.add_bos_tag = o.add_eos_tag = true;
  o.word_novelty_bits = 2;
  o.doc_size_levels = 4;
  const SequenceStringProjector p(o);
  const std::vector<std::string_view> texts = {"one two three", "", "a a",
                                               "\xff\xfe"};
  const TokenizedBatch batch = p.TokenizeBatch(texts);
  CHECK_EQ(batch.max_tokens, 5);
  CHECK_EQ(batch.examples.size(), texts.size());
  const size_t f = 64, t = 5;
  std::vector<float> out(texts.size() * t * f,
                         std::numeric_limits<float>::quiet_NaN());
  std::vector<int32_t> lengths(texts.size(), -1);
  p.ProjectBatch(batch, out.data(), lengths.data());
  CHECK_EQ(lengths, (std::vector<int32_t>{5, 2, 4, 3}));
  for (size_t b = 0; b < texts.size(); ++b) {
    const TokenizedText single = p.Tokenize(texts[b]);
    std::vector<float> rows(single.tokens.size() * f);
    p.Project(single, rows.data());
    for (size_t r = 0; r < t; ++r) {
      for (size_t k = 0; k < f; ++k) {
        const float v = out[(b * t + r) * f + k];
        const float want = r < single.tokens.size() ? rows[r * f + k] : 0.0f;
        if (!CHECK_EQ_CTX(v, want,
                          "b=" + std::to_string(b) + " r=" + std::to_string(r) +
                              " k=" + std::to_string(k))) {
          return;
        }
      }
    }
  }
  // An empty batch.
  const TokenizedBatch none = p.TokenizeBatch({});
  CHECK_EQ(none.max_tokens, 0);
  p.ProjectBatch(none, nullptr, nullptr);
}

}  // namespace
