// Tests of the TFLite kernel (tflite_kernel.cc) without the TFLite runtime.
//
// The kernel is driven through its own ABI header (tflite_abi.h) by a fake
// runtime: a TfLiteContext whose ResizeTensor allocates exact-size heap
// blocks and whose ReportError records the message, nodes and tensors built
// here, and string tensor buffers built byte by byte, including corrupt ones
// (offsets out of range or decreasing, negative counts, truncated buffers,
// random byte flips) and corrupt custom options. Built with ASan + UBSan by
// `make sanitize` (tools/reliability.mk), so any out-of-bounds read of a
// corrupt model's bytes fails the test.
//
// The registration is obtained the way the runtime obtains it: by calling
// PQRNN_RegisterTfLiteOps with a resolver whose AddCustom (normally in
// libtensorflow_cc.so.2) is defined below to record it.
#define PQRNN_TEST_MAIN
#include "tflite_ops/projection/test_harness.h"

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "tflite_ops/projection/sequence_string_projection.h"
#include "tflite_ops/tflite_abi.h"

extern "C" void PQRNN_RegisterTfLiteOps(void* resolver);
extern "C" const char* const* PQRNN_TfLiteOpNames();

namespace {

constexpr char kOpName[] = "PQRNN>SequenceStringProjection";

struct Registered {
  std::string name;
  const TfLiteRegistration* registration;
  int version;
};

std::vector<Registered>& RegisteredOps() {
  static std::vector<Registered> ops;
  return ops;
}

}  // namespace

// Stands in for libtensorflow_cc.so.2's resolver: records what is registered.
void tflite::MutableOpResolver::AddCustom(const char* name,
                                          const TfLiteRegistration* registration, int version) {
  RegisteredOps().push_back({name, registration, version});
}

namespace {

const TfLiteRegistration* ProjectionRegistration() {
  static const TfLiteRegistration* found = [] {
    RegisteredOps().clear();
    alignas(16) static char resolver_storage[64];  // Never dereferenced by our AddCustom.
    PQRNN_RegisterTfLiteOps(resolver_storage);
    for (const Registered& op : RegisteredOps()) {
      if (op.name == kOpName) return op.registration;
    }
    return static_cast<const TfLiteRegistration*>(nullptr);
  }();
  return found;
}

// ---------------------------------------------------------------------------
// The fake runtime.

TfLiteIntArray* NewIntArray(std::initializer_list<int> values) {
  auto* a = static_cast<TfLiteIntArray*>(
      std::malloc(sizeof(TfLiteIntArray) + sizeof(int) * values.size()));
  a->size = static_cast<int>(values.size());
  int i = 0;
  for (int v : values) a->data[i++] = v;
  return a;
}

size_t TypeSize(TfLiteType type) {
  switch (type) {
    case kTfLiteFloat32:
    case kTfLiteInt32:
      return 4;
    case kTfLiteInt64:
      return 8;
    default:
      return 1;
  }
}

class FakeRuntime {
 public:
  explicit FakeRuntime(size_t num_tensors) : tensors_(num_tensors) {
    std::memset(static_cast<void*>(tensors_.data()), 0, sizeof(TfLiteTensor) * num_tensors);
    std::memset(static_cast<void*>(&context_), 0, sizeof(context_));
    std::memset(static_cast<void*>(&node_), 0, sizeof(node_));
    context_.tensors_size = num_tensors;
    context_.tensors = tensors_.data();
    context_.ResizeTensor = &FakeRuntime::ResizeTensor;
    context_.ReportError = &FakeRuntime::ReportError;
    context_.impl_ = this;
  }
  ~FakeRuntime() {
    if (registration_ != nullptr && node_.user_data != nullptr) {
      registration_->free(&context_, node_.user_data);
    }
    for (TfLiteTensor& t : tensors_) {
      std::free(t.dims);
      std::free(t.data.raw);  // Every buffer here is malloc'd (or null).
    }
    std::free(node_.inputs);
    std::free(node_.outputs);
  }
  FakeRuntime(const FakeRuntime&) = delete;
  FakeRuntime& operator=(const FakeRuntime&) = delete;

  TfLiteContext* context() { return &context_; }
  TfLiteNode* node() { return &node_; }
  TfLiteTensor& tensor(int i) { return tensors_[i]; }
  const std::string& last_error() const { return last_error_; }
  int errors() const { return errors_; }
  void set_fail_resize(bool fail) { fail_resize_ = fail; }

