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

// Vector paths of NgramSums::WriteRow; PQRNN_SCALAR_ONLY builds the scalar
// path everywhere (`make core-test` runs the tests on both builds).
#if defined(PQRNN_SCALAR_ONLY)
#elif defined(__SSE2__)
#include <emmintrin.h>
#define PQRNN_MEANS_SSE2 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define PQRNN_MEANS_NEON 1
#endif

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
  if (o.char_ngram_sqrt && o.char_ngram_size == 0) {
    return "char_ngram_sqrt needs char_ngram_size > 0 (it scales the character "
           "n-grams' sum), got char_ngram_size=0";
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

namespace {

// The code-word chain: (low, high) of pair i + 1 from pair i.
inline void NextCodePair(uint64_t* low, uint64_t* high) {
  const uint64_t t = ShiftMix(*low) * kMul;
  const uint64_t u = *high ^ t;
  *high = ShiftMix(t);
  *low = ShiftMix(u * kMul2) * kMul2;
}

}  // namespace

void CodeWords(std::string_view token, int num_words, uint64_t* words) {
  if (num_words <= 0) return;
  const Hash128 first = HashBytes(token);
  uint64_t low = first.low;
  uint64_t high = first.high;
  for (int i = 0; i < num_words; i += 2) {
    // Pairs after the first are chained from the previous one.
    if (i > 0) NextCodePair(&low, &high);
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

// The n-gram sums S (per feature, over a token's G n-grams) are kept as
// S + G, i.e. the sum of feature + 1, which is 0, 1 or 2 per n-gram and so
// never negative. Every step is integer arithmetic, so the sums are exact and
// their order does not matter; the layouts below are internal.
//
// A code word holds 32 features, 2 bits each (low bit b0, high bit b1;
// feature = b0 - b1). Per word, with SWAR arithmetic on 64-bit integers:
//   v = (0x55.. + b0) - b1         feature + 1 in each 2-bit field (no carry:
//                                  1 + b0 <= 2 and 1 + b0 >= b1)
//   even += v & 0x33..             fields 0, 2, 4, .. in 4-bit nibbles
//   odd += (v >> 2) & 0x33..       fields 1, 3, 5, ..
// A nibble holds at most 15, so after kNgramsPerNibble n-grams (7 * 2 = 14)
// the nibbles are flushed into byte planes: planes[4 * w + j] byte i is the
// sum of feature 32 w + 4 i + j, at most 2 * kMaxCharNgramsPerToken < 256.
// Against one table lookup and one add per four features, this is a handful
// of register operations and two stores per 32 features.
constexpr uint64_t kFieldLowBits = 0x5555555555555555ULL;
constexpr uint64_t kNibbleLowFields = 0x3333333333333333ULL;
constexpr uint64_t kByteLowNibbles = 0x0F0F0F0F0F0F0F0FULL;
constexpr int kNgramsPerNibble = 7;
static_assert(2 * kNgramsPerNibble < 16, "nibble sums must not carry");
static_assert(2 * kMaxCharNgramsPerToken < 256, "byte sums must not carry");

struct NgramSums {
  std::vector<uint64_t> nibbles;  // [even, odd] per code word
  std::vector<uint64_t> planes;   // 4 byte planes per code word
  int pending = 0;                // n-grams in `nibbles` since the last flush
  bool flushed = false;           // `planes` holds this token's earlier sums

  // Four byte planes: plane j byte i is feature 4 i + j of a code word.
  struct Planes {
    uint64_t p[4];
  };

  // The byte planes of nibble sums (even: fields 0, 2, ..; odd: 1, 3, ..).
  static Planes PlanesOf(uint64_t even, uint64_t odd) {
    return {{even & kByteLowNibbles,           // field 4 i
             odd & kByteLowNibbles,            // field 4 i + 1
             (even >> 4) & kByteLowNibbles,    // field 4 i + 2
             (odd >> 4) & kByteLowNibbles}};   // field 4 i + 3
  }

  explicit NgramSums(int num_words)
      : nibbles(2 * static_cast<size_t>(num_words)),
        planes(4 * static_cast<size_t>(num_words)) {}

  // Starts a token. Nothing is zeroed: the first n-grams after a flush
  // assign the nibbles, and the first flush assigns the planes.
  void Clear() {
    pending = 0;
    flushed = false;
  }

  void Flush() {
    const size_t num_words = nibbles.size() / 2;
    if (pending == 0) {  // Nothing added since the last flush (or ever).
      if (!flushed) std::fill(planes.begin(), planes.end(), 0);
      flushed = true;
      return;
    }
    for (size_t w = 0; w < num_words; ++w) {
      const Planes add = PlanesOf(nibbles[2 * w], nibbles[2 * w + 1]);
      uint64_t* p = planes.data() + 4 * w;
      if (flushed) {
        p[0] += add.p[0], p[1] += add.p[1], p[2] += add.p[2], p[3] += add.p[3];
      } else {
        std::memcpy(p, add.p, sizeof(add.p));
      }
    }
    pending = 0;
    flushed = true;
  }

  // Adds feature + 1 of every feature of CodeWords(gram, num_words), one
  // chain pair at a time without storing the words, so that the additions
  // fill the chain's multiply latency (the hot loop of the n-grams). Same
  // words as CodeWords, which the tests check.
  void Add(std::string_view gram) {
    if (pending == kNgramsPerNibble) Flush();
    const bool first = pending == 0;  // Assign instead of add.
    ++pending;
    const int num_words = static_cast<int>(nibbles.size() / 2);
    const Hash128 hash = HashBytes(gram);
    uint64_t low = hash.low;
    uint64_t high = hash.high;
    uint64_t* sums = nibbles.data();
    for (int i = 0; i < num_words; i += 2) {
      if (i > 0) NextCodePair(&low, &high);
      AddWord(low, first, sums + 2 * i);
      if (i + 1 < num_words) AddWord(high, first, sums + 2 * (i + 1));
    }
  }

  // Add(a) then Add(b), with the two chains interleaved: they are
  // independent, so the CPU runs one while the other waits on a multiply.
  void Add2(std::string_view a, std::string_view b) {
    if (pending + 2 > kNgramsPerNibble) Flush();
    const bool first = pending == 0;  // Assign instead of add.
    pending += 2;
    const int num_words = static_cast<int>(nibbles.size() / 2);
    const Hash128 first_a = HashBytes(a);
    const Hash128 first_b = HashBytes(b);
    uint64_t low_a = first_a.low, high_a = first_a.high;
    uint64_t low_b = first_b.low, high_b = first_b.high;
    uint64_t* sums = nibbles.data();
    for (int i = 0; i < num_words; i += 2) {
      if (i > 0) {
        NextCodePair(&low_a, &high_a);
        NextCodePair(&low_b, &high_b);
      }
      AddWords(low_a, low_b, first, sums + 2 * i);
      if (i + 1 < num_words) AddWords(high_a, high_b, first, sums + 2 * (i + 1));
    }
  }

  static uint64_t FieldsPlusOne(uint64_t word) {
    const uint64_t b0 = word & kFieldLowBits;
    const uint64_t b1 = (word >> 1) & kFieldLowBits;
    return (kFieldLowBits + b0) - b1;
  }

  static void AddWords(uint64_t a, uint64_t b, bool first, uint64_t* even_odd) {
    const uint64_t va = FieldsPlusOne(a);
    const uint64_t vb = FieldsPlusOne(b);
    const uint64_t even = (va & kNibbleLowFields) + (vb & kNibbleLowFields);
    const uint64_t odd = ((va >> 2) & kNibbleLowFields) + ((vb >> 2) & kNibbleLowFields);
    even_odd[0] = first ? even : even_odd[0] + even;
    even_odd[1] = first ? odd : even_odd[1] + odd;
  }

  static void AddWord(uint64_t word, bool first, uint64_t* even_odd) {
    const uint64_t v = FieldsPlusOne(word);
    const uint64_t even = v & kNibbleLowFields;
    const uint64_t odd = (v >> 2) & kNibbleLowFields;
    even_odd[0] = first ? even : even_odd[0] + even;
    even_odd[1] = first ? odd : even_odd[1] + odd;
  }

  // Writes a token's row (call after Flush()): row[k] = word feature k (from
  // the token's code words) + (S_k + G - G) / D, D = G (the mean of the
  // contract) or sqrtf(G): one IEEE division per feature (S_k + G - G is an
  // exact integer, D the same float everywhere), then one addition, on every
  // path, hence the same bits.
  void WriteRow(const uint64_t* words, int num_grams, float divisor, int feature_size,
                float* row) const {
    const int whole = feature_size / 32;
#if defined(PQRNN_MEANS_SSE2) || defined(PQRNN_MEANS_NEON)
    // 32 features per code word: the word's 2-bit codes and the sums' four
    // byte planes are interleaved into feature order, widened to 32-bit and
    // converted (exactly), four features at a time; the row is written once.
    for (int w = 0; w < whole; ++w) {
      WriteWordRow(WordPlanes(words[w]), planes.data() + 4 * w, num_grams, divisor, row + 32 * w);
    }
    const float count = static_cast<float>(num_grams);
    const auto mean = [count, divisor](uint64_t v) {
      return (static_cast<float>(v) - count) / divisor;
    };
#else
    // mean[v] = (v - G) / D, so the scalar path divides once per value, not
    // once per feature.
    float table[2 * kMaxCharNgramsPerToken + 1];
    for (int v = 0; v <= 2 * num_grams; ++v) {
      table[v] = static_cast<float>(v - num_grams) / divisor;
    }
    const auto mean = [&table](uint64_t v) { return table[v]; };
    FeaturesFromCodeWords(words, whole * 32, row);
    for (int w = 0; w < whole; ++w) {
      const uint64_t* p = planes.data() + 4 * w;
      float* dst = row + 32 * w;
      for (int j = 0; j < 4; ++j) {  // Constant shifts: the hot loop.
        const uint64_t plane = p[j];
        dst[j] += mean(plane & 0xFF);
        dst[4 + j] += mean((plane >> 8) & 0xFF);
        dst[8 + j] += mean((plane >> 16) & 0xFF);
        dst[12 + j] += mean((plane >> 24) & 0xFF);
        dst[16 + j] += mean((plane >> 32) & 0xFF);
        dst[20 + j] += mean((plane >> 40) & 0xFF);
        dst[24 + j] += mean((plane >> 48) & 0xFF);
        dst[28 + j] += mean(plane >> 56);
      }
    }
#endif
    static constexpr float kTernary[4] = {0.0f, 1.0f, -1.0f, 0.0f};
    for (int k = whole * 32; k < feature_size; ++k) {
      const int r = k & 31;
      const uint64_t plane = planes[4 * static_cast<size_t>(k >> 5) + (r & 3)];
      row[k] = kTernary[(words[k >> 5] >> (2 * r)) & 3];
      row[k] += mean((plane >> (8 * (r >> 2))) & 0xFF);
    }
  }

  // A code word's features + 1 (0, 1, 2) in the byte-plane layout of
  // `planes`.
  static Planes WordPlanes(uint64_t word) {
    const uint64_t v = FieldsPlusOne(word);
    return PlanesOf(v & kNibbleLowFields, (v >> 2) & kNibbleLowFields);
  }

#if defined(PQRNN_MEANS_SSE2)
  // The 32 bytes of four planes (p01: planes 0, 1; p23: planes 2, 3) in
  // feature order, as two vectors of 16.
  static void Interleave(__m128i p01, __m128i p23, __m128i out[2]) {
    const __m128i a = _mm_unpacklo_epi8(p01, _mm_srli_si128(p01, 8));  // p0 p1 byte pairs
    const __m128i b = _mm_unpacklo_epi8(p23, _mm_srli_si128(p23, 8));  // p2 p3 byte pairs
    out[0] = _mm_unpacklo_epi16(a, b);  // features 0..15
    out[1] = _mm_unpackhi_epi16(a, b);  // features 16..31
  }

  // The 16 bytes of `x` as four vectors of 4 floats (exact: below 256).
  static void Floats(__m128i x, __m128 out[4]) {
    const __m128i zero = _mm_setzero_si128();
    const __m128i lo = _mm_unpacklo_epi8(x, zero);
    const __m128i hi = _mm_unpackhi_epi8(x, zero);
    out[0] = _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, zero));
    out[1] = _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, zero));
    out[2] = _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, zero));
    out[3] = _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, zero));
  }

  static void WriteWordRow(const Planes& word, const uint64_t* p, int num_grams, float divisor,
                           float* dst) {
    __m128i sums[2], codes[2];
    // x86 is little-endian: byte i of a plane in memory is its bits 8i..8i+7.
    Interleave(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
               _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2)), sums);
    // The word's planes come from registers (a 16-byte load of two 8-byte
    // stores just made would stall on store forwarding).
    Interleave(_mm_set_epi64x(static_cast<long long>(word.p[1]), static_cast<long long>(word.p[0])),
               _mm_set_epi64x(static_cast<long long>(word.p[3]), static_cast<long long>(word.p[2])),
               codes);
    const __m128 count = _mm_set1_ps(static_cast<float>(num_grams));
    const __m128 d = _mm_set1_ps(divisor);
    const __m128 one = _mm_set1_ps(1.0f);
    for (int h = 0; h < 2; ++h) {
      __m128 s[4], c[4];
      Floats(sums[h], s);
      Floats(codes[h], c);
      for (int q = 0; q < 4; ++q) {
        const __m128 m = _mm_div_ps(_mm_sub_ps(s[q], count), d);
        const __m128 feature = _mm_sub_ps(c[q], one);  // -1, 0, 1
        _mm_storeu_ps(dst + 16 * h + 4 * q, _mm_add_ps(feature, m));
      }
    }
  }
