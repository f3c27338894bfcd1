// TFLite adapter for the pQRNN hashing projection.
//
// The algorithm lives in projection/sequence_string_projection.{h,cc}; this
// file parses the op's custom options (the TF op's attributes, which the
// TFLite converter writes as a flexbuffer map), moves tensors in and out, and
// registers the kernel. It includes no TFLite header: tflite_abi.h declares
// the few structs it touches.
//
// Exported C entry points (loaded with ctypes by pqrnn/tflite.py):
//   PQRNN_RegisterTfLiteOps(resolver)   registers every op in kOps.
//   PQRNN_TfLiteOpNames()               NULL-terminated names of those ops.
//   PQRNN_TfLiteAbiLayout(what)         sizeof/offsetof of our ABI structs.
//   PQRNN_RegisterTfLiteAbiProbe(...),  a test-only op that checks the ABI
//   PQRNN_TfLiteAbiProbeFields(),       against the running interpreter
//   PQRNN_TfLiteAbiProbeLiveStates()    (tests/test_tflite_abi.py).
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "tflite_ops/projection/sequence_string_projection.h"
#include "tflite_ops/qrnn_tflite_kernel.h"
#include "tflite_ops/tflite_abi.h"

#define PQRNN_EXPORT extern "C" __attribute__((visibility("default")))

