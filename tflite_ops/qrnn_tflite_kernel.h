// TFLite registration of PQRNN>QRNNPooling (qrnn_tflite_kernel.cc), for the op
// table in tflite_kernel.cc.
#ifndef PQRNN_TFLITE_OPS_QRNN_TFLITE_KERNEL_H_
#define PQRNN_TFLITE_OPS_QRNN_TFLITE_KERNEL_H_

#include "tflite_ops/tflite_abi.h"

namespace pqrnn {

inline constexpr char kQrnnPoolingOpName[] = "PQRNN>QRNNPooling";

// The kernel's callbacks (builtin_code, custom_name and version are filled in
// by the resolver).
TfLiteRegistration QrnnPoolingRegistration();

}  // namespace pqrnn

#endif  // PQRNN_TFLITE_OPS_QRNN_TFLITE_KERNEL_H_
