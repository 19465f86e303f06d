// Scalar reference Resize, structured as the ONNX reference implementation: an N-D output
// element is a 1-D interpolation along axis 0 of values that are themselves interpolated along
// the remaining axes (recursion), with edge padding for out-of-range taps. Coordinates are
// computed in float like ONNX Runtime; align_corners and tf_crop_and_resize divide by
// (scale * in - 1) as the ONNX reference does (fractional for scales that do not give whole
// sizes). Oracle for tests/engine/resize_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ref_util.h"

namespace aquant::engine::ref {

struct ResizeParams {
    std::string mode = "nearest";  // nearest, linear, cubic
    std::string coord = "half_pixel";
    std::string nearest_mode = "round_prefer_floor";  // or "legacy" for Resize-10/Upsample
    float cubic_a = -0.75f;
    bool exclude_outside = false;
    float extrapolation_value = 0.0f;
    std::vector<float> scales, roi_start, roi_end;  // per axis
    std::vector<float> resized;  // per axis: scale * in, or the size when sizes are given
    Shape out;
};

inline float resize_coord_ref(const ResizeParams& p, std::size_t axis, std::int64_t o,
                              std::int64_t in, std::int64_t out) {
    const float x = static_cast<float>(o), s = p.scales[axis];
    const float li = static_cast<float>(in);
    const float lr = p.resized[axis];
    if (p.coord == "asymmetric") return x / s;
    if (p.coord == "pytorch_half_pixel") return out > 1 ? (x + 0.5f) / s - 0.5f : 0.0f;
    if (p.coord == "tf_half_pixel_for_nn") return (x + 0.5f) / s;
    if (p.coord == "align_corners") return lr == 1 ? 0.0f : x * (li - 1) / (lr - 1);
    if (p.coord == "tf_crop_and_resize") {
        const float a = p.roi_start[axis], b = p.roi_end[axis];
        return lr > 1 ? a * (li - 1) + x * (b - a) * (li - 1) / (lr - 1) : 0.5f * (a + b) * (li - 1);
    }
    return (x + 0.5f) / s - 0.5f;  // half_pixel
}

/// Interpolates x (shape xs) at output index `yi`, axes [axis, rank). `base` addresses the
/// already-fixed leading axes. Sets *extrapolated when a crop coordinate falls outside.
template <typename T>
double resize_at_ref(const std::vector<T>& x, const Shape& xs, const ResizeParams& p,
                     const std::vector<std::int64_t>& yi, std::size_t axis, std::int64_t base,
                     bool* extrapolated) {
    if (axis == xs.size()) return static_cast<double>(x[static_cast<std::size_t>(base)]);
    const std::int64_t in = xs[axis];
    const float c = resize_coord_ref(p, axis, yi[axis], in, p.out[axis]);
    auto at = [&](std::int64_t i) {
        i = i < 0 ? 0 : (i >= in ? in - 1 : i);  // edge padding
        return resize_at_ref(x, xs, p, yi, axis + 1, base * in + i, extrapolated);
    };
    if (p.coord == "tf_crop_and_resize" && (c < 0 || c > static_cast<float>(in - 1))) {
        *extrapolated = true;
        return 0.0;
    }
    if (p.mode == "nearest") {
        std::int64_t i;
        const std::string& m = p.nearest_mode;
        if (m == "legacy") {
            i = p.scales[axis] < 1 ? static_cast<std::int64_t>(std::ceil(c))
                                   : static_cast<std::int64_t>(std::trunc(c));
        } else if (m == "floor") {
            i = static_cast<std::int64_t>(std::floor(c));
        } else if (m == "ceil") {
            i = static_cast<std::int64_t>(std::ceil(c));
        } else if (c - std::floor(c) == 0.5f) {
            i = static_cast<std::int64_t>(m == "round_prefer_ceil" ? std::ceil(c) : std::floor(c));
        } else {
            i = static_cast<std::int64_t>(std::round(c));
        }
        return at(i);
    }
    const double f = std::floor(c), t = c - f;
    const auto i0 = static_cast<std::int64_t>(f);
    if (p.mode == "linear") return at(i0) * (1 - t) + at(i0 + 1) * t;
    const double a = p.cubic_a;
    double w[4] = {((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
                   ((a + 2) * t - (a + 3)) * t * t + 1,
                   ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
                   ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a};
    if (p.exclude_outside) {
        double sum = 0;
        for (int k = 0; k < 4; ++k) {
            if (i0 - 1 + k < 0 || i0 - 1 + k >= in) w[k] = 0;
            sum += w[k];
        }
        for (double& v : w) v /= sum;
    }
    double acc = 0;
    for (int k = 0; k < 4; ++k) acc += w[k] * at(i0 - 1 + k);
    return acc;
}

template <typename T>
std::vector<T> resize_ref(const std::vector<T>& x, const Shape& xs, const ResizeParams& p) {
    std::vector<T> y(static_cast<std::size_t>(numel(p.out)));
    for (std::int64_t flat = 0; flat < numel(p.out); ++flat) {
        const auto yi = unravel(p.out, flat);
        bool extrapolated = false;
        const double v = resize_at_ref(x, xs, p, yi, 0, 0, &extrapolated);
        y[static_cast<std::size_t>(flat)] =
            extrapolated ? static_cast<T>(p.extrapolation_value) : static_cast<T>(v);
    }
    return y;
}

}  // namespace aquant::engine::ref
