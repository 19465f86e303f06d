// Internal: the vectorisable QuantizeLinear rounding shared by the fast paths and the estimators.
#pragma once

namespace aquant::quant::detail {

// Adding and subtracting 1.5 * 2^23 rounds a float with |v| <= 2^22 to an integer, ties to
// even, under FE_TONEAREST: the same result as std::nearbyint, but it vectorises without
// SSE4.1. Clamping to [q_min - z, q_max - z] first keeps |v| small; the bounds are integers, so
// clamp-then-round equals round-then-clamp.
constexpr float kRoundMagic = 12582912.0f;

/// round_half_even(clamp(x / scale, lo, hi)) = q - zero_point, with lo = q_min - zero_point and
/// hi = q_max - zero_point; NaN gives lo (as quantize_value).
inline float round_clamped(float x, float scale, float lo, float hi) {
    float v = x / scale;
    v = v > lo ? v : lo;
    v = v < hi ? v : hi;
    return (v + kRoundMagic) - kRoundMagic;
}

}  // namespace aquant::quant::detail
