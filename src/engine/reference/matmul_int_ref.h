// Scalar reference integer matrix product in the style of ruy's ReferenceMul: one triple loop,
// one template over LhsScalar, RhsScalar, AccumScalar, DstScalar, that subtracts the zero
// points, accumulates in AccumScalar, adds the bias and applies the output stage of
// requantize_int_ref.h. The oracle of the QLinearMatMul, MatMulInteger and QLinearGemm kernels
// and of the integer GEMM under QLinearConv / ConvInteger (tests/engine/*int*_test.cpp).
// Not written for speed.
#pragma once

#include <cstdint>
#include <vector>

#include "requantize_int_ref.h"

namespace aquant::engine::ref {

/// dst[r][c] = out(bias[ch] + sum_k (lhs[r][k] - lhs_zp[r]) * (rhs[k][c] - rhs_zp[c])), with ch = r
/// or c (params.channel_axis). lhs is rows x depth, rhs depth x cols, dst rows x cols, all
/// row-major. Zero-point vectors hold one value (per tensor) or one per row / column.
template <typename LhsScalar, typename RhsScalar, typename AccumScalar, typename DstScalar>
std::vector<DstScalar> matmul_int_ref(const std::vector<LhsScalar>& lhs,
                                      const std::vector<std::int32_t>& lhs_zero_point,
                                      const std::vector<RhsScalar>& rhs,
                                      const std::vector<std::int32_t>& rhs_zero_point,
                                      std::int64_t rows, std::int64_t depth, std::int64_t cols,
                                      const IntMulParams<AccumScalar>& params) {
    std::vector<DstScalar> dst(static_cast<std::size_t>(rows * cols));
    auto at = [](const std::vector<std::int32_t>& v, std::int64_t i) {
        return v.empty() ? 0 : v[v.size() == 1 ? 0 : static_cast<std::size_t>(i)];
    };
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t c = 0; c < cols; ++c) {
            const std::int64_t ch = params.channel_axis == ChannelAxis::kRow ? r : c;
            AccumScalar acc = params.bias_at(ch);
            for (std::int64_t k = 0; k < depth; ++k) {
                const AccumScalar l = static_cast<AccumScalar>(
                    lhs[static_cast<std::size_t>(r * depth + k)] - at(lhs_zero_point, r));
                const AccumScalar h = static_cast<AccumScalar>(
                    rhs[static_cast<std::size_t>(k * cols + c)] - at(rhs_zero_point, c));
                acc += l * h;
            }
            float multiplier = 1.0f;
            if constexpr (!std::is_same_v<DstScalar, AccumScalar>) {
                multiplier = params.multiplier_at(ch);
            }
            dst[static_cast<std::size_t>(r * cols + c)] =
                requantize_ref<AccumScalar, DstScalar>(acc, multiplier, params.dst_zero_point);
        }
    }
    return dst;
}

}  // namespace aquant::engine::ref
