// Unit tests of the QRNN fo-pooling core against a plain double-precision
// reference (std::tanh, std::exp, one step at a time). Built as its own
// binary: `build/qrnn_core_test` (see docs/EXPORT.md).
#define PQRNN_TEST_MAIN
#include "tflite_ops/projection/test_harness.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tflite_ops/qrnn/qrnn_pooling.h"

namespace {

using pqrnn::QrnnDirection;
using pqrnn::QrnnMerge;
using pqrnn::QrnnPoolingOptions;
using pqrnn::QrnnPoolingShape;

QrnnPoolingOptions Options(QrnnDirection direction, QrnnMerge merge, int offset) {
  QrnnPoolingOptions options;
  options.direction = direction;
  options.merge = merge;
  options.backward_offset = offset;
  return options;
}

QrnnPoolingShape ShapeOrDie(const QrnnPoolingOptions& options, int b, int tg, int g) {
  QrnnPoolingShape shape;
  const std::string error = pqrnn::QrnnPoolingShapeFor(options, b, tg, g, &shape);
  CHECK_EQ(error, std::string());
  return shape;
}

std::vector<float> RandomVector(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// The recurrence written out directly, in double precision.
std::vector<double> Reference(const QrnnPoolingOptions& options, const QrnnPoolingShape& shape,
                              const std::vector<double>& gates,
                              const std::vector<int32_t>& lengths) {
  const int u = shape.units, G = shape.gate_channels, O = shape.output_channels;
  const int T = shape.steps, Tg = shape.gate_steps;
  std::vector<double> out(static_cast<size_t>(shape.batch) * T * O, 0.0);
  const bool bidi = options.direction == QrnnDirection::kBidirectional;
  for (int b = 0; b < shape.batch; ++b) {
    const int n = std::clamp(lengths[b], 0, T);
    for (int d = 0; d < (bidi ? 2 : 1); ++d) {
      const bool backward = bidi ? d == 1 : options.direction == QrnnDirection::kBackward;
      const int offset = bidi && d == 1 ? options.backward_offset : 0;
      const int out_col = bidi && options.merge == QrnnMerge::kConcat ? d * u : 0;
      for (int j = 0; j < u; ++j) {
        double c = 0.0;
        for (int s = 0; s < n; ++s) {
          const int t = backward ? n - 1 - s : s;
          const size_t row = (static_cast<size_t>(b) * Tg + t + offset) * G + d * 3 * u;
          const double z = std::tanh(gates[row + j]);
          const double f = 1.0 / (1.0 + std::exp(-gates[row + u + j]));
          const double o = 1.0 / (1.0 + std::exp(-gates[row + 2 * u + j]));
          c = f * c + (1.0 - f) * z;
          out[(static_cast<size_t>(b) * T + t) * O + out_col + j] += o * c;
        }
      }
    }
  }
  return out;
}

struct Case {
  QrnnDirection direction;
  QrnnMerge merge;
  int offset;
};

const Case kCases[] = {
    {QrnnDirection::kForward, QrnnMerge::kConcat, 0},
    {QrnnDirection::kBackward, QrnnMerge::kConcat, 0},
    {QrnnDirection::kBidirectional, QrnnMerge::kConcat, 0},
    {QrnnDirection::kBidirectional, QrnnMerge::kConcat, 2},
    {QrnnDirection::kBidirectional, QrnnMerge::kSum, 2},
};

TEST(ActivationsMatchStdWithinFewUlp) {
  double worst_tanh = 0, worst_sigmoid = 0;
  for (float x = -20.0f; x <= 20.0f; x += 0.001f) {
    worst_tanh = std::max(worst_tanh, std::abs(pqrnn::QrnnTanh(x) - std::tanh(double{x})));
    worst_sigmoid = std::max(
        worst_sigmoid, std::abs(pqrnn::QrnnSigmoid(x) - 1.0 / (1.0 + std::exp(-double{x}))));
  }
  CHECK(worst_tanh < 1e-6);
  CHECK(worst_sigmoid < 1e-6);
  CHECK_EQ(pqrnn::QrnnTanh(0.0f), 0.0f);
  CHECK_EQ(pqrnn::QrnnSigmoid(0.0f), 0.5f);
  CHECK(pqrnn::QrnnTanh(1e30f) <= 1.0f && pqrnn::QrnnTanh(-1e30f) >= -1.0f);
  CHECK(std::isnan(pqrnn::QrnnTanh(std::nanf(""))));
}

TEST(MatchesReferenceForEveryDirectionMergeAndLength) {
  const int B = 6, units = 5, T = 7;
  // Lengths: empty, partial, full, longer than T (clamped), negative (0).
  const std::vector<int32_t> lengths = {0, 1, 4, T, T + 3, -2};
  uint32_t seed = 1;
  for (const Case& c : kCases) {
    const QrnnPoolingOptions options = Options(c.direction, c.merge, c.offset);
    const int dirs = c.direction == QrnnDirection::kBidirectional ? 2 : 1;
    const QrnnPoolingShape shape = ShapeOrDie(options, B, T + c.offset, dirs * 3 * units);
    CHECK_EQ(shape.steps, T);
    CHECK_EQ(shape.units, units);
    const std::vector<float> gates =
        RandomVector(static_cast<size_t>(B) * shape.gate_steps * shape.gate_channels, seed++, 4.0f);
    std::vector<float> output(static_cast<size_t>(B) * T * shape.output_channels, 123.0f);
    std::vector<float> scratch;
    pqrnn::QrnnPooling(options, shape, gates.data(), lengths.data(), output.data(), &scratch);
    const std::vector<double> expected =
        Reference(options, shape, std::vector<double>(gates.begin(), gates.end()), lengths);
    double worst = 0;
    for (size_t i = 0; i < output.size(); ++i) {
      worst = std::max(worst, std::abs(output[i] - expected[i]));
    }
    CHECK_CTX(worst < 2e-6, "direction " + std::to_string(static_cast<int>(c.direction)) +
                                " merge " + std::to_string(static_cast<int>(c.merge)) +
                                " worst " + std::to_string(worst));
  }
}

TEST(EveryVectorWidthGivesTheSameBits) {
  // Units that exercise 8-, 4- and 1-lane steps and their remainders.
  const std::vector<int32_t> lengths = {9, 3, 0};
  uint32_t seed = 100;
  for (const Case& c : kCases) {
    for (int units : {1, 3, 4, 5, 8, 12, 13, 16, 21, 64}) {
      const QrnnPoolingOptions options = Options(c.direction, c.merge, c.offset);
      const int dirs = c.direction == QrnnDirection::kBidirectional ? 2 : 1;
      const QrnnPoolingShape shape = ShapeOrDie(options, 3, 9 + c.offset, dirs * 3 * units);
      const std::vector<float> gates = RandomVector(
          static_cast<size_t>(3) * shape.gate_steps * shape.gate_channels, seed++, 9.0f);
      const size_t size = static_cast<size_t>(3) * shape.steps * shape.output_channels;
      std::vector<float> best(size, 1.0f), portable(size, 2.0f), scratch;
      pqrnn::QrnnPoolingUsePortableVectors(false);
      pqrnn::QrnnPooling(options, shape, gates.data(), lengths.data(), best.data(), &scratch);
      pqrnn::QrnnPoolingUsePortableVectors(true);
      pqrnn::QrnnPooling(options, shape, gates.data(), lengths.data(), portable.data(), &scratch);
      pqrnn::QrnnPoolingUsePortableVectors(false);
      CHECK_CTX(std::memcmp(best.data(), portable.data(), size * sizeof(float)) == 0,
                "units " + std::to_string(units));
    }
  }
}

TEST(PaddingRowsAreZeroAndDoNotLeakIntoRealSteps) {
  const QrnnPoolingOptions options =
      Options(QrnnDirection::kBidirectional, QrnnMerge::kConcat, 2);
  const int units = 3, T = 6, G = 2 * 3 * units;
  const QrnnPoolingShape shape = ShapeOrDie(options, 1, T + 2, G);
  std::vector<float> gates = RandomVector(static_cast<size_t>(T + 2) * G, 7, 3.0f);
  const std::vector<int32_t> lengths = {3};
  std::vector<float> a(static_cast<size_t>(T) * shape.output_channels), b = a;
  std::vector<float> scratch;
  pqrnn::QrnnPooling(options, shape, gates.data(), lengths.data(), a.data(), &scratch);
  // Garbage in every gate row that no real step reads (forward rows >= 3,
  // backward rows outside [2, 5)).
  for (int row = 0; row < T + 2; ++row) {
    for (int ch = 0; ch < G; ++ch) {
      const bool forward = ch < 3 * units;
      const bool read = forward ? row < 3 : (row >= 2 && row < 5);
      if (!read) gates[static_cast<size_t>(row) * G + ch] = 1e6f;
    }
  }
  pqrnn::QrnnPooling(options, shape, gates.data(), lengths.data(), b.data(), &scratch);
  CHECK(a == b);
  for (size_t i = 3 * shape.output_channels; i < a.size(); ++i) CHECK_EQ(a[i], 0.0f);
}

TEST(GradientMatchesFiniteDifferencesOfReference) {
  for (const Case& c : kCases) {
    const QrnnPoolingOptions options = Options(c.direction, c.merge, c.offset);
    const int dirs = c.direction == QrnnDirection::kBidirectional ? 2 : 1;
    const int B = 2, units = 3, T = 5;
    const QrnnPoolingShape shape = ShapeOrDie(options, B, T + c.offset, dirs * 3 * units);
    const std::vector<int32_t> lengths = {T, 3};
    const std::vector<float> gates =
        RandomVector(static_cast<size_t>(B) * shape.gate_steps * shape.gate_channels, 11, 2.0f);
    const std::vector<float> weights =
        RandomVector(static_cast<size_t>(B) * T * shape.output_channels, 12, 1.0f);
    std::vector<float> grad(gates.size());
    std::vector<float> scratch;
    pqrnn::QrnnPoolingGrad(options, shape, gates.data(), lengths.data(), weights.data(),
                           grad.data(), &scratch);
    // loss = sum(weights * output), differentiated numerically in double.
    std::vector<double> g(gates.begin(), gates.end());
    auto loss = [&](const std::vector<double>& x) {
      const std::vector<double> out = Reference(options, shape, x, lengths);
      double sum = 0;
      for (size_t i = 0; i < out.size(); ++i) sum += weights[i] * out[i];
      return sum;
    };
    double worst = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      const double saved = g[i];
      g[i] = saved + 1e-5;
      const double plus = loss(g);
      g[i] = saved - 1e-5;
      const double minus = loss(g);
      g[i] = saved;
      worst = std::max(worst, std::abs((plus - minus) / 2e-5 - grad[i]));
    }
    CHECK_CTX(worst < 1e-5, "gradient error " + std::to_string(worst));
  }
}

TEST(ShapeValidationNamesTheProblem) {
  QrnnPoolingShape shape;
  const QrnnPoolingOptions bidi = Options(QrnnDirection::kBidirectional, QrnnMerge::kConcat, 2);
  CHECK(pqrnn::QrnnPoolingShapeFor(bidi, 1, 5, 10, &shape).find("multiple of 3 * 2") !=
        std::string::npos);
  CHECK(pqrnn::QrnnPoolingShapeFor(bidi, 1, 1, 12, &shape).find("fewer than backward_offset") !=
        std::string::npos);
  CHECK(pqrnn::QrnnPoolingShapeFor(bidi, 1, 2, 0, &shape).find("channels") != std::string::npos);
  const QrnnPoolingOptions forward = Options(QrnnDirection::kForward, QrnnMerge::kConcat, 1);
  CHECK(pqrnn::ValidateQrnnPoolingOptions(forward).find("must be 0") != std::string::npos);
  CHECK_EQ(pqrnn::QrnnPoolingShapeFor(bidi, 0, 2, 12, &shape), std::string());
  CHECK_EQ(shape.steps, 0);
  CHECK_EQ(shape.output_channels, 4);
  pqrnn::QrnnDirection direction;
  pqrnn::QrnnMerge merge;
  CHECK(pqrnn::ParseQrnnDirection("backward", &direction) &&
        direction == QrnnDirection::kBackward);
  CHECK(!pqrnn::ParseQrnnDirection("both", &direction));
  CHECK(pqrnn::ParseQrnnMerge("sum", &merge) && merge == QrnnMerge::kSum);
  CHECK(!pqrnn::ParseQrnnMerge("mean", &merge));
}

TEST(EmptyBatchAndZeroStepsAreNoOps) {
  const QrnnPoolingOptions options = Options(QrnnDirection::kBidirectional, QrnnMerge::kSum, 2);
  const QrnnPoolingShape shape = ShapeOrDie(options, 2, 2, 6);
  CHECK_EQ(shape.steps, 0);
  const std::vector<float> gates(2 * 2 * 6, 1.0f);
  const std::vector<int32_t> lengths = {5, 0};
  float out = 0.0f;
  std::vector<float> grad(gates.size(), 9.0f);
  std::vector<float> scratch;
  pqrnn::QrnnPooling(options, shape, gates.data(), lengths.data(), &out, &scratch);
  pqrnn::QrnnPoolingGrad(options, shape, gates.data(), lengths.data(), &out, grad.data(),
                         &scratch);
  for (float g : grad) CHECK_EQ(g, 0.0f);
}

}  // namespace