#elif defined(PQRNN_MEANS_NEON)
  // The 32 bytes of four planes in feature order, as four vectors of 8.
  static void Interleave(const uint64_t* p, uint8x8_t out[4]) {
    // vcreate_u8 puts bits 8i..8i+7 in lane i on either byte order.
    const uint8x8x2_t a = vzip_u8(vcreate_u8(p[0]), vcreate_u8(p[1]));
    const uint8x8x2_t b = vzip_u8(vcreate_u8(p[2]), vcreate_u8(p[3]));
    for (int h = 0; h < 2; ++h) {
      const uint16x4x2_t z = vzip_u16(vreinterpret_u16_u8(a.val[h]), vreinterpret_u16_u8(b.val[h]));
      out[2 * h] = vreinterpret_u8_u16(z.val[0]);      // features 16 h .. 16 h + 7
      out[2 * h + 1] = vreinterpret_u8_u16(z.val[1]);  // features 16 h + 8 .. 16 h + 15
    }
  }

  static void WriteWordRow(const Planes& word, const uint64_t* p, int num_grams, float divisor,
                           float* dst) {
    uint8x8_t sums[4], codes[4];
    Interleave(p, sums);
    Interleave(word.p, codes);
    const float32x4_t count = vdupq_n_f32(static_cast<float>(num_grams));
    const float32x4_t d = vdupq_n_f32(divisor);
    const float32x4_t one = vdupq_n_f32(1.0f);
    for (int g = 0; g < 4; ++g) {  // features 8 g .. 8 g + 7
      const uint16x8_t s = vmovl_u8(sums[g]);
      const uint16x8_t c = vmovl_u8(codes[g]);
      for (int e = 0; e < 2; ++e) {
        const uint16x4_t s4 = e == 0 ? vget_low_u16(s) : vget_high_u16(s);
        const uint16x4_t c4 = e == 0 ? vget_low_u16(c) : vget_high_u16(c);
        const float32x4_t m = vdivq_f32(vsubq_f32(vcvtq_f32_u32(vmovl_u16(s4)), count), d);
        const float32x4_t feature = vsubq_f32(vcvtq_f32_u32(vmovl_u16(c4)), one);
        vst1q_f32(dst + 8 * g + 4 * e, vaddq_f32(feature, m));
      }
    }
  }
