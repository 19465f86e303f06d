// Scalar reference integer convolution (NCHW, any spatial rank, groups), straight from the ONNX
// QLinearConv / ConvInteger definitions: padding reads the input zero point, every tap adds
// (x - x_zero_point) * (w - w_zero_point[m]) to an AccumScalar accumulator that starts at the
// bias, and the output stage is requantize_int_ref.h (channel = output channel m). The oracle
// of the QLinearConv, ConvInteger and fused-conv kernels (tests/engine/*int*_test.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "conv_ref.h"
#include "requantize_int_ref.h"

namespace aquant::engine::ref {

/// y[n, m, o...] for x [N, C, in...], w [M, C/group, k...]; w_zero_point holds one value or one
/// per output channel. Sets y_shape.
template <typename XScalar, typename WScalar, typename AccumScalar, typename DstScalar>
std::vector<DstScalar> conv_int_ref(const std::vector<XScalar>& x, const Shape& xs,
                                    std::int32_t x_zero_point, const std::vector<WScalar>& w,
                                    const Shape& ws, const std::vector<std::int32_t>& w_zero_point,
                                    const WindowParams& p, const IntMulParams<AccumScalar>& params,
                                    Shape* y_shape) {
    const std::size_t r = xs.size() - 2;
    const std::int64_t m = ws[0], cg = ws[1], mg = m / p.group;
    Shape ys{xs[0], m};
    const Shape ks(ws.begin() + 2, ws.end());
    for (std::size_t i = 0; i < r; ++i) {
        const std::int64_t keff = (ks[i] - 1) * p.dilations[i] + 1;
        ys.push_back((xs[2 + i] + p.pads_begin[i] + p.pads_end[i] - keff) / p.strides[i] + 1);
    }
    *y_shape = ys;
    std::vector<DstScalar> y(static_cast<std::size_t>(numel(ys)));
    std::vector<std::int64_t> k(r), xi(r + 2), wi(r + 2);
    for (std::size_t flat = 0; flat < y.size(); ++flat) {
        const std::vector<std::int64_t> yi = unravel(ys, static_cast<std::int64_t>(flat));
        const std::int64_t oc = yi[1], grp = oc / mg;
        const std::int32_t wz = w_zero_point[w_zero_point.size() == 1 ? 0 : oc];
        AccumScalar acc = params.bias_at(oc);
        for (std::int64_t ic = 0; ic < cg; ++ic) {
            std::fill(k.begin(), k.end(), 0);
            do {
                bool inside = true;
                xi[0] = yi[0];
                xi[1] = grp * cg + ic;
                wi[0] = oc;
                wi[1] = ic;
                for (std::size_t i = 0; i < r; ++i) {
                    const std::int64_t pos =
                        yi[2 + i] * p.strides[i] + k[i] * p.dilations[i] - p.pads_begin[i];
                    inside = inside && pos >= 0 && pos < xs[2 + i];
                    xi[2 + i] = pos;
                    wi[2 + i] = k[i];
                }
                const std::int32_t xv =
                    inside ? static_cast<std::int32_t>(x[static_cast<std::size_t>(offset(xs, xi))])
                           : x_zero_point;
                const std::int32_t wv = w[static_cast<std::size_t>(offset(ws, wi))];
                acc += static_cast<AccumScalar>(xv - x_zero_point) *
                       static_cast<AccumScalar>(wv - wz);
            } while (next_index(ks, k));
        }
        float multiplier = 1.0f;
        if constexpr (!std::is_same_v<DstScalar, AccumScalar>) multiplier = params.multiplier_at(oc);
        y[flat] = requantize_ref<AccumScalar, DstScalar>(acc, multiplier, params.dst_zero_point);
    }
    return y;
}

}  // namespace aquant::engine::ref
