// ONNX QLinearMatMul-10 (numpy matmul shapes): a uint8/int8 with a per-tensor scale and zero
// point, b uint8/int8 with a per-tensor or per-column (1-D [N]) scale and zero point, y
// uint8/int8 (y_zero_point's type) with a per-tensor scale and zero point:
//   acc[.., i, j] = sum_k (a[.., i, k] - a_zero_point) * (b[.., k, j] - b_zero_point[j])
//   y = saturate(round_half_even(float(acc) * M[j]) + y_zero_point),
//   M[j] = (a_scale * b_scale[j]) / y_scale in float32.
// Bit-exact with ONNX Runtime's CPU QLinearMatMul (same multiplier, MlasRequantizeOutput).
// Per-row a_scale / y_scale, which the operator text also permits, are rejected (as ONNX Runtime
// does). A constant 2-D b is packed once at build time (qmatmul.h).
#include "aquant/engine/kernel_registry.h"
#include "qmatmul_kernel.h"

namespace aquant::engine {

void register_qlinear_matmul(KernelRegistry& registry) {
    registry.add("QLinearMatMul", make_qlinear_matmul);
}

}  // namespace aquant::engine
