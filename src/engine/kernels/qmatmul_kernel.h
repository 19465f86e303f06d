// Factories of the integer matrix-product kernels (qmatmul_kernel.cpp).
#pragma once

#include "aquant/engine/kernel.h"

namespace aquant::engine {

/// ONNX QLinearMatMul-10.
KernelPtr make_qlinear_matmul(const KernelBuildInfo& info);
/// ONNX MatMulInteger-10.
KernelPtr make_matmul_integer(const KernelBuildInfo& info);
/// ai.aquant QLinearGemm-1 (qlinear_gemm.cpp).
KernelPtr make_qlinear_gemm(const KernelBuildInfo& info);

}  // namespace aquant::engine
