// Data-driven tests: golden hash vectors and tokenization cases.
//
// testdata/golden_vectors.tsv pins the hash (code words and features) of a
// committed list of tokens; a difference is a breaking model-format change.
// testdata/tokenize_cases.tsv pins tokenization and normalization.
//
// To print the current values in the golden file's format (e.g. after adding
// a token line; never to paper over a change), run the test binary with
// PQRNN_PRINT_GOLDEN=1 in the environment.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tflite_ops/projection/sequence_string_projection.h"
#include "tflite_ops/projection/test_harness.h"

namespace {

using pqrnn_test::HexDecode;
using pqrnn_test::HexEncode;
using pqrnn_test::Split;

constexpr int kGoldenWords = 4;      // Enough for F up to 128.
constexpr int kGoldenFeatures = 32;

// Non-comment, non-empty lines of a testdata file, with their line numbers.
std::vector<std::pair<int, std::string>> DataLines(const std::string& name) {
  std::vector<std::pair<int, std::string>> lines;
  std::string text;
  const std::string path = pqrnn_test::TestDataDir() + "/" + name;
  if (!CHECK_CTX(pqrnn_test::ReadFile(path, &text), "cannot read " + path)) {
    return lines;
  }
  int number = 0;
  for (std::string& line : Split(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    lines.emplace_back(number, line);
  }
  return lines;
}

std::string FormatWord(uint64_t w) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(w));
  return buf;
}

std::string FormatFeatures(const float* f, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) {
    if (k) out += ",";
    out += f[k] == 0.0f ? "0" : (f[k] > 0 ? "1" : "-1");
  }
  return out;
}

TEST(GoldenVectors) {
  const bool print = std::getenv("PQRNN_PRINT_GOLDEN") != nullptr;
  const auto lines = DataLines("golden_vectors.tsv");
  CHECK(lines.size() >= 40);
  for (const auto& [number, line] : lines) {
    const std::string where = "golden_vectors.tsv:" + std::to_string(number);
    const std::vector<std::string> cols = Split(line, '\t');
    if (!CHECK_CTX(cols.size() == 7, where + ": expected 7 columns")) continue;
    std::string token;
    if (!CHECK_CTX(HexDecode(cols[0], &token), where + ": bad hex")) continue;

    uint64_t words[kGoldenWords];
    pqrnn::CodeWords(token, kGoldenWords, words);
    float features[kGoldenFeatures];
    pqrnn::FeaturesFromCodeWords(words, kGoldenFeatures, features);
    const std::string got_features = FormatFeatures(features, kGoldenFeatures);
    if (print) {
      std::printf("%s", cols[0].c_str());
      for (uint64_t w : words) std::printf("\t%s", FormatWord(w).c_str());
      std::printf("\t%s\t%s\n", got_features.c_str(), cols[6].c_str());
      continue;
    }
    for (int i = 0; i < kGoldenWords; ++i) {
      CHECK_EQ_CTX(FormatWord(words[i]), cols[1 + i],
                   where + " word " + std::to_string(i) + " (" + cols[6] + ")");
    }
    CHECK_EQ_CTX(got_features, cols[5], where + " (" + cols[6] + ")");
    // The low word must agree with HashBytes; features with Project().
    CHECK_EQ(words[0], pqrnn::HashBytes(token).low);
    pqrnn::ProjectionOptions o;
    o.feature_size = kGoldenFeatures;
    pqrnn::TokenizedText text;
    text.tokens = {token};
    text.num_real_tokens = 1;
    float projected[kGoldenFeatures];
    pqrnn::SequenceStringProjector(o).Project(text, projected);
    CHECK_EQ_CTX(FormatFeatures(projected, kGoldenFeatures), cols[5], where);
  }
}

// Options column: "-" or a comma-separated subset of
// lower, bos, eos, max=N.
bool ParseOptions(const std::string& spec, pqrnn::ProjectionOptions* o) {
  o->feature_size = 8;
  if (spec == "-") return true;
  for (const std::string& item : Split(spec, ',')) {
    if (item == "lower") {
      o->lowercase = true;
    } else if (item == "bos") {
      o->add_bos_tag = true;
    } else if (item == "eos") {
      o->add_eos_tag = true;
    } else if (item.rfind("max=", 0) == 0) {
      o->max_seq_len = std::atoi(item.c_str() + 4);
    } else {
      return false;
    }
  }
  return true;
}

TEST(TokenizeCases) {
  const auto lines = DataLines("tokenize_cases.tsv");
  CHECK(lines.size() >= 30);
  for (const auto& [number, line] : lines) {
    const std::string where = "tokenize_cases.tsv:" + std::to_string(number);
    const std::vector<std::string> cols = Split(line, '\t');
    if (!CHECK_CTX(cols.size() == 4, where + ": expected 4 columns")) continue;
    std::string input;
    pqrnn::ProjectionOptions o;
    if (!CHECK_CTX(cols[0] == "-" || HexDecode(cols[0], &input),
                   where + ": bad input hex") ||
        !CHECK_CTX(ParseOptions(cols[1], &o), where + ": bad options")) {
      continue;
    }
    std::vector<std::string> expected;
    if (cols[2] != "-") expected = Split(cols[2], ' ');
    const pqrnn::TokenizedText got =
        pqrnn::SequenceStringProjector(o).Tokenize(input);
    std::vector<std::string> got_hex;
    for (const std::string& t : got.tokens) got_hex.push_back(HexEncode(t));
    CHECK_EQ_CTX(got_hex, expected, where + " (" + cols[3] + ")");
    const int specials = o.add_bos_tag + o.add_eos_tag;
    CHECK_EQ_CTX(got.num_real_tokens,
                 static_cast<int>(got.tokens.size()) - specials, where);
  }
}

}  // namespace