  void SetTensor(int i, TfLiteType type, std::initializer_list<int> dims, const char* name) {
    TfLiteTensor& t = tensors_[i];
    t.type = type;
    std::free(t.dims);
    t.dims = NewIntArray(dims);
    t.name = name;
    t.allocation_type = kTfLiteArenaRw;
  }

  // The string buffer is copied into a heap block of exactly `bytes` bytes.
  void SetStringData(int i, const std::string& bytes, bool null_data = false) {
    TfLiteTensor& t = tensors_[i];
    std::free(t.data.raw);
    t.data.raw = nullptr;
    if (!null_data && !bytes.empty()) {
      t.data.raw = static_cast<char*>(std::malloc(bytes.size()));
      std::memcpy(t.data.raw, bytes.data(), bytes.size());
    }
    t.bytes = bytes.size();
  }

  void SetNode(std::initializer_list<int> inputs, std::initializer_list<int> outputs) {
    std::free(node_.inputs);
    std::free(node_.outputs);
    node_.inputs = NewIntArray(inputs);
    node_.outputs = NewIntArray(outputs);
  }

  // init -> node.user_data, as the interpreter does.
  void Init(const TfLiteRegistration* registration, const std::string& options) {
    registration_ = registration;
    node_.custom_initial_data = options.empty() ? nullptr : options.data();
    node_.custom_initial_data_size = static_cast<int>(options.size());
    node_.user_data = registration->init(
        &context_, options.empty() ? nullptr : options.data(), options.size());
  }
  TfLiteStatus Prepare() { return registration_->prepare(&context_, &node_); }
  TfLiteStatus Eval() { return registration_->invoke(&context_, &node_); }

 private:
  static FakeRuntime* Self(TfLiteContext* context) {
    return static_cast<FakeRuntime*>(context->impl_);
  }

  // Like the interpreter: takes ownership of new_size; a dynamic tensor gets
  // a buffer of exactly num_elements * sizeof(type) bytes (none for 0).
  static TfLiteStatus ResizeTensor(TfLiteContext* context, TfLiteTensor* tensor,
                                   TfLiteIntArray* new_size) {
    FakeRuntime* self = Self(context);
    if (self->fail_resize_) {
      std::free(new_size);
      return kTfLiteError;
    }
    size_t elements = 1;
    for (int i = 0; i < new_size->size; ++i) {
      if (new_size->data[i] < 0) {
        std::free(new_size);
        return kTfLiteError;
      }
      elements *= static_cast<size_t>(new_size->data[i]);
    }
    std::free(tensor->dims);
    tensor->dims = new_size;
    tensor->bytes = elements * TypeSize(tensor->type);
    if (tensor->allocation_type == kTfLiteDynamic) {
      std::free(tensor->data.raw);
      tensor->data.raw = tensor->bytes ? static_cast<char*>(std::malloc(tensor->bytes)) : nullptr;
      if (tensor->bytes) std::memset(tensor->data.raw, 0x7f, tensor->bytes);  // Garbage.
    }
    return kTfLiteOk;
  }

  static void ReportError(TfLiteContext* context, const char* format, ...) {
    FakeRuntime* self = Self(context);
    char buffer[2048];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buffer, sizeof(buffer), format, args);
    va_end(args);
    self->last_error_ = buffer;
    ++self->errors_;
  }

  std::vector<TfLiteTensor> tensors_;
  TfLiteContext context_;
  TfLiteNode node_;
  const TfLiteRegistration* registration_ = nullptr;
  std::string last_error_;
  int errors_ = 0;
  bool fail_resize_ = false;
};

// ---------------------------------------------------------------------------
// Builders.

