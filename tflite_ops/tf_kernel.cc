// TensorFlow adapter for the pQRNN hashing projection.
//
// The algorithm lives in projection/sequence_string_projection.{h,cc}; this file
// only declares the op (the single op definition: the TFLite converter copies
// these attributes into the custom op's options), validates attributes at
// graph-build time and moves tensors in and out.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/framework/tensor.h"
#include "tflite_ops/projection/sequence_string_projection.h"

namespace pqrnn {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

constexpr char kOpName[] = "PQRNN>SequenceStringProjection";

// Reads the attributes shared by shape inference and the kernel; works with
// both InferenceContext and OpKernelConstruction (both have GetAttr).
template <typename Context>
absl::Status ReadOptions(Context* c, ProjectionOptions* options) {
  int64_t feature_size, max_seq_len, word_novelty_bits, doc_size_levels,
      char_ngram_size;
  TF_RETURN_IF_ERROR(c->GetAttr("feature_size", &feature_size));
  TF_RETURN_IF_ERROR(c->GetAttr("max_seq_len", &max_seq_len));
  TF_RETURN_IF_ERROR(c->GetAttr("add_bos_tag", &options->add_bos_tag));
  TF_RETURN_IF_ERROR(c->GetAttr("add_eos_tag", &options->add_eos_tag));
  TF_RETURN_IF_ERROR(c->GetAttr("word_novelty_bits", &word_novelty_bits));
  TF_RETURN_IF_ERROR(c->GetAttr("doc_size_levels", &doc_size_levels));
  TF_RETURN_IF_ERROR(
      c->GetAttr("distortion_probability", &options->distortion_probability));
  TF_RETURN_IF_ERROR(c->GetAttr("lowercase", &options->lowercase));
  TF_RETURN_IF_ERROR(c->GetAttr("char_ngram_size", &char_ngram_size));
  TF_RETURN_IF_ERROR(c->GetAttr("char_ngram_sqrt", &options->char_ngram_sqrt));
  // int64 attrs are range-checked here so the narrowing below is exact.
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"feature_size", feature_size},
        {"max_seq_len", max_seq_len},
        {"word_novelty_bits", word_novelty_bits},
        {"doc_size_levels", doc_size_levels},
        {"char_ngram_size", char_ngram_size}}) {
    if (value < -(1LL << 30) || value > (1LL << 30)) {
      return absl::InvalidArgumentError(std::string(kOpName) + ": " + name + "=" +
                                        std::to_string(value) +
                                        " is out of range (|value| <= 2^30)");
    }
  }
  options->feature_size = static_cast<int>(feature_size);
  options->max_seq_len = static_cast<int>(max_seq_len);
  options->word_novelty_bits = static_cast<int>(word_novelty_bits);
  options->doc_size_levels = static_cast<int>(doc_size_levels);
  options->char_ngram_size = static_cast<int>(char_ngram_size);
  const std::string error = ValidateOptions(*options);
  if (!error.empty()) {
    return absl::InvalidArgumentError(std::string(kOpName) + ": " + error);
  }
  return absl::OkStatus();
}

REGISTER_OP("PQRNN>SequenceStringProjection")
    .Input("input: string")
    .Output("projection: float")
    .Output("sequence_length: int32")
    .Attr("feature_size: int")
    .Attr("max_seq_len: int = 0")
    .Attr("add_bos_tag: bool = false")
    .Attr("add_eos_tag: bool = false")
    .Attr("word_novelty_bits: int = 0")
    .Attr("doc_size_levels: int = 0")
    .Attr("distortion_probability: float = 0")
    .Attr("lowercase: bool = false")
    .Attr("seed: int = 0")
    .Attr("char_ngram_size: int = 0")
    .Attr("char_ngram_sqrt: bool = false")
    .SetShapeFn([](InferenceContext* c) -> absl::Status {
      ProjectionOptions options;
      TF_RETURN_IF_ERROR(ReadOptions(c, &options));
      ShapeHandle input;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 1, &input));
      c->set_output(0, c->MakeShape({c->Dim(input, 0), c->UnknownDim(),
                                     c->MakeDim(options.feature_size)}));
      c->set_output(1, c->Vector(c->Dim(input, 0)));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Hashes each whitespace-separated token of each UTF-8 string into a ternary
feature vector (pQRNN projection). See docs/PROJECTION.md for the contract.

input: [B] UTF-8 strings.
projection: [B, T, feature_size] features in {-1, 0, +1} (novelty and document
  size features in [-1, 1]); T is the longest token count in the batch; padding
  rows are 0.
sequence_length: [B] number of tokens per string, BOS/EOS included.
distortion_probability: training-only character distortion; must be 0 in
  exported models (the TFLite kernel rejects other values).
seed: seed of the distortion's random stream (each call advances it).
)doc");

class SequenceStringProjectionOp : public OpKernel {
 public:
  explicit SequenceStringProjectionOp(OpKernelConstruction* ctx)
      : OpKernel(ctx), projector_(ProjectionOptions{}), rng_(0) {
    ProjectionOptions options;
    OP_REQUIRES_OK(ctx, ReadOptions(ctx, &options));
    int64_t seed;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("seed", &seed));
    projector_ = SequenceStringProjector(options);
    rng_ = Rng(static_cast<uint64_t>(seed));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    OP_REQUIRES(ctx, input.dims() == 1,
                absl::InvalidArgumentError(
                    std::string(kOpName) + ": input must be a vector [B] of strings, got shape " +
                    input.shape().DebugString()));
    const auto texts = input.vec<tensorflow::tstring>();
    std::vector<std::string_view> views;
    views.reserve(texts.size());
    for (int64_t i = 0; i < texts.size(); ++i) {
      views.emplace_back(texts(i).data(), texts(i).size());
    }

    TokenizedBatch batch;
    if (projector_.options().distortion_probability > 0.0f) {
      // Distortion draws from one stream per kernel instance so that repeated
      // calls (training steps) see different distortions, reproducibly.
      std::lock_guard<std::mutex> lock(rng_mu_);
      batch = projector_.TokenizeBatch(views, &rng_);
    } else {
      batch = projector_.TokenizeBatch(views, nullptr);
    }

    const int64_t batch_size = texts.size();
    const int64_t feature_size = projector_.options().feature_size;
    Tensor* projection = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(
                            0, TensorShape({batch_size, batch.max_tokens, feature_size}),
                            &projection));
    Tensor* lengths = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({batch_size}), &lengths));
    projector_.ProjectBatch(batch, projection->flat<float>().data(),
                            lengths->flat<int32_t>().data());
  }

 private:
  SequenceStringProjector projector_;
  std::mutex rng_mu_;
  Rng rng_;  // Guarded by rng_mu_.
};

REGISTER_KERNEL_BUILDER(Name("PQRNN>SequenceStringProjection").Device(tensorflow::DEVICE_CPU),
                        SequenceStringProjectionOp);

}  // namespace
}  // namespace pqrnn
