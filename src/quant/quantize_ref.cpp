// Scalar oracles: one element at a time, group found by index arithmetic (layout.h).
#include "quant/layout.h"

#include "aquant/quant/quantize.h"

namespace aquant::quant {

void quantize_ref(const float* x, const Dims& dims, const QuantParams& p, std::int32_t* q) {
    detail::check_params(p, dims);
    RoundToNearestGuard guard;
    const auto L = detail::make_layout(p.scheme, dims);
    const int lo = q_min(p.scheme);
    const int hi = q_max(p.scheme);
    for (std::int64_t i = 0; i < L.numel; ++i) {
        const auto g = static_cast<std::size_t>(L.group_of(i));
        q[i] = quantize_value(x[i], p.scale[g], p.zero_point[g], lo, hi);
    }
}

void dequantize_ref(const std::int32_t* q, const Dims& dims, const QuantParams& p, float* y) {
    detail::check_params(p, dims);
    const auto L = detail::make_layout(p.scheme, dims);
    for (std::int64_t i = 0; i < L.numel; ++i) {
        const auto g = static_cast<std::size_t>(L.group_of(i));
        y[i] = dequantize_value(q[i], p.scale[g], p.zero_point[g]);
    }
}

void fake_quantize_ref(const float* x, const Dims& dims, const QuantParams& p, float* y) {
    detail::check_params(p, dims);
    RoundToNearestGuard guard;
    const auto L = detail::make_layout(p.scheme, dims);
    const int lo = q_min(p.scheme);
    const int hi = q_max(p.scheme);
    for (std::int64_t i = 0; i < L.numel; ++i) {
        const auto g = static_cast<std::size_t>(L.group_of(i));
        const std::int32_t code = quantize_value(x[i], p.scale[g], p.zero_point[g], lo, hi);
        y[i] = dequantize_value(code, p.scale[g], p.zero_point[g]);
    }
}

}  // namespace aquant::quant