void AppendInt32(std::string* out, int32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

// TFLite's string tensor layout: int32 count, int32 offsets[count + 1] from
// the buffer's start, then the bytes.
std::string StringBuffer(const std::vector<std::string>& texts) {
  std::string out;
  const int32_t count = static_cast<int32_t>(texts.size());
  AppendInt32(&out, count);
  int32_t offset = 4 * (count + 2);
  for (const std::string& t : texts) {
    AppendInt32(&out, offset);
    offset += static_cast<int32_t>(t.size());
  }
  AppendInt32(&out, offset);
  for (const std::string& t : texts) out += t;
  return out;
}

void PutInt32(std::string* buffer, size_t at, int32_t v) { std::memcpy(&(*buffer)[at], &v, 4); }

struct Attrs {
  int64_t feature_size = 16;
  int64_t max_seq_len = 0;
  bool add_bos_tag = false;
  bool add_eos_tag = false;
  int64_t word_novelty_bits = 0;
  int64_t doc_size_levels = 0;
  double distortion_probability = 0.0;
  bool lowercase = false;
};

// The custom options as the converter writes them: a flexbuffer map of
// every attribute.
std::string Options(const Attrs& a) {
  flexbuffers::Builder fbb;
  fbb.Map([&]() {
    fbb.Int("feature_size", a.feature_size);
    fbb.Int("max_seq_len", a.max_seq_len);
    fbb.Bool("add_bos_tag", a.add_bos_tag);
    fbb.Bool("add_eos_tag", a.add_eos_tag);
    fbb.Int("word_novelty_bits", a.word_novelty_bits);
    fbb.Int("doc_size_levels", a.doc_size_levels);
    fbb.Double("distortion_probability", a.distortion_probability);
    fbb.Bool("lowercase", a.lowercase);
    fbb.Int("seed", 0);
  });
  fbb.Finish();
  const std::vector<uint8_t>& buf = fbb.GetBuffer();
  return std::string(buf.begin(), buf.end());
}

pqrnn::ProjectionOptions CoreOptions(const Attrs& a) {
  pqrnn::ProjectionOptions o;
  o.feature_size = static_cast<int>(a.feature_size);
  o.max_seq_len = static_cast<int>(a.max_seq_len);
  o.add_bos_tag = a.add_bos_tag;
  o.add_eos_tag = a.add_eos_tag;
  o.word_novelty_bits = static_cast<int>(a.word_novelty_bits);
  o.doc_size_levels = static_cast<int>(a.doc_size_levels);
  o.lowercase = a.lowercase;
  return o;
}

// A projection node: tensor 0 string [B] input, 1 float32 output, 2 int32 output.
std::unique_ptr<FakeRuntime> ProjectionNode(const std::string& options) {
  auto rt = std::make_unique<FakeRuntime>(3);
  rt->SetTensor(0, kTfLiteString, {1}, "text");
  rt->SetTensor(1, kTfLiteFloat32, {1, 1, 16}, "projection");
  rt->SetTensor(2, kTfLiteInt32, {1}, "sequence_length");
  rt->SetNode({0}, {1, 2});
  rt->Init(ProjectionRegistration(), options);
  return rt;
}

// Sets the input to `buffer` with shape [batch], then runs Eval.
TfLiteStatus EvalWith(FakeRuntime* rt, int batch, const std::string& buffer) {
  TfLiteTensor& input = rt->tensor(0);
  input.dims->data[0] = batch;
  rt->SetStringData(0, buffer);
  return rt->Eval();
}

// The reference: the core projector run directly on the same texts.
void CheckAgainstCore(FakeRuntime* rt, const Attrs& attrs, const std::vector<std::string>& texts,
                      const std::string& where) {
  pqrnn::SequenceStringProjector projector(CoreOptions(attrs));
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const pqrnn::TokenizedBatch batch = projector.TokenizeBatch(views);
  const size_t f = static_cast<size_t>(attrs.feature_size);
  std::vector<float> want(texts.size() * static_cast<size_t>(batch.max_tokens) * f + 1);
  std::vector<int32_t> want_lengths(texts.size() + 1);
  projector.ProjectBatch(batch, want.data(), want_lengths.data());

  const TfLiteTensor& projection = rt->tensor(1);
  const TfLiteTensor& lengths = rt->tensor(2);
  if (!CHECK_EQ_CTX(projection.dims->size, 3, where)) return;
  CHECK_EQ_CTX(projection.dims->data[0], static_cast<int>(texts.size()), where);
  CHECK_EQ_CTX(projection.dims->data[1], batch.max_tokens, where);
  CHECK_EQ_CTX(projection.dims->data[2], static_cast<int>(f), where);
  CHECK_EQ_CTX(lengths.dims->size, 1, where);
  CHECK_EQ_CTX(lengths.dims->data[0], static_cast<int>(texts.size()), where);
  const size_t n = texts.size() * static_cast<size_t>(batch.max_tokens) * f;
  CHECK_EQ_CTX(projection.bytes, n * sizeof(float), where);
  if (n > 0) {
    CHECK_CTX(std::memcmp(projection.data.f, want.data(), n * sizeof(float)) == 0, where);
  }
  for (size_t b = 0; b < texts.size(); ++b) {
    CHECK_EQ_CTX(lengths.data.i32[b], want_lengths[b], where);
  }
}

// ---------------------------------------------------------------------------
// Registration.

TEST(RegistersEveryListedOpOnce) {
  CHECK(ProjectionRegistration() != nullptr);
  std::vector<std::string> names;
  for (const char* const* p = PQRNN_TfLiteOpNames(); *p != nullptr; ++p) names.push_back(*p);
  std::vector<std::string> registered;
  for (const Registered& op : RegisteredOps()) registered.push_back(op.name);
  CHECK_EQ(registered, names);
  const TfLiteRegistration* r = ProjectionRegistration();
  if (r == nullptr) return;
  CHECK(r->init != nullptr && r->free != nullptr && r->prepare != nullptr && r->invoke != nullptr);
}

// ---------------------------------------------------------------------------
// Valid inputs: the adapter returns exactly what the core computes.

const std::vector<std::string>& HostileTexts() {
  static const std::vector<std::string> texts = {
      "",
      "     ",
      "\t\n\r\x0b\x0c \xc2\xa0\xe3\x80\x80\xe2\x80\xa8",
      "hello world HELLO",
      std::string("a\0b \0 \0\0 c\0", 12),
      "\x80 a\x80" "b \xbf\xbf",
      "caf\xc3 \xe2\x82 \xf0\x9f\x98 end\xe0\xa4",
      "\xff\xfe \xfe\xff x\xffy",
      "\xc0\x80 \xc1\xbf \xe0\x80\xaf \xf0\x80\x80\xaf",
      "\xed\xa0\x80 \xed\xbf\xbf",
      "\xf4\x90\x80\x80 \xf5\x80\x80\x80",
      "a\xe2\x80 b\xe3\x80 c\xc2",
      "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 \xe0\xb8\xaa",
      "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9 \xf0\x9f\x87\xa9\xf0\x9f\x87\xaa",
      "<BOS> <EOS> <null>",
      std::string(5000, 'x') + " " + std::string(3000, '\xe0'),
  };
  return texts;
}

TEST(MatchesCoreOnHostileBatches) {
  std::vector<Attrs> variants(4);
  variants[1].feature_size = 64;
  variants[1].add_bos_tag = variants[1].add_eos_tag = variants[1].lowercase = true;
  variants[2].feature_size = 4096;
  variants[2].word_novelty_bits = 7;
  variants[2].doc_size_levels = 16;
  variants[3].feature_size = 2;
  variants[3].max_seq_len = 1;
  variants[3].word_novelty_bits = 1;
  for (size_t v = 0; v < variants.size(); ++v) {
    auto rt = ProjectionNode(Options(variants[v]));
    CHECK_EQ(rt->Prepare(), kTfLiteOk);
    // The whole batch, then each string alone.
    const std::vector<std::string>& texts = HostileTexts();
    const std::string where = "variant " + std::to_string(v);
    CHECK_EQ_CTX(EvalWith(rt.get(), static_cast<int>(texts.size()), StringBuffer(texts)),
                 kTfLiteOk, where + ": " + rt->last_error());
    CheckAgainstCore(rt.get(), variants[v], texts, where);
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string w = where + " text " + std::to_string(i);
      CHECK_EQ_CTX(EvalWith(rt.get(), 1, StringBuffer({texts[i]})), kTfLiteOk, w);
      CheckAgainstCore(rt.get(), variants[v], {texts[i]}, w);
    }
  }
}

