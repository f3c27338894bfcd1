// TensorFlow adapter for the QRNN fo-pooling (PQRNN>QRNNPooling) and its
// gradient (PQRNN>QRNNPoolingGrad).
//
// The algorithm lives in qrnn/qrnn_pooling.{h,cc}; this file declares the ops
// (the single op definition: the TFLite converter copies these attributes
// into the custom op's options), validates attributes and shapes, and moves
// tensors in and out. Linked into _pqrnn_tf_ops.so beside tf_kernel.cc.
#include <cstdint>
#include <string>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/framework/tensor.h"
#include "tflite_ops/qrnn/qrnn_pooling.h"

namespace pqrnn {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

constexpr char kOpName[] = "PQRNN>QRNNPooling";

template <typename Context>
absl::Status ReadOptions(Context* c, QrnnPoolingOptions* options) {
  std::string direction, merge_mode;
  int64_t backward_offset;
  TF_RETURN_IF_ERROR(c->GetAttr("direction", &direction));
  TF_RETURN_IF_ERROR(c->GetAttr("merge_mode", &merge_mode));
  TF_RETURN_IF_ERROR(c->GetAttr("backward_offset", &backward_offset));
  // The attr lists restrict the strings; parsing cannot fail here.
  ParseQrnnDirection(direction, &options->direction);
  ParseQrnnMerge(merge_mode, &options->merge);
  if (backward_offset < 0 || backward_offset > (1 << 20)) {
    return absl::InvalidArgumentError(std::string(kOpName) + ": backward_offset=" +
                                      std::to_string(backward_offset) +
                                      " must be in [0, 2^20]");
  }
  options->backward_offset = static_cast<int>(backward_offset);
  const std::string error = ValidateQrnnPoolingOptions(*options);
  if (!error.empty()) return absl::InvalidArgumentError(std::string(kOpName) + ": " + error);
  return absl::OkStatus();
}

#define PQRNN_QRNN_POOLING_ATTRS                                    \
  Attr("direction: {'forward', 'backward', 'bidirectional'} = 'bidirectional'") \
      .Attr("merge_mode: {'concat', 'sum'} = 'concat'")            \
      .Attr("backward_offset: int = 0")

REGISTER_OP("PQRNN>QRNNPooling")
    .Input("gates: float")
    .Input("sequence_length: int32")
    .Output("output: float")
    .PQRNN_QRNN_POOLING_ATTRS
    .SetShapeFn([](InferenceContext* c) -> absl::Status {
      QrnnPoolingOptions options;
      TF_RETURN_IF_ERROR(ReadOptions(c, &options));
      ShapeHandle gates, lengths;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &gates));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &lengths));
      DimensionHandle batch;
      TF_RETURN_IF_ERROR(c->Merge(c->Dim(gates, 0), c->Dim(lengths, 0), &batch));
      DimensionHandle steps;
      TF_RETURN_IF_ERROR(c->Subtract(c->Dim(gates, 1), options.backward_offset, &steps));
      DimensionHandle channels = c->UnknownDim();
      if (c->ValueKnown(c->Dim(gates, 2))) {
        QrnnPoolingShape shape;
        const std::string error =
            QrnnPoolingShapeFor(options, 0, options.backward_offset,
                                c->Value(c->Dim(gates, 2)), &shape);
        if (!error.empty()) return absl::InvalidArgumentError(std::string(kOpName) + ": " + error);
        channels = c->MakeDim(shape.output_channels);
      }
      c->set_output(0, c->MakeShape({batch, steps, channels}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
fo-pooling of a QRNN layer: gate pre-activations to hidden states (see
tflite_ops/qrnn/qrnn_pooling.h for the exact recurrence).

gates: [B, Tg, G] pre-activations, channels [direction][z, f, o][unit].
sequence_length: [B] real steps per example; later output rows are 0.
output: [B, Tg - backward_offset, O] hidden states.
direction: which way(s) the recurrence runs.
merge_mode: how a bidirectional layer merges its directions.
backward_offset: gate row of the backward direction's step t is
  t + backward_offset (bidirectional only).
)doc");

REGISTER_OP("PQRNN>QRNNPoolingGrad")
    .Input("gates: float")
    .Input("sequence_length: int32")
    .Input("grad_output: float")
    .Output("grad_gates: float")
    .PQRNN_QRNN_POOLING_ATTRS
    .SetShapeFn([](InferenceContext* c) -> absl::Status {
      c->set_output(0, c->input(0));
      return absl::OkStatus();
    })
    .Doc("Gradient of PQRNN>QRNNPooling with respect to its gates.");

#undef PQRNN_QRNN_POOLING_ATTRS

// Checks the inputs shared by both kernels and derives the call's shape.
absl::Status ReadInputs(OpKernelContext* ctx, const QrnnPoolingOptions& options,
                        QrnnPoolingShape* shape) {
  const Tensor& gates = ctx->input(0);
  const Tensor& lengths = ctx->input(1);
  if (gates.dims() != 3) {
    return absl::InvalidArgumentError(std::string(kOpName) +
                                      ": gates must be [B, T, G], got shape " +
                                      gates.shape().DebugString());
  }
  if (lengths.dims() != 1 || lengths.dim_size(0) != gates.dim_size(0)) {
    return absl::InvalidArgumentError(
        std::string(kOpName) + ": sequence_length must be [B] with B=" +
        std::to_string(gates.dim_size(0)) + ", got shape " + lengths.shape().DebugString());
  }
  const std::string error = QrnnPoolingShapeFor(options, gates.dim_size(0), gates.dim_size(1),
                                                gates.dim_size(2), shape);
  if (!error.empty()) return absl::InvalidArgumentError(std::string(kOpName) + ": " + error);
  return absl::OkStatus();
}

class QrnnPoolingOp : public OpKernel {
 public:
  explicit QrnnPoolingOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadOptions(ctx, &options_));
  }

  void Compute(OpKernelContext* ctx) override {
    QrnnPoolingShape shape;
    OP_REQUIRES_OK(ctx, ReadInputs(ctx, options_, &shape));
    Tensor* output = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(
                            0, TensorShape({shape.batch, shape.steps, shape.output_channels}),
                            &output));
    std::vector<float> scratch;
    QrnnPooling(options_, shape, ctx->input(0).flat<float>().data(),
                ctx->input(1).flat<int32_t>().data(), output->flat<float>().data(), &scratch);
  }

 private:
  QrnnPoolingOptions options_;
};