namespace pqrnn {
namespace {

constexpr char kProjectionOpName[] = "PQRNN>SequenceStringProjection";

// ---------------------------------------------------------------------------
// Small helpers over the C ABI.

TfLiteTensor* NodeTensor(TfLiteContext* context, const TfLiteIntArray* indices,
                         int i) {
  return &context->tensors[indices->data[i]];
}

// Checks that the node has `num_inputs` inputs and `num_outputs` outputs
// whose indices are valid tensors (optional tensors, -1, are not allowed).
bool CheckNodeTensors(TfLiteContext* context, const TfLiteNode* node,
                      const char* op_name, int num_inputs, int num_outputs) {
  if (node->inputs == nullptr || node->inputs->size != num_inputs ||
      node->outputs == nullptr || node->outputs->size != num_outputs) {
    context->ReportError(context, "%s: expected %d input(s) and %d output(s), got %d and %d",
                         op_name, num_inputs, num_outputs,
                         node->inputs ? node->inputs->size : -1,
                         node->outputs ? node->outputs->size : -1);
    return false;
  }
  for (const TfLiteIntArray* list : {node->inputs, node->outputs}) {
    for (int i = 0; i < list->size; ++i) {
      const int index = list->data[i];
      if (index < 0 || static_cast<size_t>(index) >= context->tensors_size) {
        context->ReportError(context, "%s: tensor index %d out of range [0, %zu)", op_name,
                             index, context->tensors_size);
        return false;
      }
    }
  }
  return true;
}

// Outputs whose shape depends on the input values get their buffer from
// ResizeTensor in Eval (what TFLite's SetTensorToDynamic does).
void SetTensorToDynamic(TfLiteTensor* tensor) {
  if (tensor->allocation_type != kTfLiteDynamic) {
    tensor->allocation_type = kTfLiteDynamic;
    tensor->data.raw = nullptr;
  }
}

// ResizeTensor takes ownership of a malloc'd TfLiteIntArray.
TfLiteStatus ResizeTensor(TfLiteContext* context, TfLiteTensor* tensor,
                          std::initializer_list<int> shape) {
  auto* dims = static_cast<TfLiteIntArray*>(
      std::malloc(sizeof(TfLiteIntArray) + sizeof(int) * shape.size()));
  if (dims == nullptr) return kTfLiteError;
  dims->size = static_cast<int>(shape.size());
  int i = 0;
  for (int d : shape) dims->data[i++] = d;
  return context->ResizeTensor(context, tensor, dims);
}

const char* TensorName(const TfLiteTensor& tensor) {
  return tensor.name != nullptr ? tensor.name : "<unnamed>";
}

int32_t LoadInt32(const char* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Splits a TFLite string tensor buffer into views, validating it first:
//   int32 count, int32 offsets[count + 1] (from the buffer's start), bytes.
// Returns "" on success, else what is wrong. Never reads outside
// [data, data + bytes).
std::string ParseStringTensor(const TfLiteTensor& tensor, int64_t num_elements,
                              std::vector<std::string_view>* texts) {
  texts->clear();
  const char* data = tensor.data.raw_const;
  const size_t bytes = tensor.bytes;
  if (data == nullptr || bytes == 0) {
    if (num_elements == 0) return "";  // An unset, empty batch.
    return "string tensor has no buffer";
  }
  if (bytes < sizeof(int32_t)) return "string tensor buffer is shorter than its header";
  const int32_t count = LoadInt32(data);
  if (count != num_elements) {
    return "string tensor holds " + std::to_string(count) + " strings but its shape has " +
           std::to_string(num_elements) + " elements";
  }
  const uint64_t header = sizeof(int32_t) * (static_cast<uint64_t>(count) + 2);
  if (header > bytes) {
    return "string tensor header (" + std::to_string(header) + " bytes) exceeds its buffer (" +
           std::to_string(bytes) + " bytes)";
  }
  texts->reserve(static_cast<size_t>(count));
  int32_t begin = LoadInt32(data + sizeof(int32_t));
  if (begin < 0 || static_cast<uint64_t>(begin) < header) {
    return "string tensor offset 0 (" + std::to_string(begin) + ") points into its header";
  }
  for (int32_t i = 0; i < count; ++i) {
    const int32_t end = LoadInt32(data + sizeof(int32_t) * (static_cast<size_t>(i) + 2));
    if (end < begin || static_cast<uint64_t>(end) > bytes) {
      texts->clear();
      return "string tensor offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
             "] of string " + std::to_string(i) + " are outside its " + std::to_string(bytes) +
             "-byte buffer or decreasing";
    }
    texts->emplace_back(data + begin, static_cast<size_t>(end - begin));
    begin = end;
  }
  return "";
}

// ---------------------------------------------------------------------------
// Custom options: the TF op's attributes as a flexbuffer map.

// Same bound as the TF adapter (tf_kernel.cc), so both accept the same sets.
constexpr int64_t kIntAttrLimit = int64_t{1} << 30;

class OptionsReader {
 public:
  explicit OptionsReader(flexbuffers::Map map) : map_(map) {}

  // Each reader leaves `*value` unchanged (the TF default) when the key is
  // absent, and records an error when the value has the wrong type.
  void Int(const char* key, int* value, bool required = false) {
    const flexbuffers::Reference ref = map_[key];
    if (ref.IsNull()) {
      if (required) Fail(std::string("attribute ") + key + " is required but missing");
      return;
    }
    int64_t v;
    if (ref.IsInt()) {
      v = ref.AsInt64();
    } else if (ref.IsUInt()) {
      const uint64_t u = ref.AsUInt64();
      v = u > static_cast<uint64_t>(kIntAttrLimit) ? kIntAttrLimit + 1 : static_cast<int64_t>(u);
    } else {
      Fail(std::string("attribute ") + key + " must be an integer");
      return;
    }
    if (v < -kIntAttrLimit || v > kIntAttrLimit) {
      Fail(std::string("attribute ") + key + " is out of range, got " + std::to_string(v));
      return;
    }
    *value = static_cast<int>(v);
  }

  void Bool(const char* key, bool* value) {
    const flexbuffers::Reference ref = map_[key];
    if (ref.IsNull()) return;
    if (ref.IsBool() || ref.IsIntOrUint()) {
      *value = ref.AsBool();
    } else {
      Fail(std::string("attribute ") + key + " must be a bool");
    }
  }

  void Float(const char* key, float* value) {
    const flexbuffers::Reference ref = map_[key];
    if (ref.IsNull()) return;
    if (ref.IsNumeric()) {
      *value = ref.AsFloat();
    } else {
      Fail(std::string("attribute ") + key + " must be a number");
    }
  }

  const std::string& error() const { return error_; }

 private:
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  flexbuffers::Map map_;
  std::string error_;
};

// Returns "" and fills `options`, or returns what is wrong.
std::string ParseProjectionOptions(const char* buffer, size_t length,
                                   ProjectionOptions* options) {
  if (buffer == nullptr || length == 0) {
    return "custom options are missing (feature_size is required)";
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(buffer);
  if (!flexbuffers::VerifyBuffer(bytes, length)) {
    return "custom options are not a valid flexbuffer (corrupt model?)";
  }
  const flexbuffers::Reference root = flexbuffers::GetRoot(bytes, length);
  if (!root.IsMap()) return "custom options are not a flexbuffer map";

  OptionsReader reader(root.AsMap());
  reader.Int("feature_size", &options->feature_size, /*required=*/true);
  reader.Int("max_seq_len", &options->max_seq_len);
  reader.Bool("add_bos_tag", &options->add_bos_tag);
  reader.Bool("add_eos_tag", &options->add_eos_tag);
  reader.Int("word_novelty_bits", &options->word_novelty_bits);
  reader.Int("doc_size_levels", &options->doc_size_levels);
  reader.Float("distortion_probability", &options->distortion_probability);
  reader.Bool("lowercase", &options->lowercase);
  // Absent in files written before the attribute existed: 0 (off).
  reader.Int("char_ngram_size", &options->char_ngram_size);
  reader.Bool("char_ngram_sqrt", &options->char_ngram_sqrt);  // Likewise: false.
  // `seed` only drives distortion, which TFLite never runs; it is accepted
  // (the converter always writes it) and ignored.
  if (!reader.error().empty()) return reader.error();

  std::string error = ValidateOptions(*options);
  if (!error.empty()) return error;
  if (options->distortion_probability != 0.0f) {
    return "distortion_probability=" + std::to_string(options->distortion_probability) +
           " is not supported: distortion is training-only augmentation and exported "
           "models must use 0 (SequenceStringProjection exports 0; re-export the model "
           "from the Keras layer instead of calling the op with distortion)";
  }
  return "";
}

// ---------------------------------------------------------------------------
// PQRNN>SequenceStringProjection

struct ProjectionState {
  std::string error;  // Non-empty: the options were invalid (reported in Prepare).
  std::unique_ptr<SequenceStringProjector> projector;
};

void* ProjectionInit(TfLiteContext*, const char* buffer, size_t length) {
  try {
    auto state = std::make_unique<ProjectionState>();
    ProjectionOptions options;
    state->error = ParseProjectionOptions(buffer, length, &options);
    if (state->error.empty()) state->projector = std::make_unique<SequenceStringProjector>(options);
    return state.release();
  } catch (const std::exception&) {
    return nullptr;  // Prepare reports it.
  }
}

void ProjectionFree(TfLiteContext*, void* buffer) {
  delete static_cast<ProjectionState*>(buffer);
}

TfLiteStatus ProjectionPrepare(TfLiteContext* context, TfLiteNode* node) {
  const auto* state = static_cast<const ProjectionState*>(node->user_data);
  if (state == nullptr) {
    context->ReportError(context, "%s: out of memory while parsing custom options",
                         kProjectionOpName);
    return kTfLiteError;
  }
  if (!state->error.empty()) {
    context->ReportError(context, "%s: %s", kProjectionOpName, state->error.c_str());
    return kTfLiteError;
  }
  if (!CheckNodeTensors(context, node, kProjectionOpName, 1, 2)) return kTfLiteError;

  const TfLiteTensor* input = NodeTensor(context, node->inputs, 0);
  if (input->type != kTfLiteString) {
    context->ReportError(context, "%s: input %s must be a string tensor, got TfLiteType %d",
                         kProjectionOpName, TensorName(*input), static_cast<int>(input->type));
    return kTfLiteError;
  }
  if (input->dims == nullptr || input->dims->size != 1) {
    context->ReportError(context, "%s: input %s must be a vector [B] of strings, got rank %d",
                         kProjectionOpName, TensorName(*input),
                         input->dims ? input->dims->size : -1);
    return kTfLiteError;
  }
  TfLiteTensor* projection = NodeTensor(context, node->outputs, 0);
  TfLiteTensor* lengths = NodeTensor(context, node->outputs, 1);
  if (projection->type != kTfLiteFloat32 || lengths->type != kTfLiteInt32) {
    context->ReportError(context,
                         "%s: outputs must be float32 projection and int32 sequence_length, "
                         "got TfLiteTypes %d and %d",
                         kProjectionOpName, static_cast<int>(projection->type),
                         static_cast<int>(lengths->type));
    return kTfLiteError;
  }
  SetTensorToDynamic(projection);
  SetTensorToDynamic(lengths);
  return kTfLiteOk;
}

TfLiteStatus ProjectionEval(TfLiteContext* context, TfLiteNode* node) {
  const auto& projector = *static_cast<const ProjectionState*>(node->user_data)->projector;
  const TfLiteTensor& input = *NodeTensor(context, node->inputs, 0);
  TfLiteTensor* projection = NodeTensor(context, node->outputs, 0);
  TfLiteTensor* lengths = NodeTensor(context, node->outputs, 1);
  if (input.dims == nullptr || input.dims->size != 1 || input.dims->data[0] < 0) {
    context->ReportError(context, "%s: input %s must be a vector [B] of strings",
                         kProjectionOpName, TensorName(input));
    return kTfLiteError;
  }
  const int batch_size = input.dims->data[0];

  try {
    std::vector<std::string_view> texts;
    const std::string error = ParseStringTensor(input, batch_size, &texts);
    if (!error.empty()) {
      context->ReportError(context, "%s: input %s: %s", kProjectionOpName, TensorName(input),
                           error.c_str());
      return kTfLiteError;
    }
    const TokenizedBatch batch = projector.TokenizeBatch(texts);
    const int feature_size = projector.options().feature_size;

    // The output must be addressable: B * T * F floats within int range per
    // dimension and size_t overall (ResizeTensor computes bytes from dims).
    int64_t elements = 0;
    if (__builtin_mul_overflow(static_cast<int64_t>(batch_size),
                               static_cast<int64_t>(batch.max_tokens), &elements) ||
        __builtin_mul_overflow(elements, static_cast<int64_t>(feature_size), &elements) ||
        elements > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(sizeof(float))) {
      context->ReportError(context, "%s: output [%d, %d, %d] is too large", kProjectionOpName,
                           batch_size, batch.max_tokens, feature_size);
      return kTfLiteError;
    }
    if (ResizeTensor(context, projection, {batch_size, batch.max_tokens, feature_size}) !=
            kTfLiteOk ||
        ResizeTensor(context, lengths, {batch_size}) != kTfLiteOk) {
      context->ReportError(context, "%s: could not allocate outputs [%d, %d, %d] and [%d]",
                           kProjectionOpName, batch_size, batch.max_tokens, feature_size,
                           batch_size);
      return kTfLiteError;
    }
    // Empty outputs may have no buffer; ProjectBatch still does pointer
    // arithmetic on its arguments, so give it a valid one.
    float no_features = 0.0f;
    int32_t no_lengths = 0;
    projector.ProjectBatch(batch, projection->data.f ? projection->data.f : &no_features,
                           lengths->data.i32 ? lengths->data.i32 : &no_lengths);
  } catch (const std::exception& e) {
    context->ReportError(context, "%s: %s", kProjectionOpName, e.what());
    return kTfLiteError;
  }
  return kTfLiteOk;
}

TfLiteRegistration ProjectionRegistration() {
  TfLiteRegistration r{};
  r.init = ProjectionInit;
  r.free = ProjectionFree;
  r.prepare = ProjectionPrepare;
  r.invoke = ProjectionEval;
  return r;
}

// ---------------------------------------------------------------------------
// The op table: the single list of pqrnn's TFLite ops.

struct OpEntry {
  const char* name;
  TfLiteRegistration (*registration)();
};

constexpr OpEntry kOps[] = {
    {kProjectionOpName, ProjectionRegistration},
    {kQrnnPoolingOpName, QrnnPoolingRegistration},
};
constexpr size_t kNumOps = sizeof(kOps) / sizeof(kOps[0]);

// The resolver copies sizeof(TfLiteRegistration) bytes as the *runtime*
// defines it. The zeroed tail keeps a larger future struct from reading past
// our object (its extra fields would read as 0, their documented defaults);
// tests/test_tflite_abi.py still fails loudly on any size change.
struct PaddedRegistration {
  TfLiteRegistration registration;
  char zero_tail[256];
};

// Static storage, filled once: some resolvers (and tflite_kernel_test.cc's
// fake one) keep the pointer instead of a copy.
const PaddedRegistration* Registrations() {
  static const PaddedRegistration* const registrations = [] {
    static PaddedRegistration storage[kNumOps] = {};
    for (size_t i = 0; i < kNumOps; ++i) storage[i].registration = kOps[i].registration();
    return storage;
  }();
  return registrations;
}

const char* const* OpNames() {
  static const char* const* const names = [] {
    static const char* storage[kNumOps + 1] = {};
    for (size_t i = 0; i < kNumOps; ++i) storage[i] = kOps[i].name;
    return storage;
  }();
  return names;
}

// ---------------------------------------------------------------------------
// PQRNN>AbiProbe: a test-only op that reads the interpreter's structs through
// tflite_abi.h and writes what it saw to its int64 output, so that
// tests/test_tflite_abi.py can compare it with what the interpreter reports
// through its own API. Wrong offsets or sizes show up as wrong names, shapes,
// byte counts, pointers or callbacks called in the wrong role. Never used by
// models. (The interpreter forbids GetExecutionPlan/GetNodeAndRegistration
// outside delegates, so the registration is checked through the resolver.)

constexpr char kProbeOpName[] = "PQRNN>AbiProbe";
constexpr int kProbeMaxInputs = 4;

// The probe's output record, in order. Per-input fields are repeated for
// in0..in3 (zeros for absent inputs).
#define PQRNN_PROBE_FIXED_FIELDS(X)                                                      \
  X(sizeof_tensor) X(sizeof_node) X(sizeof_registration) X(node_address)                \
  X(context_tensors_size) X(node_inputs_size) X(node_outputs_size)                       \
  X(node_intermediates_size) X(node_temporaries_size) X(init_length)                     \
  X(node_custom_data_ok) X(node_custom_data_size) X(node_builtin_data_null)              \
  X(prepare_calls) X(invoke_calls) X(reg_found) X(reg_custom_name_ok) X(reg_version)     \
  X(reg_builtin_code) X(reg_callbacks_ok)
#define PQRNN_PROBE_INPUT_FIELDS(X) \
  X(type) X(ndims) X(dim0) X(dim1) X(bytes) X(allocation_type) X(name_hash) X(first_word)

enum ProbeField {
#define PQRNN_ENUM(name) kProbe_##name,
  PQRNN_PROBE_FIXED_FIELDS(PQRNN_ENUM)
#undef PQRNN_ENUM
  kProbeNumFixed
};
enum ProbeInputField {
#define PQRNN_ENUM(name) kProbeIn_##name,
  PQRNN_PROBE_INPUT_FIELDS(PQRNN_ENUM)
#undef PQRNN_ENUM
  kProbeNumInputFields
};
constexpr int kProbeRecordSize = kProbeNumFixed + kProbeMaxInputs * kProbeNumInputFields;

struct ProbeState {
  const char* init_buffer;
  size_t init_length;
  int64_t prepare_calls;
  int64_t invoke_calls;
};

// What the resolver stored for the probe, read back right after AddCustom
// (PQRNN_RegisterTfLiteAbiProbe): the fields the resolver writes itself
// (builtin_code, custom_name, version) land where we read them, and our
// callbacks are where we put them.
struct RegistrationCheck {
  int64_t found, custom_name_ok, version, builtin_code, callbacks_ok;
};
RegistrationCheck g_registration_check = {};

// tflite::MutableOpResolver::FindOp(const char*, int) const, exported by
// libtensorflow_cc.so.2, declared as the free function it is under the
// Itanium C++ ABI (`this` first). Weak, so that builds without TensorFlow
// (tflite_kernel_test.cc's fake runtime) still link; then the check reports
// "not found" and tests/test_tflite_abi.py fails, as it should.
extern "C" const TfLiteRegistration* PQRNN_MutableOpResolverFindOp(const void* resolver,
                                                                  const char* op, int version)
    __asm__("_ZNK6tflite17MutableOpResolver6FindOpEPKci") __attribute__((weak));
std::atomic<int64_t> g_live_probe_states{0};

// FNV-1a, 64-bit, top bit cleared: the test recomputes it over the names.
int64_t NameHash(const char* name) {
  if (name == nullptr) return 0;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char* p = name; *p; ++p) {
    h ^= static_cast<unsigned char>(*p);
    h *= 0x100000001b3ULL;
  }
  return static_cast<int64_t>(h & 0x7fffffffffffffffULL);
}

void* ProbeInit(TfLiteContext*, const char* buffer, size_t length) {
  auto* state = new (std::nothrow) ProbeState{buffer, length, 0, 0};
  if (state != nullptr) ++g_live_probe_states;
  return state;
}

void ProbeFree(TfLiteContext*, void* buffer) {
  if (buffer == nullptr) return;
  delete static_cast<ProbeState*>(buffer);
  --g_live_probe_states;
}

TfLiteStatus ProbePrepare(TfLiteContext* context, TfLiteNode* node) {
  auto* state = static_cast<ProbeState*>(node->user_data);
  if (state == nullptr) return kTfLiteError;
  ++state->prepare_calls;
  if (!CheckNodeTensors(context, node, kProbeOpName, node->inputs ? node->inputs->size : 0, 1)) {
    return kTfLiteError;
  }
  TfLiteTensor* output = NodeTensor(context, node->outputs, 0);
  if (output->type != kTfLiteInt64) {
    context->ReportError(context, "%s: output must be int64", kProbeOpName);
    return kTfLiteError;
  }
  return ResizeTensor(context, output, {kProbeRecordSize});
}

TfLiteStatus ProbeEval(TfLiteContext* context, TfLiteNode* node) {
  const auto* state = static_cast<ProbeState*>(node->user_data);
  TfLiteTensor* output = NodeTensor(context, node->outputs, 0);
  if (output->data.i64 == nullptr || output->bytes != sizeof(int64_t) * kProbeRecordSize) {
    context->ReportError(context, "%s: output has %zu bytes, expected %zu", kProbeOpName,
                         output->bytes, sizeof(int64_t) * kProbeRecordSize);
    return kTfLiteError;
  }
  int64_t r[kProbeRecordSize] = {};
  r[kProbe_sizeof_tensor] = sizeof(TfLiteTensor);
  r[kProbe_sizeof_node] = sizeof(TfLiteNode);
  r[kProbe_sizeof_registration] = sizeof(TfLiteRegistration);
  r[kProbe_node_address] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(node));
  r[kProbe_context_tensors_size] = static_cast<int64_t>(context->tensors_size);
  auto array_size = [](const TfLiteIntArray* a) -> int64_t { return a ? a->size : -1; };
  r[kProbe_node_inputs_size] = array_size(node->inputs);
  r[kProbe_node_outputs_size] = array_size(node->outputs);
  r[kProbe_node_intermediates_size] = array_size(node->intermediates);
  r[kProbe_node_temporaries_size] = array_size(node->temporaries);
  r[kProbe_init_length] = static_cast<int64_t>(state->init_length);
  r[kProbe_node_custom_data_ok] =
      node->custom_initial_data == state->init_buffer &&
      static_cast<size_t>(node->custom_initial_data_size) == state->init_length;
  r[kProbe_node_custom_data_size] = node->custom_initial_data_size;
  r[kProbe_node_builtin_data_null] = node->builtin_data == nullptr;
  r[kProbe_prepare_calls] = state->prepare_calls;
  r[kProbe_invoke_calls] = state->invoke_calls + 1;  // This call.
  r[kProbe_reg_found] = g_registration_check.found;
  r[kProbe_reg_custom_name_ok] = g_registration_check.custom_name_ok;
  r[kProbe_reg_version] = g_registration_check.version;
  r[kProbe_reg_builtin_code] = g_registration_check.builtin_code;
  r[kProbe_reg_callbacks_ok] = g_registration_check.callbacks_ok;
  // Inputs are read here, when string inputs have their data.
  for (int i = 0; i < kProbeMaxInputs && i < node->inputs->size; ++i) {
    int64_t* in = r + kProbeNumFixed + i * kProbeNumInputFields;
    const TfLiteTensor& t = *NodeTensor(context, node->inputs, i);
    in[kProbeIn_type] = t.type;
    in[kProbeIn_ndims] = t.dims ? t.dims->size : -1;
    in[kProbeIn_dim0] = t.dims && t.dims->size > 0 ? t.dims->data[0] : -1;
    in[kProbeIn_dim1] = t.dims && t.dims->size > 1 ? t.dims->data[1] : -1;
    in[kProbeIn_bytes] = static_cast<int64_t>(t.bytes);
    in[kProbeIn_allocation_type] = t.allocation_type;
    in[kProbeIn_name_hash] = NameHash(t.name);
    in[kProbeIn_first_word] = t.data.raw_const && t.bytes >= 4 ? LoadInt32(t.data.raw_const) : 0;
  }
  std::memcpy(output->data.i64, r, sizeof(r));
  ++static_cast<ProbeState*>(node->user_data)->invoke_calls;
  return kTfLiteOk;
}

TfLiteRegistration ProbeRegistration() {
  TfLiteRegistration r{};
  r.init = ProbeInit;
  r.free = ProbeFree;
  r.prepare = ProbePrepare;
  r.invoke = ProbeEval;
  return r;
}

const char* const kProbeFieldNames[] = {
#define PQRNN_NAME(name) #name,
    PQRNN_PROBE_FIXED_FIELDS(PQRNN_NAME)
#undef PQRNN_NAME
#define PQRNN_NAME(name) "in0." #name,
    PQRNN_PROBE_INPUT_FIELDS(PQRNN_NAME)
#undef PQRNN_NAME
#define PQRNN_NAME(name) "in1." #name,
    PQRNN_PROBE_INPUT_FIELDS(PQRNN_NAME)
#undef PQRNN_NAME
#define PQRNN_NAME(name) "in2." #name,
    PQRNN_PROBE_INPUT_FIELDS(PQRNN_NAME)
#undef PQRNN_NAME
#define PQRNN_NAME(name) "in3." #name,
    PQRNN_PROBE_INPUT_FIELDS(PQRNN_NAME)
#undef PQRNN_NAME
    nullptr};
static_assert(sizeof(kProbeFieldNames) / sizeof(kProbeFieldNames[0]) == kProbeRecordSize + 1,
              "kProbeFieldNames must name every record field");

}  // namespace
}  // namespace pqrnn

