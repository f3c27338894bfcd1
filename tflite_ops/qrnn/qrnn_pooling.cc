#include "tflite_ops/qrnn/qrnn_pooling.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

namespace pqrnn {
namespace {

// GCC/Clang vector extensions, so the unit loops run several lanes at a time
// without depending on the auto-vectorizer (which leaves the clamps'
// branches scalar at -O2): 4 floats (one SSE2 or NEON register) on every
// target and, on x86-64 CPUs that have it, 8 with AVX2 (chosen at run time).
// Every lane does the same IEEE float operations as the scalar code (the
// AVX2 target has no FMA, so nothing is contracted): the results are the same
// bits whichever width runs (qrnn_pooling_test.cc checks it).
typedef float Vec4 __attribute__((vector_size(16)));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PQRNN_QRNN_AVX2 1
typedef float Vec8 __attribute__((vector_size(32)));
#endif
// 32-byte vectors only ever live inside the AVX2 functions (everything
// below is force-inlined there); compilers still warn about the ABI of the
// templates.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define PQRNN_INLINE inline __attribute__((always_inline))

template <typename T>
PQRNN_INLINE T Splat(float x) {
  return T{} + x;
}
template <typename T>
PQRNN_INLINE T Load(const float* p) {
  T v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <typename T>
PQRNN_INLINE void Store(float* p, const T& v) {
  std::memcpy(p, &v, sizeof(v));
}

// Clamps to [-c, c]; NaN stays NaN (its comparisons are false).
PQRNN_INLINE float Clamp(float x, float c) {
  x = x < -c ? -c : x;
  return x > c ? c : x;
}
template <typename T>
PQRNN_INLINE T Clamp(const T& in, float c) {
  T x = in;
  using Mask = decltype(x < x);
  const Mask low = x < Splat<T>(-c);
  x = reinterpret_cast<T>((low & reinterpret_cast<Mask>(Splat<T>(-c))) |
                          (~low & reinterpret_cast<Mask>(x)));
  const Mask high = x > Splat<T>(c);
  return reinterpret_cast<T>((high & reinterpret_cast<Mask>(Splat<T>(c))) |
                             (~high & reinterpret_cast<Mask>(x)));
}

// Eigen's generic_fast_tanh_float: a [13/6] rational approximation of tanh on
// [-c, c], exact to a few ulp, with no branches. T is float, Vec4 or Vec8
// (the scalar constants broadcast).
template <typename T>
PQRNN_INLINE T FastTanh(const T& in) {
  const T x = Clamp(in, 7.99881172180175781f);
  const T x2 = x * x;
  T p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  T q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return p / q;
}

template <typename T>
PQRNN_INLINE T FastSigmoid(const T& x) {
  return FastTanh(x * 0.5f) * 0.5f + 0.5f;
}

// One step of one direction for units [j, j + lanes): updates the states and
// writes (or, accumulate, adds) the hidden states.
template <typename T, bool kAccumulate>
PQRNN_INLINE void Step(const float* z, const float* f, const float* o, float* state, float* h) {
  T zt, ft, ot, c, out;
  if constexpr (std::is_same_v<T, float>) {
    zt = *z, ft = *f, ot = *o, c = *state;
  } else {
    zt = Load<T>(z), ft = Load<T>(f), ot = Load<T>(o), c = Load<T>(state);
  }
  const T forget = FastSigmoid(ft);
  c = forget * c + (1.0f - forget) * FastTanh(zt);
  out = FastSigmoid(ot) * c;
  if constexpr (std::is_same_v<T, float>) {
    *state = c;
    *h = kAccumulate ? *h + out : out;
  } else {
    Store(state, c);
    Store(h, kAccumulate ? Load<T>(h) + out : out);
  }
}

// One step of one direction for every unit: the widest vectors first, then
// 4 lanes, then one at a time.
template <typename Wide, bool kAccumulate>
PQRNN_INLINE void StepRowWith(int units, const float* z, float* state, float* h) {
  const float* f = z + units;
  const float* o = f + units;
  int j = 0;
  constexpr int kWide = sizeof(Wide) / sizeof(float);
  for (; j + kWide <= units; j += kWide) {
    Step<Wide, kAccumulate>(z + j, f + j, o + j, state + j, h + j);
  }
  for (; j + 4 <= units; j += 4) Step<Vec4, kAccumulate>(z + j, f + j, o + j, state + j, h + j);
  for (; j < units; ++j) Step<float, kAccumulate>(z + j, f + j, o + j, state + j, h + j);
}

template <bool kAccumulate>
void StepRow(int units, const float* z, float* state, float* h) {
  StepRowWith<Vec4, kAccumulate>(units, z, state, h);
}

#ifdef PQRNN_QRNN_AVX2
template <bool kAccumulate>
__attribute__((target("avx2"))) void StepRowAvx2(int units, const float* z, float* state,
                                                 float* h) {
  StepRowWith<Vec8, kAccumulate>(units, z, state, h);
}
#endif

using StepRowFn = void (*)(int, const float*, float*, float*);

// The step functions for this CPU: {overwrite, accumulate}.
struct StepRowFns {
  StepRowFn set;
  StepRowFn add;
};

StepRowFns PortableStepRows() { return {StepRow<false>, StepRow<true>}; }

StepRowFns BestStepRows() {
#ifdef PQRNN_QRNN_AVX2
  if (__builtin_cpu_supports("avx2")) return {StepRowAvx2<false>, StepRowAvx2<true>};
#endif
  return PortableStepRows();
}

bool& UsePortable() {
  static bool portable = false;
  return portable;
}

const StepRowFns& StepRows() {
  static const StepRowFns best = BestStepRows();
  static const StepRowFns portable = PortableStepRows();
  return UsePortable() ? portable : best;
}

int NumDirections(const QrnnPoolingOptions& options) {
  return options.direction == QrnnDirection::kBidirectional ? 2 : 1;
}

// Where direction `d` (0: the first/only, 1: backward of a bidirectional)
// reads and writes.
struct DirectionLayout {
  bool reverse;     // Runs from the last real step to the first.
  int row_offset;   // Gate row of step t is t + row_offset.
  int gate_column;  // First gate channel (z) of this direction.
  int out_column;   // First output channel.
  bool accumulate;  // Adds to the output ("sum" merge, second direction).
};

DirectionLayout Layout(const QrnnPoolingOptions& options, const QrnnPoolingShape& shape,
                       int d) {
  DirectionLayout layout{};
  const int units = shape.units;
  if (options.direction != QrnnDirection::kBidirectional) {
    layout.reverse = options.direction == QrnnDirection::kBackward;
    return layout;
  }
  layout.reverse = d == 1;
  layout.row_offset = d == 1 ? options.backward_offset : 0;
  layout.gate_column = d * 3 * units;
  const bool concat = options.merge == QrnnMerge::kConcat;
  layout.out_column = concat ? d * units : 0;
  layout.accumulate = !concat && d == 1;
  return layout;
}

int RealSteps(const int32_t* lengths, int b, int steps) {
  return std::min(std::max(lengths[b], 0), steps);
}

}  // namespace

float QrnnTanh(float x) { return FastTanh(x); }
void QrnnPoolingUsePortableVectors(bool portable) { UsePortable() = portable; }
float QrnnSigmoid(float x) { return FastSigmoid(x); }

bool ParseQrnnDirection(std::string_view name, QrnnDirection* direction) {
  if (name == "forward") {
    *direction = QrnnDirection::kForward;
  } else if (name == "backward") {
    *direction = QrnnDirection::kBackward;
  } else if (name == "bidirectional") {
    *direction = QrnnDirection::kBidirectional;
  } else {
    return false;
  }
  return true;
}

bool ParseQrnnMerge(std::string_view name, QrnnMerge* merge) {
  if (name == "concat") {
    *merge = QrnnMerge::kConcat;
  } else if (name == "sum") {
    *merge = QrnnMerge::kSum;
  } else {
    return false;
  }
  return true;
}

std::string ValidateQrnnPoolingOptions(const QrnnPoolingOptions& options) {
  if (options.backward_offset < 0 || options.backward_offset > (1 << 20)) {
    return "backward_offset=" + std::to_string(options.backward_offset) +
           " must be in [0, 2^20]";
  }
  if (options.direction != QrnnDirection::kBidirectional && options.backward_offset != 0) {
    return "backward_offset=" + std::to_string(options.backward_offset) +
           " must be 0 unless direction is bidirectional";
  }
  return "";
}

std::string QrnnPoolingShapeFor(const QrnnPoolingOptions& options, int64_t batch,
                                int64_t gate_steps, int64_t gate_channels,
                                QrnnPoolingShape* shape) {
  const std::string error = ValidateQrnnPoolingOptions(options);
  if (!error.empty()) return error;
  constexpr int64_t kLimit = int64_t{1} << 30;
  if (batch < 0 || batch > kLimit || gate_steps < 0 || gate_steps > kLimit ||
      gate_channels < 0 || gate_channels > kLimit) {
    return "gates shape [" + std::to_string(batch) + ", " + std::to_string(gate_steps) + ", " +
           std::to_string(gate_channels) + "] is out of range";
  }
  const int directions = NumDirections(options);
  if (gate_channels == 0 || gate_channels % (3 * directions) != 0) {
    return "gates have " + std::to_string(gate_channels) +
           " channels; expected a positive multiple of 3 * " + std::to_string(directions) +
           " (gates z, f, o per direction)";
  }
  if (gate_steps < options.backward_offset) {
    return "gates have " + std::to_string(gate_steps) + " steps, fewer than backward_offset=" +
           std::to_string(options.backward_offset);
  }
  shape->batch = static_cast<int>(batch);
  shape->gate_steps = static_cast<int>(gate_steps);
  shape->gate_channels = static_cast<int>(gate_channels);
  shape->steps = static_cast<int>(gate_steps - options.backward_offset);
  shape->units = static_cast<int>(gate_channels / (3 * directions));
  const bool concat = options.direction == QrnnDirection::kBidirectional &&
                      options.merge == QrnnMerge::kConcat;
  shape->output_channels = concat ? 2 * shape->units : shape->units;
  return "";
}

void QrnnPooling(const QrnnPoolingOptions& options, const QrnnPoolingShape& shape,
                 const float* gates, const int32_t* lengths, float* output,
                 std::vector<float>* scratch) {
  const int units = shape.units;
  const size_t G = shape.gate_channels;
  const size_t O = shape.output_channels;
  scratch->resize(units);
  float* state = scratch->data();
  const StepRowFns& rows = StepRows();
  for (int b = 0; b < shape.batch; ++b) {
    const int n = RealSteps(lengths, b, shape.steps);
    float* out_b = output + static_cast<size_t>(b) * shape.steps * O;
    const float* gates_b = gates + static_cast<size_t>(b) * shape.gate_steps * G;
    // Padding rows are 0; so is every row before a "sum" merge accumulates.
    std::memset(out_b + static_cast<size_t>(n) * O, 0,
                sizeof(float) * (static_cast<size_t>(shape.steps) - n) * O);
    for (int d = 0; d < NumDirections(options); ++d) {
      const DirectionLayout layout = Layout(options, shape, d);
      std::fill(state, state + units, 0.0f);
      for (int s = 0; s < n; ++s) {
        const int t = layout.reverse ? n - 1 - s : s;
        const float* z = gates_b + (t + layout.row_offset) * G + layout.gate_column;
        float* h = out_b + t * O + layout.out_column;
        (layout.accumulate ? rows.add : rows.set)(units, z, state, h);
      }
    }
  }
}

void QrnnPoolingGrad(const QrnnPoolingOptions& options, const QrnnPoolingShape& shape,
                     const float* gates, const int32_t* lengths,
                     const float* grad_output, float* grad_gates,
                     std::vector<float>* scratch) {
  const int units = shape.units;
  const size_t G = shape.gate_channels;
  const size_t O = shape.output_channels;
  std::memset(grad_gates, 0,
              sizeof(float) * static_cast<size_t>(shape.batch) * shape.gate_steps * G);
  // scratch: the carried d(loss)/d(c) per unit, then the states of every step.
  scratch->resize(static_cast<size_t>(units) * (shape.steps + 1));
  float* carry = scratch->data();
  float* states = carry + units;
  for (int b = 0; b < shape.batch; ++b) {
    const int n = RealSteps(lengths, b, shape.steps);
    const float* gates_b = gates + static_cast<size_t>(b) * shape.gate_steps * G;
    float* grad_gates_b = grad_gates + static_cast<size_t>(b) * shape.gate_steps * G;
    const float* grad_out_b = grad_output + static_cast<size_t>(b) * shape.steps * O;
    for (int d = 0; d < NumDirections(options); ++d) {
      const DirectionLayout layout = Layout(options, shape, d);
      auto gate_row = [&](int s) {
        const int t = layout.reverse ? n - 1 - s : s;
        return (t + layout.row_offset) * G + layout.gate_column;
      };
      // Recompute the states c_s, in processing order s.
      for (int s = 0; s < n; ++s) {
        const float* z = gates_b + gate_row(s);
        const float* f = z + units;
        const float* previous = s > 0 ? states + static_cast<size_t>(s - 1) * units : nullptr;
        float* current = states + static_cast<size_t>(s) * units;
        for (int j = 0; j < units; ++j) {
          const float forget = FastSigmoid(f[j]);
          current[j] = (previous ? forget * previous[j] : 0.0f) + (1.0f - forget) * FastTanh(z[j]);
        }
      }
      // Back-propagate through c_s = f_s c_{s-1} + (1 - f_s) z_s, h_s = o_s c_s.
      std::fill(carry, carry + units, 0.0f);
      for (int s = n - 1; s >= 0; --s) {
        const int t = layout.reverse ? n - 1 - s : s;
        const float* z = gates_b + gate_row(s);
        const float* f = z + units;
        const float* o = f + units;
        float* dz = grad_gates_b + gate_row(s);
        float* df = dz + units;
        float* dout = df + units;
        const float* dh = grad_out_b + t * O + layout.out_column;
        const float* current = states + static_cast<size_t>(s) * units;
        const float* previous = s > 0 ? states + static_cast<size_t>(s - 1) * units : nullptr;
        for (int j = 0; j < units; ++j) {
          const float zt = FastTanh(z[j]);
          const float ft = FastSigmoid(f[j]);
          const float ot = FastSigmoid(o[j]);
          const float c = current[j];
          const float c_prev = previous ? previous[j] : 0.0f;
          const float dc = dh[j] * ot + carry[j];
          dout[j] = dh[j] * c * ot * (1.0f - ot);
          df[j] = dc * (c_prev - zt) * ft * (1.0f - ft);
          dz[j] = dc * (1.0f - ft) * (1.0f - zt * zt);
          carry[j] = dc * ft;
        }
      }
    }
  }
}

}  // namespace pqrnn