class QrnnPoolingGradOp : public OpKernel {
 public:
  explicit QrnnPoolingGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadOptions(ctx, &options_));
  }

  void Compute(OpKernelContext* ctx) override {
    QrnnPoolingShape shape;
    OP_REQUIRES_OK(ctx, ReadInputs(ctx, options_, &shape));
    const Tensor& grad_output = ctx->input(2);
    const TensorShape expected({shape.batch, shape.steps, shape.output_channels});
    OP_REQUIRES(ctx, grad_output.shape() == expected,
                absl::InvalidArgumentError(std::string(kOpName) + "Grad: grad_output has shape " +
                                           grad_output.shape().DebugString() + ", expected " +
                                           expected.DebugString()));
    Tensor* grad_gates = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, ctx->input(0).shape(), &grad_gates));
    std::vector<float> scratch;
    QrnnPoolingGrad(options_, shape, ctx->input(0).flat<float>().data(),
                    ctx->input(1).flat<int32_t>().data(), grad_output.flat<float>().data(),
                    grad_gates->flat<float>().data(), &scratch);
  }

 private:
  QrnnPoolingOptions options_;
};

REGISTER_KERNEL_BUILDER(Name("PQRNN>QRNNPooling").Device(tensorflow::DEVICE_CPU), QrnnPoolingOp);
REGISTER_KERNEL_BUILDER(Name("PQRNN>QRNNPoolingGrad").Device(tensorflow::DEVICE_CPU),
                        QrnnPoolingGradOp);

}  // namespace
}  // namespace pqrnn
