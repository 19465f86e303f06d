// ONNX QLinearConv-10 (NCHW, 1-D to 3-D, groups): x uint8/int8 with a per-tensor scale and zero
// point, w uint8/int8 with a per-tensor or per-output-channel scale and zero point, optional
// int32 bias B [M], y uint8/int8 (y_zero_point's type) with a per-tensor scale and zero point:
//   acc[n, m, o] = B[m] + sum (x - x_zero_point) * (w - w_zero_point[m])    (exact int32)
//   y = saturate(round_half_even(float(acc) * M[m]) + y_zero_point),
//   M[m] = (x_scale * w_scale[m]) / y_scale in float32.
// Bit-exact with ONNX Runtime's CPU QLinearConv (ComputeOutputScale + MlasRequantizeOutput).
// Constant weights are packed once at build time (qconv.h).
#include "aquant/engine/kernel_registry.h"
#include "qconv_kernel.h"

namespace aquant::engine {

void register_qlinear_conv(KernelRegistry& registry) {
    registry.add("QLinearConv", make_qlinear_conv);
}

}  // namespace aquant::engine
