// The part of the TFLite C kernel ABI that pqrnn's custom ops use.
//
// No pip or Debian package on our build machines ships TFLite's C headers,
// so we declare the few structs a custom op touches ourselves. These
// declarations must match, byte for byte, the runtime we load into:
// TensorFlow 2.21 / ai-edge-litert 2.3 (the structs of
// tensorflow/lite/core/c/common.h built without TF_LITE_STATIC_MEMORY, on
// LP64 Linux). Written from upstream's common.h of a later revision, whose
// layout of these structs is the same (upstream appends, never reorders),
// and checked against the installed 2.21 binaries (see 3. below).
// Fields we never touch are opaque padding of the same size and alignment,
// so every offset below is the runtime's.
//
// Three layers of defence against drift:
//   1. static_asserts here pin sizeof and offsetof of every field we use.
//   2. PQRNN_TfLiteAbiLayout() (tflite_kernel.cc) reports them at run time.
//   3. tests/test_tflite_abi.py checks them against the runtimes themselves:
//      libtensorflow_cc's TfLiteTensorReset() fills a tensor that we read
//      back through our offsets; the test-only op "PQRNN>AbiProbe" reads its
//      tensors and node through this header inside the ai-edge-litert
//      interpreter, and reads its registration back from the resolver
//      (MutableOpResolver::FindOp); the test compares all of it with what
//      the interpreter reports through its own API.
// If a TFLite upgrade breaks any of them, update this file from that
// version's common.h; do not relax the checks.
#ifndef PQRNN_TFLITE_OPS_TFLITE_ABI_H_
#define PQRNN_TFLITE_OPS_TFLITE_ABI_H_

#include <cstddef>
#include <cstdint>

static_assert(sizeof(void*) == 8 && sizeof(size_t) == 8 && sizeof(int) == 4,
              "tflite_abi.h describes the LP64 layout only");

extern "C" {

// Status codes returned by kernel callbacks. Only the first two matter to a
// kernel; the runtime defines more (delegate errors, cancellation...).
typedef enum TfLiteStatus : int {
  kTfLiteOk = 0,
  kTfLiteError = 1,
} TfLiteStatus;

// Element types. The numbering is part of the model format (schema.fbs
// TensorType maps onto it) and has never been renumbered; we name only the
// ones our kernels and the ABI probe handle.
typedef enum TfLiteType : int {
  kTfLiteNoType = 0,
  kTfLiteFloat32 = 1,
  kTfLiteInt32 = 2,
  kTfLiteInt64 = 4,
  kTfLiteString = 5,
} TfLiteType;

// How a tensor's buffer is owned. kTfLiteDynamic means "allocated by
// ResizeTensor during Eval", which is what outputs with data-dependent
// shapes need.
typedef enum TfLiteAllocationType : int {
  kTfLiteMemNone = 0,
  kTfLiteMmapRo = 1,
  kTfLiteArenaRw = 2,
  kTfLiteArenaRwPersistent = 3,
  kTfLiteDynamic = 4,
} TfLiteAllocationType;

// A length-prefixed int array (shapes, tensor index lists). Heap copies are
// malloc'd as one block of sizeof(int) * (1 + size) bytes; the runtime frees
// arrays handed to ResizeTensor with free().
typedef struct TfLiteIntArray {
  int size;
  int data[];  // Flexible array member, as in the runtime's C declaration.
} TfLiteIntArray;

// A tensor as the interpreter stores it in TfLiteContext::tensors (an array,
// so sizeof must match exactly or every tensor after the first is misread).
typedef struct TfLiteTensor {
  TfLiteType type;
  // The runtime declares a union of typed pointers; all members alias.
  union {
    void* data;
    char* raw;
    const char* raw_const;
    float* f;
    int32_t* i32;
    int64_t* i64;
  } data;
  TfLiteIntArray* dims;
  char opaque_params[8];  // TfLiteQuantizationParams {float scale; int32 zero_point;}
  TfLiteAllocationType allocation_type;
  size_t bytes;
  const void* allocation;
  const char* name;
  // delegate* (64), buffer_handle (72), data_is_stale (76), is_variable (77),
  // quantization {type; params*} (80), sparsity* (96), dims_signature* (104):
  // 48 bytes we never touch.
  alignas(8) char opaque_tail[48];
} TfLiteTensor;

// One node (op instance) of the graph.
typedef struct TfLiteNode {
  TfLiteIntArray* inputs;
  TfLiteIntArray* outputs;
  TfLiteIntArray* intermediates;
  TfLiteIntArray* temporaries;
  void* user_data;           // What our init() returned.
  void* builtin_data;        // Null for custom ops.
  const void* custom_initial_data;  // The op's custom_options bytes.
  int custom_initial_data_size;
  // delegate* (64), might_have_side_effect (72).
  alignas(8) char opaque_tail[16];
} TfLiteNode;

// The interpreter's per-subgraph context. It is always runtime-owned: we only
// ever read it through a pointer, so only the prefix up to the last member we
// use is declared (the runtime's struct has ~20 more function pointers after
// it; GetTensor and ResizeTensorExplicit among them are NULL in the TFLite
// interpreter, and GetExecutionPlan and GetNodeAndRegistration are forbidden
// outside delegates).
typedef struct TfLiteContext {
  size_t tensors_size;
  void* opaque_get_execution_plan;
  TfLiteTensor* tensors;  // tensors_size of them, indexed by node->inputs etc.
  void* impl_;
  // Takes ownership of new_size (a malloc'd TfLiteIntArray); for a
  // kTfLiteDynamic tensor it also (re)allocates the buffer.
  TfLiteStatus (*ResizeTensor)(struct TfLiteContext* context,
                               TfLiteTensor* tensor, TfLiteIntArray* new_size);
  void (*ReportError)(struct TfLiteContext* context, const char* format, ...)
      __attribute__((format(printf, 2, 3)));
} TfLiteContext;

// The kernel's entry points. The resolver copies it (sizeof bytes) and fills
// in builtin_code, custom_name and version itself (only the ABI probe reads
// those back).
typedef struct TfLiteRegistration {
  void* (*init)(TfLiteContext* context, const char* buffer, size_t length);
  void (*free)(TfLiteContext* context, void* buffer);
  TfLiteStatus (*prepare)(TfLiteContext* context, TfLiteNode* node);
  TfLiteStatus (*invoke)(TfLiteContext* context, TfLiteNode* node);
  void* profiling_string;
  int32_t builtin_code;  // 32 (BuiltinOperator_CUSTOM) for custom ops.
  const char* custom_name;
  int version;
  // registration_external* (64), async_kernel* (72), inplace_operator
  // (uint64, 80).
  alignas(8) char opaque_tail[24];
} TfLiteRegistration;

}  // extern "C"

