// Scalar reference of the integer output stage shared by the integer oracles (matmul_int_ref.h,
// conv_int_ref.h). The contract, modelled on ruy's MulParams:
//   - AccumScalar is int32: products of (value - zero_point) terms and the bias are summed
//     exactly; callers keep depth * max|a| * max|b| + |bias| below 2^31.
//   - DstScalar == AccumScalar: the accumulator is the output (ConvInteger, MatMulInteger).
//   - DstScalar uint8 / int8: requantization as ONNX Runtime's MlasRequantizeOutput,
//       y = saturate(round_half_even(float(acc) * multiplier) + dst_zero_point)
//     with float(acc) the float32 conversion of the int32 sum (bias included) and multiplier a
//     float32 computed by the caller as (a_scale * b_scale[ch]) / y_scale. Bit-exact with ONNX
//     Runtime's QLinearConv / QLinearMatMul CPU kernels for that multiplier.
// Written for clarity (std::nearbyint under FE_TONEAREST, clamp after rounding); the fast
// kernels round by the magic-number trick and clamp before rounding, which is equivalent.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "aquant/quant/quantize.h"

namespace aquant::engine::ref {

enum class ChannelAxis { kRow, kCol };

/// Per-channel parameters of the output stage (ruy MulParams). `bias` and `multiplier` hold one
/// value per channel, or a single value applied to all; bias may be empty.
template <typename AccumScalar>
struct IntMulParams {
    std::vector<AccumScalar> bias;
    std::vector<float> multiplier;  // ignored when DstScalar == AccumScalar
    ChannelAxis channel_axis = ChannelAxis::kRow;
    std::int32_t dst_zero_point = 0;

    AccumScalar bias_at(std::int64_t ch) const {
        if (bias.empty()) return 0;
        return bias[bias.size() == 1 ? 0 : static_cast<std::size_t>(ch)];
    }
    float multiplier_at(std::int64_t ch) const {
        return multiplier[multiplier.size() == 1 ? 0 : static_cast<std::size_t>(ch)];
    }
};

template <typename AccumScalar, typename DstScalar>
DstScalar requantize_ref(AccumScalar acc, float multiplier, std::int32_t dst_zero_point) {
    static_assert(std::is_same_v<AccumScalar, std::int32_t>, "the accumulator is int32");
    if constexpr (std::is_same_v<DstScalar, AccumScalar>) {
        return acc;
    } else {
        quant::RoundToNearestGuard guard;
        const float scaled = static_cast<float>(acc) * multiplier;
        double q = static_cast<double>(std::nearbyint(scaled)) + dst_zero_point;
        const double lo = std::numeric_limits<DstScalar>::min();
        const double hi = std::numeric_limits<DstScalar>::max();
        q = q < lo ? lo : (q > hi ? hi : q);
        return static_cast<DstScalar>(q);
    }
}

/// (a_scale * b_scale) / y_scale in float32, in ONNX Runtime's order of operations.
inline float requant_multiplier(float a_scale, float b_scale, float y_scale) {
    return a_scale * b_scale / y_scale;
}

}  // namespace aquant::engine::ref
