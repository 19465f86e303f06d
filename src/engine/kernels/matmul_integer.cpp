// ONNX MatMulInteger-10 (numpy matmul shapes): A, B uint8/int8 (independently), a_zero_point per
// tensor or per row of A ([M] values), b_zero_point per tensor or per column of B ([N] values),
// both optional (default 0):
//   y[.., i, j] = sum_k (A[.., i, k] - a_zero_point[i]) * (B[.., k, j] - b_zero_point[j])  (int32)
// A constant 2-D B is packed once at build time (qmatmul.h).
#include "aquant/engine/kernel_registry.h"
#include "qmatmul_kernel.h"

namespace aquant::engine {

void register_matmul_integer(KernelRegistry& registry) {
    registry.add("MatMulInteger", make_matmul_integer);
}

}  // namespace aquant::engine
