// ONNX ConvInteger-10 (NCHW, 1-D to 3-D, groups): x, w uint8/int8, x_zero_point per tensor,
// w_zero_point per tensor or per output channel (both optional, default 0):
//   y[n, m, o] = sum (x - x_zero_point) * (w - w_zero_point[m])    (int32, exact)
// Padding reads x_zero_point, i.e. contributes 0. Shares the QLinearConv machinery (qconv.h).
#include "aquant/engine/kernel_registry.h"
#include "qconv_kernel.h"

namespace aquant::engine {

void register_conv_integer(KernelRegistry& registry) {
    registry.add("ConvInteger", make_conv_integer);
}

}  // namespace aquant::engine