TEST(EmptyBatchHasDefinedShapes) {
  Attrs attrs;
  auto rt = ProjectionNode(Options(attrs));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  // A well-formed empty string tensor (count 0, one offset)...
  CHECK_EQ(EvalWith(rt.get(), 0, StringBuffer({})), kTfLiteOk);
  CheckAgainstCore(rt.get(), attrs, {}, "count 0");
  // ...and one with no buffer at all.
  CHECK_EQ(EvalWith(rt.get(), 0, ""), kTfLiteOk);
  CheckAgainstCore(rt.get(), attrs, {}, "no buffer");
  CHECK_EQ(rt->errors(), 0);
}

TEST(BatchOfEmptyStringsHasZeroLengthRows) {
  Attrs attrs;
  auto rt = ProjectionNode(Options(attrs));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  CHECK_EQ(EvalWith(rt.get(), 3, StringBuffer({"", "", ""})), kTfLiteOk);
  CheckAgainstCore(rt.get(), attrs, {"", "", ""}, "three empty strings");
  CHECK_EQ(rt->tensor(1).dims->data[1], 0);
}

// ---------------------------------------------------------------------------
// Corrupt string tensors: a clear error, never a read outside the buffer.

struct CorruptCase {
  const char* name;
  int batch;  // The input's shape [batch].
  std::string buffer;
  const char* message;  // Expected in the error.
};

