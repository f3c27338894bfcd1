// Throughput of the C++ projection core alone, without any framework: reads
// one utterance per line from argv[1], projects them in batches of argv[3]
// with F = argv[2], argv[4] times, and prints the median seconds per pass.
// Optional argv[5]: char_ngram_size (default 0, off).
// pqrnn.bin.benchmark_projection runs it beside the TF/TFLite adapters and the
// NumPy reference (`make build/projection_benchmark`).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tflite_ops/projection/sequence_string_projection.h"

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr,
                 "usage: %s UTTERANCES_FILE FEATURE_SIZE BATCH_SIZE REPEATS "
                 "[CHAR_NGRAM_SIZE]\n",
                 argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  pqrnn::ProjectionOptions options;
  options.feature_size = std::atoi(argv[2]);
  const size_t batch_size = static_cast<size_t>(std::max(1, std::atoi(argv[3])));
  const int repeats = std::max(1, std::atoi(argv[4]));
  if (argc == 6) options.char_ngram_size = std::atoi(argv[5]);
  const std::string error = pqrnn::ValidateOptions(options);
  if (!error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  const pqrnn::SequenceStringProjector projector(options);
  std::vector<float> out;
  std::vector<int32_t> lengths(batch_size);
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i + batch_size <= lines.size(); i += batch_size) {
      std::vector<std::string_view> batch(lines.begin() + i, lines.begin() + i + batch_size);
      const pqrnn::TokenizedBatch tokenized = projector.TokenizeBatch(batch);
      out.resize(batch_size * tokenized.max_tokens * options.feature_size);
      projector.ProjectBatch(tokenized, out.data(), lengths.data());
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("%.9f\n", seconds[seconds.size() / 2]);
  return 0;
}
