// TFLite adapter for the QRNN fo-pooling (PQRNN>QRNNPooling).
//
// The algorithm lives in qrnn/qrnn_pooling.{h,cc}; this file parses the op's
// custom options (the TF op's attributes as a flexbuffer map, written by the
// converter), checks tensors, resizes the output in Prepare (its shape
// depends only on the input shapes, so it lives in the arena) and calls the
// core. Like tflite_kernel.cc it includes no TFLite header.
//
// The kernel is float32 in and out: in an int8 model the converter puts a
// DEQUANTIZE before it and a QUANTIZE after it, and the recurrence runs in
// float (an int8 recurrence would lose the long products of forget gates).
#include "tflite_ops/qrnn_tflite_kernel.h"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "tflite_ops/qrnn/qrnn_pooling.h"

namespace pqrnn {
namespace {

struct QrnnPoolingState {
  std::string error;  // Non-empty: the options were invalid (reported in Prepare).
  QrnnPoolingOptions options;
  QrnnPoolingShape shape;  // Of the last Prepare.
  std::vector<float> scratch;
};

std::string ParseOptions(const char* buffer, size_t length, QrnnPoolingOptions* options) {
  if (buffer == nullptr || length == 0) return "";  // Every attribute has a default.
  const auto* bytes = reinterpret_cast<const uint8_t*>(buffer);
  if (!flexbuffers::VerifyBuffer(bytes, length)) {
    return "custom options are not a valid flexbuffer (corrupt model?)";
  }
  const flexbuffers::Reference root = flexbuffers::GetRoot(bytes, length);
  if (!root.IsMap()) return "custom options are not a flexbuffer map";
  const flexbuffers::Map map = root.AsMap();

  const flexbuffers::Reference direction = map["direction"];
  if (!direction.IsNull()) {
    if (!direction.IsString() || !ParseQrnnDirection(direction.AsString().str(),
                                                     &options->direction)) {
      return "attribute direction must be \"forward\", \"backward\" or \"bidirectional\"";
    }
  }
  const flexbuffers::Reference merge = map["merge_mode"];
  if (!merge.IsNull()) {
    if (!merge.IsString() || !ParseQrnnMerge(merge.AsString().str(), &options->merge)) {
      return "attribute merge_mode must be \"concat\" or \"sum\"";
    }
  }
  const flexbuffers::Reference offset = map["backward_offset"];
  if (!offset.IsNull()) {
    if (!offset.IsIntOrUint()) return "attribute backward_offset must be an integer";
    const int64_t value = offset.IsInt() ? offset.AsInt64() : -1;
    if (value < 0 || value > (1 << 20)) {
      return "attribute backward_offset must be in [0, 2^20]";
    }
    options->backward_offset = static_cast<int>(value);
  }
  return ValidateQrnnPoolingOptions(*options);
}

void* Init(TfLiteContext*, const char* buffer, size_t length) {
  try {
    auto state = std::make_unique<QrnnPoolingState>();
    state->error = ParseOptions(buffer, length, &state->options);
    return state.release();
  } catch (const std::exception&) {
    return nullptr;  // Prepare reports it.
  }
}

void Free(TfLiteContext*, void* buffer) { delete static_cast<QrnnPoolingState*>(buffer); }

TfLiteTensor* Tensor(TfLiteContext* context, const TfLiteIntArray* indices, int i) {
  return &context->tensors[indices->data[i]];
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  auto* state = static_cast<QrnnPoolingState*>(node->user_data);
  if (state == nullptr) {
    context->ReportError(context, "%s: out of memory while parsing custom options",
                         kQrnnPoolingOpName);
    return kTfLiteError;
  }
  if (!state->error.empty()) {
    context->ReportError(context, "%s: %s", kQrnnPoolingOpName, state->error.c_str());
    return kTfLiteError;
  }
  if (node->inputs == nullptr || node->inputs->size != 2 || node->outputs == nullptr ||
      node->outputs->size != 1) {
    context->ReportError(context, "%s: expected 2 inputs and 1 output", kQrnnPoolingOpName);
    return kTfLiteError;
  }
  for (const TfLiteIntArray* list : {node->inputs, node->outputs}) {
    for (int i = 0; i < list->size; ++i) {
      if (list->data[i] < 0 || static_cast<size_t>(list->data[i]) >= context->tensors_size) {
        context->ReportError(context, "%s: tensor index %d out of range", kQrnnPoolingOpName,
                             list->data[i]);
        return kTfLiteError;
      }
    }
  }
  const TfLiteTensor* gates = Tensor(context, node->inputs, 0);
  const TfLiteTensor* lengths = Tensor(context, node->inputs, 1);
  TfLiteTensor* output = Tensor(context, node->outputs, 0);
  if (gates->type != kTfLiteFloat32 || lengths->type != kTfLiteInt32 ||
      output->type != kTfLiteFloat32) {
    context->ReportError(context,
                         "%s: expected float32 gates, int32 sequence_length and a float32 "
                         "output, got TfLiteTypes %d, %d and %d",
                         kQrnnPoolingOpName, static_cast<int>(gates->type),
                         static_cast<int>(lengths->type), static_cast<int>(output->type));
    return kTfLiteError;
  }
  if (gates->dims == nullptr || gates->dims->size != 3 || lengths->dims == nullptr ||
      lengths->dims->size != 1 || lengths->dims->data[0] != gates->dims->data[0]) {
    context->ReportError(context, "%s: expected gates [B, T, G] and sequence_length [B]",
                         kQrnnPoolingOpName);
    return kTfLiteError;
  }
  const std::string error =
      QrnnPoolingShapeFor(state->options, gates->dims->data[0], gates->dims->data[1],
                          gates->dims->data[2], &state->shape);
  if (!error.empty()) {
    context->ReportError(context, "%s: %s", kQrnnPoolingOpName, error.c_str());
    return kTfLiteError;
  }
  // ResizeTensor takes ownership of a malloc'd TfLiteIntArray.
  auto* dims = static_cast<TfLiteIntArray*>(std::malloc(sizeof(TfLiteIntArray) + 3 * sizeof(int)));
  if (dims == nullptr) return kTfLiteError;
  dims->size = 3;
  dims->data[0] = state->shape.batch;
  dims->data[1] = state->shape.steps;
  dims->data[2] = state->shape.output_channels;
  return context->ResizeTensor(context, output, dims);
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  auto* state = static_cast<QrnnPoolingState*>(node->user_data);
  const TfLiteTensor* gates = Tensor(context, node->inputs, 0);
  const TfLiteTensor* lengths = Tensor(context, node->inputs, 1);
  TfLiteTensor* output = Tensor(context, node->outputs, 0);
  const QrnnPoolingShape& shape = state->shape;
  const size_t out_elements =
      static_cast<size_t>(shape.batch) * shape.steps * shape.output_channels;
  if (out_elements == 0) return kTfLiteOk;
  if (gates->data.f == nullptr || lengths->data.i32 == nullptr || output->data.f == nullptr ||
      output->bytes != out_elements * sizeof(float)) {
    context->ReportError(context, "%s: tensors are not allocated as prepared",
                         kQrnnPoolingOpName);
    return kTfLiteError;
  }
  try {
    QrnnPooling(state->options, shape, gates->data.f, lengths->data.i32, output->data.f,
                &state->scratch);
  } catch (const std::exception& e) {
    context->ReportError(context, "%s: %s", kQrnnPoolingOpName, e.what());
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace

TfLiteRegistration QrnnPoolingRegistration() {
  return TfLiteRegistration{Init, Free, Prepare, Eval, nullptr, 0, nullptr, 0, {}};
}

}  // namespace pqrnn