// ---------------------------------------------------------------------------
// Exported entry points.

// Registers every pqrnn TFLite op with `resolver`, a tflite::MutableOpResolver*
// (what InterpreterWithCustomOps and the converter's calibrator pass to
// custom-op registerers).
PQRNN_EXPORT void PQRNN_RegisterTfLiteOps(void* resolver) {
  auto* r = static_cast<tflite::MutableOpResolver*>(resolver);
  const pqrnn::PaddedRegistration* registrations = pqrnn::Registrations();
  for (size_t i = 0; i < pqrnn::kNumOps; ++i) {
    r->AddCustom(pqrnn::kOps[i].name, &registrations[i].registration, /*version=*/1);
  }
}

// NULL-terminated names of the ops PQRNN_RegisterTfLiteOps registers.
PQRNN_EXPORT const char* const* PQRNN_TfLiteOpNames() { return pqrnn::OpNames(); }

// Registers the test-only "PQRNN>AbiProbe" op, then reads back what the
// resolver stored (for the probe's record).
PQRNN_EXPORT void PQRNN_RegisterTfLiteAbiProbe(void* resolver) {
  auto* r = static_cast<tflite::MutableOpResolver*>(resolver);
  static const pqrnn::PaddedRegistration padded = {pqrnn::ProbeRegistration(), {}};
  r->AddCustom(pqrnn::kProbeOpName, &padded.registration, /*version=*/1);
  const TfLiteRegistration* stored =
      pqrnn::PQRNN_MutableOpResolverFindOp != nullptr
          ? pqrnn::PQRNN_MutableOpResolverFindOp(resolver, pqrnn::kProbeOpName, 1)
          : nullptr;
  pqrnn::RegistrationCheck check = {};
  if (stored != nullptr) {
    check.found = 1;
    check.custom_name_ok = stored->custom_name != nullptr &&
                           std::strcmp(stored->custom_name, pqrnn::kProbeOpName) == 0;
    check.version = stored->version;
    check.builtin_code = stored->builtin_code;
    check.callbacks_ok = stored->init == padded.registration.init &&
                         stored->free == padded.registration.free &&
                         stored->prepare == padded.registration.prepare &&
                         stored->invoke == padded.registration.invoke;
  }
  pqrnn::g_registration_check = check;
}

