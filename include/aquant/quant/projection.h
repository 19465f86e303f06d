// Low-bit projections with exact least-squares solutions (ALGORITHMS.md 4.2(a) and 3.2), per
// tensor (axis = nullopt) or per channel along `axis` (negative counts from the back). Codes
// are dense int8 in the layout of w (row-major, shape dims); alpha has one entry per group.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/quant/range.h"
#include "aquant/quant/scheme.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace aquant::quant {

struct Projection {
    std::vector<std::int8_t> codes;
    std::vector<float> alpha;        // > 0; w_hat = alpha[group] * code
    std::vector<std::int64_t> kept;  // nonzero codes per group
    QuantScheme scheme;              // restricted INT2 scheme (per tensor or per channel)

    /// The codes as ONNX-exportable QDQ parameters: scale = alpha, zero_point = 0.
    QuantParams params(const Dims& dims) const;
    /// alpha[group] * code for every element.
    std::vector<float> dequantize(const Dims& dims) const;
};

/// Binary {-alpha, +alpha}: code = sign(w) (0 -> +1), alpha = mean |w| per group, the MSE
/// optimum for those codes. A group that is all 0 gets codes 0 and alpha 1 (exact, and a valid
/// ONNX scale). Scheme: signed 2-bit, symmetric (codes -1 and +1 of INT2).
Projection project_binary(const float* w, const Dims& dims, std::optional<int> axis);

/// Ternary {-alpha, 0, +alpha}, MSE-optimal: with |w| sorted decreasingly (a_1 >= a_2 >= ...,
/// ties by index) and S_k = a_1 + ... + a_k, keep the top k* = argmax_k S_k^2 / k (smallest k on
/// ties) with code sign(w) and alpha = S_k* / k*; the squared error is ||w||^2 - S_k*^2 / k*.
/// All-zero groups get codes 0 and alpha 1. Scheme: signed 2-bit, symmetric, narrow range.
Projection project_ternary(const float* w, const Dims& dims, std::optional<int> axis);

/// "Dual" (multiple low-precision) tensors, W ~= s1 Q1 + s2 Q2 (ALGORITHMS.md 3.2): Q1 with
/// params from `first` on W, then Q2 with params from `second` on the residual R = W - dq(Q1),
/// both under `scheme` (usually per channel, b bits). Codes are int32 in the layout of W.
struct DualQuant {
    QuantParams first;
    QuantParams second;
    std::vector<std::int32_t> first_codes;
    std::vector<std::int32_t> second_codes;

    /// dq(Q1) + dq(Q2), each dequantized in float32 as DequantizeLinear does, then added.
    std::vector<float> dequantize(const Dims& dims) const;
};

DualQuant quantize_dual(const float* w, const Dims& dims, const QuantScheme& scheme,
                        const RangeEstimator& first, const RangeEstimator& second,
                        const RangeOptions& opt = {});

/// Minimum-MSE dual tensors: per group, the better of first = minmax and first = mmse (second =
/// mmse in both). Clipping Q1 (mmse) leaves the clipped tail in the residual, which Q2 then
/// covers badly, so min/max for Q1 usually wins from 3 bits up. Measured per channel on 64 x 256
/// Gaussian weights, NMSE: 4-bit mmse+mmse 3.5e-4, minmax+mmse 6.6e-5, single 8-bit 4.5e-5;
/// at 2 bits mmse+mmse wins (0.035 vs 0.073).
DualQuant quantize_dual_mmse(const float* w, const Dims& dims, const QuantScheme& scheme,
                             const RangeOptions& opt = {});

}  // namespace aquant::quant
