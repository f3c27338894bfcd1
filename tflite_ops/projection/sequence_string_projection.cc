// The hashing projection of pQRNN (see sequence_string_projection.h).
//
// Every byte is read as `unsigned char` and every multi-byte integer is
// assembled byte by byte, so the output is the same on every platform
// (x86 vs ARM differ in the signedness of plain `char`; big-endian machines
// would differ in loads).
#include "tflite_ops/projection/sequence_string_projection.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tflite_ops/projection/unicode_tables.h"

namespace pqrnn {
namespace {

constexpr uint64_t kMul = 0xc6a4a7935bd1e995ULL;
constexpr uint64_t kMul2 = 0x9e3779b97f4a7835ULL;
constexpr char32_t kReplacement = 0xFFFD;
// DecodeOne's marker for an invalid subpart (decoded as U+FFFD). Distinct
// from a literal U+FFFD so callers know the bytes cannot be copied as is.
constexpr char32_t kInvalid = 0xFFFFFFFF;

constexpr std::string_view kBos = "<BOS>";
constexpr std::string_view kEos = "<EOS>";
constexpr std::string_view kNull = "<null>";

inline uint64_t ShiftMix(uint64_t v) { return v ^ (v >> 47); }

// Little-endian load of 1..8 bytes, independent of host endianness and
// alignment.
inline uint64_t LoadLittleEndian(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// Decodes one code point from s[0, n), n >= 1. Returns the number of bytes
// consumed (>= 1): a whole well-formed sequence, or the maximal invalid
// subpart (a lead byte plus the continuation bytes that were still valid),
// in which case *cp = kInvalid. Never reads s[n] or beyond.
inline size_t DecodeOne(const unsigned char* s, size_t n, char32_t* cp) {
  const unsigned b0 = s[0];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t need;
  char32_t c;
  // Allowed range of the first continuation byte; this is what rejects
  // overlongs (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points
  // above U+10FFFF (F4 90..BF). C0, C1 and F5..FF are never valid.
  unsigned lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    c = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    c = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    c = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *cp = kInvalid;
    return 1;
  }
  size_t i = 1;
  for (; i <= need; ++i) {
    if (i >= n) {
      *cp = kInvalid;
      return i;
    }
    const unsigned b = s[i];
    if (b < lo || b > hi) {
      *cp = kInvalid;
      return i;
    }
    lo = 0x80;
    hi = 0xBF;
    c = (c << 6) | (b & 0x3F);
  }
  *cp = c;
  return i;
}

// ASCII White_Space, and the lead bytes of the UTF-8 encodings of non-ASCII
// White_Space code points (C2, E1, E2, E3), both derived from the generated
// table. The tokenizer only decodes at those lead bytes: they are never
// continuation bytes, so a decoder is always at a sequence boundary there and
// byte scanning splits exactly where decoding the whole string would.
struct ByteClasses {
  bool ascii_space[128] = {};
  bool space_lead[256] = {};
};

constexpr ByteClasses MakeByteClasses() {
  ByteClasses t;
  for (char32_t c : unicode_tables::kWhiteSpace) {
    if (c < 0x80) {
      t.ascii_space[c] = true;
    } else if (c < 0x800) {
      t.space_lead[0xC0 | (c >> 6)] = true;
    } else if (c < 0x10000) {
      t.space_lead[0xE0 | (c >> 12)] = true;
    } else {
      t.space_lead[0xF0 | (c >> 18)] = true;
    }
  }
  return t;
}
constexpr ByteClasses kByteClasses = MakeByteClasses();

inline char AsciiLower(unsigned char b) {
  return static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b);
}

std::string FormatFloat(float v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  return buf;
}

// Applies one random edit to `cps` (non-empty). Documented in the header.
void DistortCodePoints(Rng* rng, std::u32string* cps) {
  const uint64_t op = rng->Next() % 3;
  const size_t len = cps->size();
  if (op == 0) {  // Delete one character.
    cps->erase(rng->Next() % len, 1);
  } else if (op == 1) {  // Move one character elsewhere.
    if (len < 2) return;
    const size_t from = rng->Next() % len;
    const char32_t c = (*cps)[from];
    cps->erase(from, 1);
    cps->insert(cps->begin() + rng->Next() % len, c);
  } else {  // Insert a copy of one of the token's own characters.
    const size_t at = rng->Next() % (len + 1);
    const char32_t c = (*cps)[rng->Next() % len];
    cps->insert(cps->begin() + at, c);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Options.

std::string ValidateOptions(const ProjectionOptions& o) {
  if (o.feature_size < 2 || o.feature_size > kMaxFeatureSize ||
      o.feature_size % 2 != 0) {
    return "feature_size must be an even number in [2, " +
           std::to_string(kMaxFeatureSize) + "], got " +
           std::to_string(o.feature_size);
  }
  if (o.max_seq_len < 0) {
    return "max_seq_len must be >= 0 (0 = no limit), got " +
           std::to_string(o.max_seq_len);
  }
  if (o.word_novelty_bits < 0 || o.word_novelty_bits > kMaxWordNoveltyBits) {
    return "word_novelty_bits must be in [0, " +
           std::to_string(kMaxWordNoveltyBits) + "] (0 = off), got " +
           std::to_string(o.word_novelty_bits);
  }
  if (o.doc_size_levels < 0 || o.doc_size_levels > kMaxDocSizeLevels) {
    return "doc_size_levels must be in [0, " +
           std::to_string(kMaxDocSizeLevels) + "] (0 = off), got " +
           std::to_string(o.doc_size_levels);
  }
  // Written so that NaN fails too.
  if (!(o.distortion_probability >= 0.0f && o.distortion_probability <= 1.0f)) {
    return "distortion_probability must be in [0, 1], got " +
           FormatFloat(o.distortion_probability);
  }
  if (o.char_ngram_size < 0 || o.char_ngram_size > kMaxCharNgramSize) {
    return "char_ngram_size must be in [0, " +
           std::to_string(kMaxCharNgramSize) + "] (0 = off), got " +
           std::to_string(o.char_ngram_size);
  }
  // Each extra feature overwrites one hash feature; at least half of the
  // features must stay hash features, so the token is still identifiable.
  const int extras = (o.word_novelty_bits > 0) + (o.doc_size_levels > 0);
  if (o.feature_size < 2 * extras) {
    return "feature_size must be >= " + std::to_string(2 * extras) +
           " when word_novelty_bits and doc_size_levels are both on (they "
           "overwrite features F-1 and F-2), got " +
           std::to_string(o.feature_size);
  }
  return "";
}

// ---------------------------------------------------------------------------
// Hashing.

Hash128 HashBytes(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t len = bytes.size();
  uint64_t h = static_cast<uint64_t>(len) * kMul;
  uint64_t h2 = 0;
  const size_t aligned = len & ~static_cast<size_t>(7);
  for (size_t i = 0; i < aligned; i += 8) {
    const uint64_t d = LoadLittleEndian(p + i, 8);
    h ^= ShiftMix(d * kMul) * kMul;
    h *= kMul;
    h2 ^= h;
  }
  if (len & 7) {
    h ^= LoadLittleEndian(p + aligned, len & 7);
    h *= kMul;
    h2 ^= h;
  }
  h = ShiftMix(h) * kMul;
  h2 ^= h;
  h = ShiftMix(h);
  h2 = ShiftMix(h2 * kMul2) * kMul2;
  return {h, h2};
}

void CodeWords(std::string_view token, int num_words, uint64_t* words) {
  if (num_words <= 0) return;
  const Hash128 first = HashBytes(token);
  uint64_t low = first.low;
  uint64_t high = first.high;
  for (int i = 0; i < num_words; i += 2) {
    if (i > 0) {  // Pairs after the first are chained from the previous one.
      const uint64_t t = ShiftMix(low) * kMul;
      const uint64_t u = high ^ t;
      high = ShiftMix(t);
      low = ShiftMix(u * kMul2) * kMul2;
    }
    words[i] = low;
    if (i + 1 < num_words) words[i + 1] = high;
  }
}

namespace {

// One code-word byte holds four 2-bit features; this table maps each byte
// value to its four floats so the hot loop is one 16-byte copy per byte.
struct ByteToFeatures {
  float values[256][4];
  constexpr ByteToFeatures() : values() {
    constexpr float kTernary[4] = {0.0f, 1.0f, -1.0f, 0.0f};
    for (int b = 0; b < 256; ++b) {
      for (int j = 0; j < 4; ++j) values[b][j] = kTernary[(b >> (2 * j)) & 3];
    }
  }
};
constexpr ByteToFeatures kByteToFeatures;

}  // namespace

void FeaturesFromCodeWords(const uint64_t* words, int feature_size,
                           float* out) {
  const int full_bytes = feature_size / 4;
  for (int i = 0; i < full_bytes; ++i) {
    // Byte i of the little-endian code-word stream, computed arithmetically
    // so the result does not depend on the host's byte order.
    const unsigned byte = (words[i >> 3] >> (8 * (i & 7))) & 0xFF;
    std::memcpy(out + 4 * i, kByteToFeatures.values[byte], sizeof(float) * 4);
  }
  static constexpr float kTernary[4] = {0.0f, 1.0f, -1.0f, 0.0f};
  for (int k = full_bytes * 4; k < feature_size; ++k) {
    out[k] = kTernary[(words[k >> 5] >> (2 * (k & 31))) & 3];
  }
}

namespace {

// The n-gram sums are accumulated four features per uint32, one byte lane
// each (feature k in byte k % 4 of lanes[k / 4]), holding the sum of
// feature + 1 (0, 1 or 2 per n-gram): lanes never carry into each other
// because a lane reaches at most 2 * kMaxCharNgramsPerToken.
struct ByteToLanes {
  uint32_t values[256];
  constexpr ByteToLanes() : values() {
    constexpr uint32_t kOffsetTernary[4] = {1, 2, 0, 1};  // 0, +1, -1, 0 plus 1
    for (int b = 0; b < 256; ++b) {
      uint32_t lanes = 0;
      for (int j = 0; j < 4; ++j) lanes |= kOffsetTernary[(b >> (2 * j)) & 3] << (8 * j);
      values[b] = lanes;
    }
  }
};
constexpr ByteToLanes kByteToLanes;
static_assert(2 * kMaxCharNgramsPerToken < 256, "n-gram sums must fit a byte lane");

// Adds feature + 1 of every feature to `lanes` ((feature_size + 3) / 4 of
// them). Whole code words are unrolled with constant shifts (the hot loop).
void AccumulateLanes(const uint64_t* words, int feature_size, uint32_t* lanes) {
  const int bytes = (feature_size + 3) / 4;
  const int whole_words = bytes / 8;
  for (int w = 0; w < whole_words; ++w) {
    const uint64_t word = words[w];
    uint32_t* dst = lanes + 8 * w;
    dst[0] += kByteToLanes.values[word & 0xFF];
    dst[1] += kByteToLanes.values[(word >> 8) & 0xFF];
    dst[2] += kByteToLanes.values[(word >> 16) & 0xFF];
    dst[3] += kByteToLanes.values[(word >> 24) & 0xFF];
    dst[4] += kByteToLanes.values[(word >> 32) & 0xFF];
    dst[5] += kByteToLanes.values[(word >> 40) & 0xFF];
    dst[6] += kByteToLanes.values[(word >> 48) & 0xFF];
    dst[7] += kByteToLanes.values[word >> 56];
  }
  for (int i = whole_words * 8; i < bytes; ++i) {
    lanes[i] += kByteToLanes.values[(words[i >> 3] >> (8 * (i & 7))) & 0xFF];
  }
}

// row[k] += mean[lane value of feature k], k < feature_size.
void AddLaneMeans(const uint32_t* lanes, const float* mean, int feature_size,
                  float* row) {
  const int whole = feature_size / 4;
  for (int i = 0; i < whole; ++i) {
    const uint32_t lane = lanes[i];
    float* dst = row + 4 * i;
    dst[0] += mean[lane & 0xFF];
    dst[1] += mean[(lane >> 8) & 0xFF];
    dst[2] += mean[(lane >> 16) & 0xFF];
    dst[3] += mean[lane >> 24];
  }
  for (int k = whole * 4; k < feature_size; ++k) {
    row[k] += mean[(lanes[k >> 2] >> (8 * (k & 3))) & 0xFF];
  }
}

// Calls fn(bytes) for each n-gram of CharNgrams(token, n), in order, with
// the n-gram's bytes built in `*bytes` (reused, so no allocation per n-gram
// once warm); returns how many there were.
template <typename Fn>
size_t VisitCharNgrams(std::string_view token, int n,
                       std::vector<char32_t>* bounded, std::string* bytes,
                       Fn fn) {
  if (n <= 0) return 0;
  bounded->assign(1, U'<');
  const std::vector<char32_t> decoded = DecodeUtf8(token);
  bounded->insert(bounded->end(), decoded.begin(), decoded.end());
  bounded->push_back(U'>');
  const size_t size = static_cast<size_t>(n);
  const size_t count = std::min<size_t>(
      bounded->size() <= size ? 1 : bounded->size() - size + 1,
      kMaxCharNgramsPerToken);
  for (size_t g = 0; g < count; ++g) {
    bytes->assign(1, static_cast<char>(0xFF));
    const size_t end = std::min(bounded->size(), g + size);
    for (size_t i = g; i < end; ++i) AppendUtf8((*bounded)[i], bytes);
    fn(std::string_view(*bytes));
  }
  return count;
}

}  // namespace

std::vector<std::string> CharNgrams(std::string_view token, int n) {
  std::vector<std::string> grams;
  std::vector<char32_t> bounded;
  std::string bytes;
  VisitCharNgrams(token, n, &bounded, &bytes,
                  [&](std::string_view gram) { grams.emplace_back(gram); });
  return grams;
}

// ---------------------------------------------------------------------------
// Unicode.

std::vector<char32_t> DecodeUtf8(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  std::vector<char32_t> out;
  out.reserve(n);
  for (size_t i = 0; i < n;) {
    char32_t c;
    i += DecodeOne(s + i, n - i, &c);
    out.push_back(c == kInvalid ? kReplacement : c);
  }
  return out;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = kReplacement;
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    const char b[2] = {static_cast<char>(0xC0 | (c >> 6)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out->append(b, 2);
  } else if (c < 0x10000) {
    const char b[3] = {static_cast<char>(0xE0 | (c >> 12)),
                       static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out->append(b, 3);
  } else {
    const char b[4] = {static_cast<char>(0xF0 | (c >> 18)),
                       static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
                       static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out->append(b, 4);
  }
}

bool IsUnicodeWhitespace(char32_t c) {
  if (c < 0x80) return kByteClasses.ascii_space[c];
  return std::binary_search(std::begin(unicode_tables::kWhiteSpace),
                            std::end(unicode_tables::kWhiteSpace), c);
}

char32_t SimpleLowercase(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  const auto* begin = std::begin(unicode_tables::kLowercaseRuns);
  const auto* end = std::end(unicode_tables::kLowercaseRuns);
  // The last run with first <= c.
  const auto* it = std::upper_bound(
      begin, end, c, [](char32_t v, const unicode_tables::LowercaseRun& r) {
        return v < r.first;
      });
  if (it == begin) return c;
  --it;
  if (c > it->last || (c - it->first) % it->stride != 0) return c;
  return static_cast<char32_t>(static_cast<int64_t>(c) + it->delta);
}

const char* UnicodeTablesVersion() { return unicode_tables::kUnicodeVersion; }

// ---------------------------------------------------------------------------
// Random numbers (splitmix64).

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::Uniform() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

// ---------------------------------------------------------------------------
// The projector.

SequenceStringProjector::SequenceStringProjector(
    const ProjectionOptions& options)
    : options_(options) {}

TokenizedText SequenceStringProjector::Tokenize(std::string_view text,
                                                Rng* rng) const {
  TokenizedText result;
  const bool distort = rng != nullptr && options_.distortion_probability > 0;
  const bool lowercase = options_.lowercase;
  const size_t limit = options_.max_seq_len > 0
                           ? static_cast<size_t>(options_.max_seq_len)
                           : std::numeric_limits<size_t>::max();
  if (options_.add_bos_tag) result.tokens.emplace_back(kBos);

  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  // Length of the separator starting at s[i], 0 if none.
  auto separator_length = [s, n](size_t i) -> size_t {
    const unsigned b = s[i];
    if (b < 0x80) return kByteClasses.ascii_space[b] ? 1 : 0;
    if (!kByteClasses.space_lead[b]) return 0;
    char32_t c;
    const size_t len = DecodeOne(s + i, n - i, &c);
    return c != kInvalid && IsUnicodeWhitespace(c) ? len : 0;
  };

  std::u32string scratch;  // Reused by distortion.
  size_t kept = 0;
  size_t i = 0;
  while (kept < limit) {
    // Skip separators.
    while (i < n) {
      const size_t sep = separator_length(i);
      if (sep == 0) break;
      i += sep;
    }
    if (i >= n) break;
    // Find the end of the token; note whether it is pure ASCII.
    const size_t start = i;
    unsigned high_bits = 0;
    while (i < n) {
      const unsigned b = s[i];
      if (b < 0x80) {
        if (kByteClasses.ascii_space[b]) break;
      } else if (kByteClasses.space_lead[b] && separator_length(i) != 0) {
        break;
      }
      high_bits |= b;
      ++i;
    }
    ++kept;

    // Normalize.
    std::string token;
    token.reserve(i - start);
    if ((high_bits & 0x80) == 0) {  // ASCII fast path: valid, 1:1.
      if (lowercase) {
        for (size_t j = start; j < i; ++j) token.push_back(AsciiLower(s[j]));
      } else {
        token.assign(reinterpret_cast<const char*>(s + start), i - start);
      }
    } else {
      for (size_t j = start; j < i;) {
        char32_t c;
        const size_t len = DecodeOne(s + j, i - j, &c);
        if (c == kInvalid) {
          AppendUtf8(kReplacement, &token);
        } else {
          const char32_t mapped = lowercase ? SimpleLowercase(c) : c;
          if (mapped == c) {  // Well-formed and unchanged: copy the bytes.
            token.append(reinterpret_cast<const char*>(s + j), len);
          } else {
            AppendUtf8(mapped, &token);
          }
        }
        j += len;
      }
    }

    // One uniform draw per real token, so later tokens' draws do not depend
    // on whether earlier ones were distorted.
    if (distort && rng->Uniform() < options_.distortion_probability) {
      scratch.clear();
      const auto* t = reinterpret_cast<const unsigned char*>(token.data());
      for (size_t j = 0; j < token.size();) {
        char32_t c;
        j += DecodeOne(t + j, token.size() - j, &c);
        scratch.push_back(c);  // `token` is well-formed here.
      }
      DistortCodePoints(rng, &scratch);
      token.clear();
      for (char32_t c : scratch) AppendUtf8(c, &token);
    }
    if (token.empty()) token.assign(kNull.data(), kNull.size());
    result.tokens.push_back(std::move(token));
  }
  result.num_real_tokens = static_cast<int>(kept);
  if (options_.add_eos_tag) result.tokens.emplace_back(kEos);
  return result;
}

void SequenceStringProjector::Project(const TokenizedText& text,
                                      float* out) const {
  const int f = options_.feature_size;
  const int num_words = (f + 31) / 32;
  uint64_t words[(kMaxFeatureSize + 31) / 32];

  const int novelty_bits = options_.word_novelty_bits;
  std::unordered_map<std::string_view, int> seen;
  if (novelty_bits > 0) seen.reserve(text.tokens.size());

  float doc_size = -1.0f;
  if (options_.doc_size_levels > 0 && text.num_real_tokens > 0) {
    const double level = std::log2(static_cast<double>(text.num_real_tokens)) /
                         options_.doc_size_levels;
    doc_size = static_cast<float>(std::min(level, 1.0) * 2.0 - 1.0);
  }

  const int ngram_size = options_.char_ngram_size;
  std::vector<uint32_t> lanes(ngram_size > 0 ? (f + 3) / 4 : 0);
  // mean[v] = (v - G) / G for a lane value v = S + G, so the division of the
  // contract is done once per value, not once per feature.
  float mean[2 * kMaxCharNgramsPerToken + 1];
  std::vector<char32_t> bounded;
  std::string gram_bytes;
  const size_t num_rows = text.tokens.size();

  for (size_t r = 0; r < num_rows; ++r) {
    const std::string& token = text.tokens[r];
    float* row = out + r * static_cast<size_t>(f);
    CodeWords(token, num_words, words);
    FeaturesFromCodeWords(words, f, row);
    const bool special = (r == 0 && options_.add_bos_tag) ||
                         (r + 1 == num_rows && options_.add_eos_tag) ||
                         token == kNull;
    if (ngram_size > 0 && !special) {
      std::fill(lanes.begin(), lanes.end(), 0u);
      const int num_grams = static_cast<int>(VisitCharNgrams(
          token, ngram_size, &bounded, &gram_bytes, [&](std::string_view gram) {
            CodeWords(gram, num_words, words);
            AccumulateLanes(words, f, lanes.data());
          }));
      // S / G with S = v - G in [-64, 64]: exact integers, one IEEE
      // division each, then one addition per feature.
      const float count = static_cast<float>(num_grams);
      for (int v = 0; v <= 2 * num_grams; ++v) {
        mean[v] = static_cast<float>(v - num_grams) / count;
      }
      AddLaneMeans(lanes.data(), mean, f, row);
    }
    if (novelty_bits > 0) {
      const int c = seen[token]++;  // Earlier rows with the same bytes.
      const int saturate = 1 << novelty_bits;
      // Exact in float: c / 2^bits with c < 2^bits, times 2, minus 1.
      row[f - 1] = c >= saturate ? 1.0f
                                 : static_cast<float>(c) / saturate * 2 - 1;
    }
    if (options_.doc_size_levels > 0) row[f - 2] = doc_size;
  }
}

TokenizedBatch SequenceStringProjector::TokenizeBatch(
    const std::vector<std::string_view>& texts, Rng* rng) const {
  TokenizedBatch batch;
  batch.examples.reserve(texts.size());
  for (std::string_view text : texts) {
    batch.examples.push_back(Tokenize(text, rng));
    batch.max_tokens =
        std::max(batch.max_tokens,
                 static_cast<int>(batch.examples.back().tokens.size()));
  }
  return batch;
}

void SequenceStringProjector::ProjectBatch(const TokenizedBatch& batch,
                                           float* out,
                                           int32_t* lengths) const {
  const size_t f = static_cast<size_t>(options_.feature_size);
  const size_t t = static_cast<size_t>(batch.max_tokens);
  for (size_t b = 0; b < batch.examples.size(); ++b) {
    const TokenizedText& example = batch.examples[b];
    float* dst = out + b * t * f;
    Project(example, dst);
    const size_t rows = example.tokens.size();
    std::fill(dst + rows * f, dst + t * f, 0.0f);
    lengths[b] = static_cast<int32_t>(rows);
  }
}

}  // namespace pqrnn
