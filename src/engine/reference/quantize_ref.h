// Scalar reference QuantizeLinear / DequantizeLinear on unpacked integer values (INT4 is storage;
// packing is checked separately). The scale element of x[idx] is found from the multi-index:
// per tensor (scale has one element), per axis (scale[idx[axis]]) or blocked
// (scale[idx with idx[axis] / block_size]). Oracles for tests/engine/quantize_linear_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "ref_util.h"

namespace aquant::engine::ref {

inline std::int64_t quant_scale_index_ref(const Shape& xs, const Shape& ss, std::int64_t axis,
                                          std::int64_t block_size, std::int64_t flat) {
    if (numel(ss) == 1 && block_size == 0) return 0;
    auto idx = unravel(xs, flat);
    if (block_size == 0) return idx[static_cast<std::size_t>(axis)];
    idx[static_cast<std::size_t>(axis)] /= block_size;
    return offset(ss, idx);
}

/// Round half to even of x / scale, plus zero point, saturated to [lo, hi].
inline std::vector<std::int64_t> quantize_ref(const std::vector<float>& x, const Shape& xs,
                                              const std::vector<float>& scale, const Shape& ss,
                                              const std::vector<std::int64_t>& zero_point,
                                              std::int64_t axis, std::int64_t block_size,
                                              std::int64_t lo, std::int64_t hi) {
    std::vector<std::int64_t> q(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const auto s = static_cast<std::size_t>(
            quant_scale_index_ref(xs, ss, axis, block_size, static_cast<std::int64_t>(i)));
        const float r = x[i] / scale[s];
        // Round half to even, written out rather than relying on the FP environment.
        double f = std::floor(static_cast<double>(r));
        const double frac = static_cast<double>(r) - f;
        if (frac > 0.5 || (frac == 0.5 && std::fmod(f, 2.0) != 0.0)) f += 1.0;
        const double v = f + static_cast<double>(zero_point.empty() ? 0 : zero_point[s]);
        q[i] = static_cast<std::int64_t>(v < lo ? lo : (v > hi ? hi : v));
    }
    return q;
}

/// (q - zero_point) * scale.
inline std::vector<float> dequantize_ref(const std::vector<std::int64_t>& q, const Shape& xs,
                                         const std::vector<float>& scale, const Shape& ss,
                                         const std::vector<std::int64_t>& zero_point,
                                         std::int64_t axis, std::int64_t block_size) {
    std::vector<float> y(q.size());
    for (std::size_t i = 0; i < q.size(); ++i) {
        const auto s = static_cast<std::size_t>(
            quant_scale_index_ref(xs, ss, axis, block_size, static_cast<std::int64_t>(i)));
        y[i] = static_cast<float>(q[i] - (zero_point.empty() ? 0 : zero_point[s])) * scale[s];
    }
    return y;
}

}  // namespace aquant::engine::ref