namespace tflite {

// The resolver handed to custom-op registerers. We only call AddCustom, a
// non-virtual member exported by libtensorflow_cc.so.2 as
// _ZN6tflite17MutableOpResolver9AddCustomEPKcPK18TfLiteRegistrationi (the
// linker binds it there). The object itself is created and owned by the
// interpreter, so its layout is never needed here.
class MutableOpResolver {
 public:
  void AddCustom(const char* name, const TfLiteRegistration* registration,
                 int version = 1);

 private:
  MutableOpResolver() = delete;
};

}  // namespace tflite

// --- Layout pins (TFLite 2.21, LP64) ------------------------------------
#define PQRNN_ABI_OFFSET(type, field, value) \
  static_assert(offsetof(type, field) == (value), #type "." #field " moved")

static_assert(sizeof(TfLiteStatus) == 4 && sizeof(TfLiteType) == 4 &&
                  sizeof(TfLiteAllocationType) == 4,
              "TFLite enums are int-sized");

static_assert(sizeof(TfLiteIntArray) == 4, "TfLiteIntArray size");
PQRNN_ABI_OFFSET(TfLiteIntArray, size, 0);
PQRNN_ABI_OFFSET(TfLiteIntArray, data, 4);

static_assert(sizeof(TfLiteTensor) == 112, "TfLiteTensor size");
static_assert(alignof(TfLiteTensor) == 8, "TfLiteTensor alignment");
PQRNN_ABI_OFFSET(TfLiteTensor, type, 0);
PQRNN_ABI_OFFSET(TfLiteTensor, data, 8);
PQRNN_ABI_OFFSET(TfLiteTensor, dims, 16);
PQRNN_ABI_OFFSET(TfLiteTensor, opaque_params, 24);
PQRNN_ABI_OFFSET(TfLiteTensor, allocation_type, 32);
PQRNN_ABI_OFFSET(TfLiteTensor, bytes, 40);
PQRNN_ABI_OFFSET(TfLiteTensor, allocation, 48);
PQRNN_ABI_OFFSET(TfLiteTensor, name, 56);
PQRNN_ABI_OFFSET(TfLiteTensor, opaque_tail, 64);

static_assert(sizeof(TfLiteNode) == 80, "TfLiteNode size");
PQRNN_ABI_OFFSET(TfLiteNode, inputs, 0);
PQRNN_ABI_OFFSET(TfLiteNode, outputs, 8);
PQRNN_ABI_OFFSET(TfLiteNode, intermediates, 16);
PQRNN_ABI_OFFSET(TfLiteNode, temporaries, 24);
PQRNN_ABI_OFFSET(TfLiteNode, user_data, 32);
PQRNN_ABI_OFFSET(TfLiteNode, builtin_data, 40);
PQRNN_ABI_OFFSET(TfLiteNode, custom_initial_data, 48);
PQRNN_ABI_OFFSET(TfLiteNode, custom_initial_data_size, 56);
PQRNN_ABI_OFFSET(TfLiteNode, opaque_tail, 64);

static_assert(sizeof(TfLiteContext) == 48,
              "TfLiteContext prefix (runtime-owned; 200 bytes in full)");
PQRNN_ABI_OFFSET(TfLiteContext, tensors_size, 0);
PQRNN_ABI_OFFSET(TfLiteContext, tensors, 16);
PQRNN_ABI_OFFSET(TfLiteContext, impl_, 24);
PQRNN_ABI_OFFSET(TfLiteContext, ResizeTensor, 32);
PQRNN_ABI_OFFSET(TfLiteContext, ReportError, 40);

static_assert(sizeof(TfLiteRegistration) == 88, "TfLiteRegistration size");
PQRNN_ABI_OFFSET(TfLiteRegistration, init, 0);
PQRNN_ABI_OFFSET(TfLiteRegistration, free, 8);
PQRNN_ABI_OFFSET(TfLiteRegistration, prepare, 16);
PQRNN_ABI_OFFSET(TfLiteRegistration, invoke, 24);
PQRNN_ABI_OFFSET(TfLiteRegistration, builtin_code, 40);
PQRNN_ABI_OFFSET(TfLiteRegistration, custom_name, 48);
PQRNN_ABI_OFFSET(TfLiteRegistration, version, 56);
PQRNN_ABI_OFFSET(TfLiteRegistration, opaque_tail, 64);

#undef PQRNN_ABI_OFFSET

#endif  // PQRNN_TFLITE_OPS_TFLITE_ABI_H_