std::vector<CorruptCase> CorruptCases() {
  const std::string good = StringBuffer({"hello", "world"});  // 16 header + 10 bytes.
  std::vector<CorruptCase> cases;
  cases.push_back({"count_above_shape", 1, good, "holds 2 strings but its shape has 1"});
  cases.push_back({"count_below_shape", 3, good, "holds 2 strings"});
  std::string b = good;
  PutInt32(&b, 0, -1);
  cases.push_back({"count_negative", 2, b, "holds -1 strings"});
  b = good;
  PutInt32(&b, 0, std::numeric_limits<int32_t>::min());
  cases.push_back({"count_int_min", 2, b, "strings but its shape"});
  cases.push_back({"count_huge_matching_shape", std::numeric_limits<int32_t>::max(),
                   [&] { std::string s = good; PutInt32(&s, 0, 0x7fffffff); return s; }(),
                   "exceeds its buffer"});
  b = good;
  PutInt32(&b, 4, 3);
  cases.push_back({"first_offset_in_header", 2, b, "points into its header"});
  b = good;
  PutInt32(&b, 4, -100);
  cases.push_back({"first_offset_negative", 2, b, "points into its header"});
  b = good;
  PutInt32(&b, 8, 1000);
  cases.push_back({"offset_past_end", 2, b, "outside its"});
  b = good;
  PutInt32(&b, 12, static_cast<int32_t>(good.size()) + 1);
  cases.push_back({"last_offset_one_past_end", 2, b, "outside its"});
  b = good;
  PutInt32(&b, 8, 17);
  PutInt32(&b, 12, 16);
  cases.push_back({"offsets_decreasing", 2, b, "decreasing"});
  b = good;
  PutInt32(&b, 12, -5);
  cases.push_back({"offset_negative", 2, b, "outside its"});
  cases.push_back({"shorter_than_count", 2, good.substr(0, 3), "shorter than its header"});
  cases.push_back({"truncated_offsets", 2, good.substr(0, 10), "exceeds its buffer"});
  cases.push_back({"truncated_bytes", 2, good.substr(0, 20), "outside its"});
  return cases;
}

TEST(CorruptStringTensorsAreRejectedWithAMessage) {
  auto rt = ProjectionNode(Options(Attrs()));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  for (const CorruptCase& c : CorruptCases()) {
    const int errors_before = rt->errors();
    const TfLiteStatus status = EvalWith(rt.get(), c.batch, c.buffer);
    CHECK_EQ_CTX(status, kTfLiteError, c.name);
    CHECK_EQ_CTX(rt->errors(), errors_before + 1, c.name);
    CHECK_CTX(rt->last_error().find(c.message) != std::string::npos,
              std::string(c.name) + ": got \"" + rt->last_error() + "\"");
    CHECK_CTX(rt->last_error().find(kOpName) != std::string::npos, c.name);
  }
}

TEST(NullDataWithElementsIsAnError) {
  auto rt = ProjectionNode(Options(Attrs()));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  rt->tensor(0).dims->data[0] = 2;
  rt->SetStringData(0, StringBuffer({"a", "b"}), /*null_data=*/true);
  CHECK_EQ(rt->Eval(), kTfLiteError);
  CHECK(rt->last_error().find("no buffer") != std::string::npos);
}

TEST(NegativeBatchDimensionIsAnError) {
  auto rt = ProjectionNode(Options(Attrs()));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  std::string b = StringBuffer({"a"});
  PutInt32(&b, 0, -1);
  CHECK_EQ(EvalWith(rt.get(), -1, b), kTfLiteError);
  CHECK(rt->last_error().find("vector [B]") != std::string::npos);
}

