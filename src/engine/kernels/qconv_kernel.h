// Factories of the integer convolution kernels (qconv_kernel.cpp).
#pragma once

#include "aquant/engine/kernel.h"

namespace aquant::engine {

/// ONNX QLinearConv-10: inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
/// y_zero_point, B (optional int32 [M]).
KernelPtr make_qlinear_conv(const KernelBuildInfo& info);

/// ONNX ConvInteger-10: inputs x, w, x_zero_point (optional), w_zero_point (optional); int32 out.
KernelPtr make_conv_integer(const KernelBuildInfo& info);

}  // namespace aquant::engine