#endif
};

// The n-grams of CharNgrams(token, n) of one token, back to back in one
// buffer: n-gram g is bytes[starts[g], starts[g + 1]), 0xFF marker included.
// The buffers are reused from token to token, so once warm nothing is
// allocated.
struct CharNgramBuffer {
  std::string bounded;          // '<' + the token's code points, UTF-8 + '>'
  std::vector<uint32_t> cuts;   // where each code point of `bounded` starts, + end
  std::string bytes;
  std::vector<uint32_t> starts;

  size_t count() const { return starts.empty() ? 0 : starts.size() - 1; }
  std::string_view gram(size_t g) const {
    return std::string_view(bytes).substr(starts[g], starts[g + 1] - starts[g]);
  }

  // Fills the buffer with CharNgrams(token, n) (none when n <= 0).
  void Fill(std::string_view token, int n) {
    starts.clear();
    if (n <= 0) return;
    // `bounded` is the bounded token's code points re-encoded: a well-formed
    // sequence re-encodes to its own bytes (DecodeOne rejects overlongs,
    // surrogates and values above U+10FFFF), so it is copied; each invalid
    // subpart becomes U+FFFD. The n-grams kept use at most the first
    // kMaxCharNgramsPerToken + n - 1 code points of the bounded token, so a
    // longer token is read no further (its '>' is in no kept n-gram).
    const size_t needed = kMaxCharNgramsPerToken + static_cast<size_t>(n) - 1;
    bounded.assign(1, '<');
    cuts.assign(1, 0);
    const auto* s = reinterpret_cast<const unsigned char*>(token.data());
    const size_t size = token.size();
    size_t i = 0;
    while (i < size && cuts.size() < needed) {
      cuts.push_back(static_cast<uint32_t>(bounded.size()));
      char32_t c;
      const size_t used = DecodeOne(s + i, size - i, &c);
      if (c == kInvalid) {
        AppendUtf8(kReplacement, &bounded);
      } else {
        bounded.append(token.data() + i, used);
      }
      i += used;
    }
    if (i == size) {  // The whole token was read: close it.
      cuts.push_back(static_cast<uint32_t>(bounded.size()));
      bounded.push_back('>');
    }
    cuts.push_back(static_cast<uint32_t>(bounded.size()));  // The end.

    const size_t num_code_points = cuts.size() - 1;
    const size_t window = static_cast<size_t>(n);
    const size_t num_grams = std::min<size_t>(
        num_code_points <= window ? 1 : num_code_points - window + 1, kMaxCharNgramsPerToken);
    starts.resize(num_grams + 1);
    size_t total = 0;
    for (size_t g = 0; g < num_grams; ++g) {
      starts[g] = static_cast<uint32_t>(total);
      total += 1 + cuts[std::min(num_code_points, g + window)] - cuts[g];
    }
    starts[num_grams] = static_cast<uint32_t>(total);
    bytes.resize(total);
    for (size_t g = 0; g < num_grams; ++g) {
      char* dst = &bytes[starts[g]];
      dst[0] = static_cast<char>(0xFF);
      std::memcpy(dst + 1, bounded.data() + cuts[g], starts[g + 1] - starts[g] - 1);
    }
  }
};

}  // namespace