TEST(EveryTruncationOfAValidBufferIsSafe) {
  const std::vector<std::string> texts = {"wake me up", "", "\xe0\xa4\xa8\xe0\xa4\xae x"};
  const std::string good = StringBuffer(texts);
  auto rt = ProjectionNode(Options(Attrs()));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  for (size_t n = 0; n < good.size(); ++n) {
    const TfLiteStatus status = EvalWith(rt.get(), 3, good.substr(0, n));
    // Every proper prefix lacks bytes the offsets point at.
    CHECK_EQ_CTX(status, kTfLiteError, "prefix of " + std::to_string(n) + " bytes");
  }
  CHECK_EQ(EvalWith(rt.get(), 3, good), kTfLiteOk);
}

TEST(RandomByteFlipsNeverCrash) {
  const std::vector<std::string> texts = {"set an alarm", "\xf0\x9f\x98\x80 ok", "x"};
  const std::string good = StringBuffer(texts);
  auto rt = ProjectionNode(Options(Attrs()));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  pqrnn::Rng rng(20261121);
  int ok = 0, rejected = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string b = good;
    const int flips = 1 + static_cast<int>(rng.Next() % 4);
    for (int k = 0; k < flips; ++k) {
      b[rng.Next() % b.size()] = static_cast<char>(rng.Next() & 0xFF);
    }
    const TfLiteStatus status = EvalWith(rt.get(), 3, b);
    if (status == kTfLiteOk) {
      ++ok;
      // Whatever the bytes now say, the outputs are consistent.
      const TfLiteTensor& projection = rt->tensor(1);
      CHECK_EQ(projection.dims->data[0], 3);
      for (int i = 0; i < 3; ++i) {
        CHECK(rt->tensor(2).data.i32[i] <= projection.dims->data[1]);
      }
    } else {
      ++rejected;
      CHECK(!rt->last_error().empty());
    }
  }
  CHECK(ok > 0 && rejected > 0);  // Both paths were exercised.
}

