// fo-pooling of a quasi-recurrent layer (QRNN): gates -> hidden states.
//
// The single implementation of PQRNN>QRNNPooling and its gradient; it includes
// nothing from TensorFlow or TFLite. `qrnn_tf_kernel.cc` and
// `qrnn_tflite_kernel.cc` are thin adapters around it, and
// pqrnn.export.layers.DeployQRNN is the Keras layer that calls it.
//
// What it computes (Bradbury et al., 2017, "Quasi-Recurrent Neural Networks",
// fo-pooling; the same recurrence as pqrnn.layers.QRNN). `gates` [B, Tg, G]
// holds the pre-activations of the QRNN's convolution, channels laid out
// [direction][gate z, f, o][unit] (G = directions * 3 * units). For each
// example b with n = clamp(lengths[b], 0, T) real steps, each direction and
// each unit:
//
//   z_t = tanh(Z_t), f_t = sigmoid(F_t), o_t = sigmoid(O_t)
//   c_t = f_t * c_{t-1} + (1 - f_t) * z_t,   c = 0 before the first step
//   h_t = o_t * c_t
//
// the forward direction over t = 0 .. n-1 reading gate row t, the backward
// direction over t = n-1 .. 0 reading gate row t + backward_offset (the QRNN
// computes both directions' gates with one convolution whose output is
// k - 1 rows longer; see pqrnn/layers/qrnn.py). Output rows t >= n are 0.
// The output is [B, T, O], T = Tg - backward_offset, O = units (one
// direction, or "sum" of two) or 2 * units ("concat", forward first).
//
// tanh and sigmoid use a branch-free rational approximation (the one Eigen,
// and so TensorFlow, uses for float tanh; max error ~1e-7 absolute),
// vectorized over units: 4 lanes everywhere, 8 (AVX2, chosen at run time)
// on x86-64 CPUs that have it, the same bits either way.
#ifndef PQRNN_TFLITE_OPS_QRNN_QRNN_POOLING_H_
#define PQRNN_TFLITE_OPS_QRNN_QRNN_POOLING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pqrnn {

enum class QrnnDirection { kForward, kBackward, kBidirectional };
enum class QrnnMerge { kConcat, kSum };

struct QrnnPoolingOptions {
  QrnnDirection direction = QrnnDirection::kBidirectional;
  QrnnMerge merge = QrnnMerge::kConcat;  // Only used by kBidirectional.
  int backward_offset = 0;               // Only used by kBidirectional.
};

// Parses the attribute spellings shared by both runtimes ("forward",
// "backward", "bidirectional"; "concat", "sum"). Return false if unknown.
bool ParseQrnnDirection(std::string_view name, QrnnDirection* direction);
bool ParseQrnnMerge(std::string_view name, QrnnMerge* merge);

// Returns "" when `options` are valid, else what is wrong.
std::string ValidateQrnnPoolingOptions(const QrnnPoolingOptions& options);

// Sizes of one call, derived from the gates' shape.
struct QrnnPoolingShape {
  int batch = 0;
  int gate_steps = 0;     // Tg
  int gate_channels = 0;  // G
  int steps = 0;          // T = Tg - backward_offset
  int units = 0;
  int output_channels = 0;  // O
};

// Fills `shape` from the gates' dimensions; returns "" or what is wrong
// (e.g. G not a multiple of 3 * directions, Tg < backward_offset).
std::string QrnnPoolingShapeFor(const QrnnPoolingOptions& options, int64_t batch,
                                int64_t gate_steps, int64_t gate_channels,
                                QrnnPoolingShape* shape);

// Writes the [B, T, O] hidden states to `output`. `gates` holds B * Tg * G
// floats, `lengths` B ints. `scratch` is resized as needed (reuse it across
// calls to avoid allocations).
void QrnnPooling(const QrnnPoolingOptions& options, const QrnnPoolingShape& shape,
                 const float* gates, const int32_t* lengths, float* output,
                 std::vector<float>* scratch);

// The gradient: given d(loss)/d(output) [B, T, O], writes
// d(loss)/d(gates) [B, Tg, G] (0 for rows no real step reads).
void QrnnPoolingGrad(const QrnnPoolingOptions& options, const QrnnPoolingShape& shape,
                     const float* gates, const int32_t* lengths,
                     const float* grad_output, float* grad_gates,
                     std::vector<float>* scratch);

// The activations, exposed for tests.
float QrnnTanh(float x);
float QrnnSigmoid(float x);

// Tests only: true makes QrnnPooling use its portable 4-lane vectors instead
// of the widest this CPU has (AVX2 on x86-64); both give the same bits.
void QrnnPoolingUsePortableVectors(bool portable);

}  // namespace pqrnn

#endif  // PQRNN_TFLITE_OPS_QRNN_QRNN_POOLING_H_