std::vector<std::string> CharNgrams(std::string_view token, int n) {
  CharNgramBuffer buffer;
  buffer.Fill(token, n);
  std::vector<std::string> grams;
  for (size_t g = 0; g < buffer.count(); ++g) grams.emplace_back(buffer.gram(g));
  return grams;
}

// ---------------------------------------------------------------------------
// Unicode.

std::vector<char32_t> DecodeUtf8(std::string_view bytes) {
  std::vector<char32_t> out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
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
  NgramSums sums(ngram_size > 0 ? num_words : 0);
  CharNgramBuffer grams;
  const size_t num_rows = text.tokens.size();

  for (size_t r = 0; r < num_rows; ++r) {
    const std::string& token = text.tokens[r];
    float* row = out + r * static_cast<size_t>(f);
    CodeWords(token, num_words, words);
    const bool special = (r == 0 && options_.add_bos_tag) ||
                         (r + 1 == num_rows && options_.add_eos_tag) ||
                         token == kNull;
    if (ngram_size > 0 && !special) {
      sums.Clear();
      grams.Fill(token, ngram_size);
      const size_t num_grams = grams.count();
      size_t g = 0;
      for (; g + 2 <= num_grams; g += 2) sums.Add2(grams.gram(g), grams.gram(g + 1));
      if (g < num_grams) sums.Add(grams.gram(g));
      sums.Flush();
      const float count = static_cast<float>(num_grams);
      sums.WriteRow(words, static_cast<int>(num_grams),
                    options_.char_ngram_sqrt ? std::sqrt(count) : count, f, row);
    } else {
      FeaturesFromCodeWords(words, f, row);
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
