// ai.aquant QLinearGemm-1: the fused integer form of DequantizeLinear -> Gemm / MatMul ->
// QuantizeLinear that engine::fuse_qdq() writes (include/aquant/engine/qdq_fusion.h).
//   inputs   a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point,
//            bias (optional)
//   attribute transB (0 or 1, default 0)
// a: uint8/int8 of any rank >= 1, read as [rows, K] (every dim but the last flattened, as MatMul
// with a 2-D b); b: uint8/int8 2-D [K, N] ([N, K] when transB = 1) with a per-tensor or per-column
// scale and zero point; bias: int32 [N] in units of a_scale * b_scale[j]; y [.., N] of
// y_zero_point's type:
//   y = saturate(round_half_even(float(bias[j] + sum_k (a - a_zp) * (b - b_zp[j])) * M[j]) + y_zp)
//   M[j] = (a_scale * b_scale[j]) / y_scale in float32
// i.e. QLinearMatMul plus an int32 bias, requantized as ONNX Runtime's com.microsoft.QGemm and
// QLinearMatMul do. b is packed once at build time when constant.
#include "aquant/engine/kernel_registry.h"
#include "qmatmul_kernel.h"

namespace aquant::engine {

void register_qlinear_gemm(KernelRegistry& registry) {
    registry.add("QLinearGemm", make_qlinear_gemm, "ai.aquant");
}

}  // namespace aquant::engine