// Number of PQRNN>AbiProbe kernel states alive (init'd and not yet freed).
PQRNN_EXPORT int64_t PQRNN_TfLiteAbiProbeLiveStates() { return pqrnn::g_live_probe_states.load(); }

// NULL-terminated names of the int64 fields the probe op outputs, in order.
PQRNN_EXPORT const char* const* PQRNN_TfLiteAbiProbeFields() { return pqrnn::kProbeFieldNames; }

// sizeof("TfLiteTensor") or offsetof("TfLiteTensor.bytes") of the structs in
// tflite_abi.h, as this library was compiled; -1 for a name it does not know.
PQRNN_EXPORT int64_t PQRNN_TfLiteAbiLayout(const char* what) {
  if (what == nullptr) return -1;
  struct Entry {
    const char* name;
    int64_t value;
  };
#define PQRNN_SIZE(type) {#type, static_cast<int64_t>(sizeof(type))}
#define PQRNN_OFFSET(type, field) {#type "." #field, static_cast<int64_t>(offsetof(type, field))}
  static const Entry kLayout[] = {
      PQRNN_SIZE(TfLiteIntArray),
      PQRNN_OFFSET(TfLiteIntArray, size),
      PQRNN_OFFSET(TfLiteIntArray, data),
      PQRNN_SIZE(TfLiteTensor),
      PQRNN_OFFSET(TfLiteTensor, type),
      PQRNN_OFFSET(TfLiteTensor, data),
      PQRNN_OFFSET(TfLiteTensor, dims),
      PQRNN_OFFSET(TfLiteTensor, allocation_type),
      PQRNN_OFFSET(TfLiteTensor, bytes),
      PQRNN_OFFSET(TfLiteTensor, allocation),
      PQRNN_OFFSET(TfLiteTensor, name),
      PQRNN_SIZE(TfLiteNode),
      PQRNN_OFFSET(TfLiteNode, inputs),
      PQRNN_OFFSET(TfLiteNode, outputs),
      PQRNN_OFFSET(TfLiteNode, intermediates),
      PQRNN_OFFSET(TfLiteNode, temporaries),
      PQRNN_OFFSET(TfLiteNode, user_data),
      PQRNN_OFFSET(TfLiteNode, builtin_data),
      PQRNN_OFFSET(TfLiteNode, custom_initial_data),
      PQRNN_OFFSET(TfLiteNode, custom_initial_data_size),
      PQRNN_OFFSET(TfLiteContext, tensors_size),
      PQRNN_OFFSET(TfLiteContext, tensors),
      PQRNN_OFFSET(TfLiteContext, ResizeTensor),
      PQRNN_OFFSET(TfLiteContext, ReportError),
      PQRNN_SIZE(TfLiteRegistration),
      PQRNN_OFFSET(TfLiteRegistration, init),
      PQRNN_OFFSET(TfLiteRegistration, free),
      PQRNN_OFFSET(TfLiteRegistration, prepare),
      PQRNN_OFFSET(TfLiteRegistration, invoke),
      PQRNN_OFFSET(TfLiteRegistration, builtin_code),
      PQRNN_OFFSET(TfLiteRegistration, custom_name),
      PQRNN_OFFSET(TfLiteRegistration, version),
  };
#undef PQRNN_SIZE
#undef PQRNN_OFFSET
  for (const Entry& e : kLayout) {
    if (std::strcmp(e.name, what) == 0) return e.value;
  }
  return -1;
}