TEST(ResizeFailureIsReported) {
  auto rt = ProjectionNode(Options(Attrs()));
  CHECK_EQ(rt->Prepare(), kTfLiteOk);
  rt->set_fail_resize(true);
  CHECK_EQ(EvalWith(rt.get(), 1, StringBuffer({"hello"})), kTfLiteError);
  CHECK(rt->last_error().find("could not allocate outputs") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Custom options: invalid attributes fail in Prepare with the attribute's name.

struct OptionsCase {
  const char* name;
  std::string options;
  const char* message;
};

std::string OptionsWith(const std::function<void(flexbuffers::Builder&)>& body) {
  flexbuffers::Builder fbb;
  fbb.Map([&]() { body(fbb); });
  fbb.Finish();
  return std::string(fbb.GetBuffer().begin(), fbb.GetBuffer().end());
}

std::vector<OptionsCase> InvalidOptionsCases() {
  std::vector<OptionsCase> cases;
  auto with = [](auto change) {
    Attrs a;
    change(a);
    return Options(a);
  };
  cases.push_back({"feature_size_odd", with([](Attrs& a) { a.feature_size = 7; }), "feature_size"});
  cases.push_back({"feature_size_zero", with([](Attrs& a) { a.feature_size = 0; }), "feature_size"});
  cases.push_back(
      {"feature_size_negative", with([](Attrs& a) { a.feature_size = -16; }), "feature_size"});
  cases.push_back(
      {"feature_size_4098", with([](Attrs& a) { a.feature_size = 4098; }), "feature_size"});
  cases.push_back({"feature_size_2_to_40",
                   with([](Attrs& a) { a.feature_size = int64_t{1} << 40; }), "feature_size"});
  cases.push_back({"feature_size_int_min",
                   with([](Attrs& a) { a.feature_size = std::numeric_limits<int64_t>::min(); }),
                   "feature_size"});
  cases.push_back(
      {"max_seq_len_negative", with([](Attrs& a) { a.max_seq_len = -1; }), "max_seq_len"});
  cases.push_back({"word_novelty_bits_8", with([](Attrs& a) { a.word_novelty_bits = 8; }),
                   "word_novelty_bits"});
  cases.push_back(
      {"doc_size_levels_17", with([](Attrs& a) { a.doc_size_levels = 17; }), "doc_size_levels"});
  cases.push_back({"both_extras_with_f2", with([](Attrs& a) {
                     a.feature_size = 2;
                     a.word_novelty_bits = a.doc_size_levels = 1;
                   }),
                   "feature_size"});
  cases.push_back({"distortion_in_tflite",
                   with([](Attrs& a) { a.distortion_probability = 0.25; }),
                   "distortion_probability"});
  cases.push_back({"distortion_nan",
                   with([](Attrs& a) { a.distortion_probability = std::nan(""); }),
                   "distortion_probability"});
  cases.push_back({"missing", "", "custom options are missing"});
  cases.push_back({"feature_size_absent",
                   OptionsWith([](flexbuffers::Builder& fbb) { fbb.Int("max_seq_len", 3); }),
                   "feature_size is required"});
  cases.push_back({"feature_size_string",
                   OptionsWith([](flexbuffers::Builder& fbb) { fbb.String("feature_size", "16"); }),
                   "feature_size must be an integer"});
  cases.push_back({"lowercase_string",
                   OptionsWith([](flexbuffers::Builder& fbb) {
                     fbb.Int("feature_size", 16);
                     fbb.String("lowercase", "yes");
                   }),
                   "lowercase must be a bool"});
  {
    flexbuffers::Builder fbb;
    fbb.Int(16);
    fbb.Finish();
    cases.push_back({"not_a_map", std::string(fbb.GetBuffer().begin(), fbb.GetBuffer().end()),
                     "not a flexbuffer map"});
  }
  cases.push_back({"garbage", std::string("\x01\x02\x03\xff\xff\xff\x7f", 7), "flexbuffer"});
  return cases;
}

TEST(InvalidOptionsFailInPrepareWithTheAttributeName) {
  for (const OptionsCase& c : InvalidOptionsCases()) {
    auto rt = ProjectionNode(c.options);
    CHECK_EQ_CTX(rt->Prepare(), kTfLiteError, c.name);
    CHECK_CTX(rt->last_error().find(c.message) != std::string::npos,
              std::string(c.name) + ": got \"" + rt->last_error() + "\"");
  }
}

TEST(TruncatedAndFlippedOptionsNeverCrash) {
  Attrs attrs;
  attrs.feature_size = 32;
  attrs.add_bos_tag = true;
  const std::string good = Options(attrs);
  for (size_t n = 0; n < good.size(); ++n) {
    auto rt = ProjectionNode(good.substr(0, n));
    CHECK_EQ_CTX(rt->Prepare(), kTfLiteError, "options prefix of " + std::to_string(n));
  }
  pqrnn::Rng rng(7);
  int accepted = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string b = good;
    b[rng.Next() % b.size()] = static_cast<char>(rng.Next() & 0xFF);
    auto rt = ProjectionNode(b);
    if (rt->Prepare() == kTfLiteOk) {
      ++accepted;  // A flip the verifier cannot see (e.g. in a value): runs.
      CHECK_EQ(EvalWith(rt.get(), 2, StringBuffer({"hello world", "x"})), kTfLiteOk);
    } else {
      CHECK(!rt->last_error().empty());
    }
  }
  CHECK(accepted < 2000);
}

// ---------------------------------------------------------------------------
// Graph shape problems: reported by Prepare.

TEST(PrepareRejectsBadTensorsAndNodes) {
  const std::string options = Options(Attrs());
  {
    auto rt = ProjectionNode(options);
    rt->SetTensor(0, kTfLiteInt32, {1}, "ints");
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("must be a string tensor") != std::string::npos);
  }
  {
    auto rt = ProjectionNode(options);
    rt->SetTensor(0, kTfLiteString, {1, 2}, "matrix");
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("rank 2") != std::string::npos);
  }
  {
    auto rt = ProjectionNode(options);
    rt->SetTensor(0, kTfLiteString, {}, "scalar");
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("rank 0") != std::string::npos);
  }
  {
    auto rt = ProjectionNode(options);
    rt->SetTensor(1, kTfLiteInt32, {1, 1, 16}, "projection");
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("outputs must be float32") != std::string::npos);
  }
  {
    auto rt = ProjectionNode(options);
    rt->SetNode({0, 0}, {1, 2});
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("expected 1 input(s) and 2 output(s)") != std::string::npos);
  }
  {
    auto rt = ProjectionNode(options);
    rt->SetNode({7}, {1, 2});
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("out of range") != std::string::npos);
  }
  {
    auto rt = ProjectionNode(options);
    rt->SetNode({-1}, {1, 2});  // An optional (absent) input.
    CHECK_EQ(rt->Prepare(), kTfLiteError);
    CHECK(rt->last_error().find("out of range") != std::string::npos);
  }
}

}  // namespace
