// Scalar reference MaxPool and AveragePool (NCHW, any spatial rank) with explicit pads and the
// output size given by the caller (so ceil_mode and auto_pad are decided outside the oracle).
// Oracles for tests/engine/max_pool_test.cpp and average_pool_test.cpp.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "ref_util.h"

namespace aquant::engine::ref {

struct PoolParams {
    Shape kernel, strides, dilations, pads_begin, pads_end, out;  // per spatial axis
    bool count_include_pad = false;
};

/// For each output position, visits the window taps: fn(in_bounds, in_padded, x_offset).
template <typename Fn>
void for_each_tap(const Shape& xs, const PoolParams& p, const std::vector<std::int64_t>& yi,
                  Fn fn) {
    const std::size_t r = p.kernel.size();
    std::vector<std::int64_t> k(r, 0), xi(r + 2);
    xi[0] = yi[0];
    xi[1] = yi[1];
    do {
        bool in = true, padded = true;
        for (std::size_t i = 0; i < r; ++i) {
            const std::int64_t pos = yi[2 + i] * p.strides[i] + k[i] * p.dilations[i] -
                                     p.pads_begin[i];
            in = in && pos >= 0 && pos < xs[2 + i];
            padded = padded && pos >= -p.pads_begin[i] && pos < xs[2 + i] + p.pads_end[i];
            xi[2 + i] = pos;
        }
        fn(in, padded, in ? offset(xs, xi) : -1);
    } while (next_index(p.kernel, k));
}

/// Max over the taps inside the input; `indices` (optional) gets the flat row-major index into x
/// of the first maximum.
template <typename T>
std::vector<T> max_pool_ref(const std::vector<T>& x, const Shape& xs, const PoolParams& p,
                            std::vector<std::int64_t>* indices) {
    Shape ys{xs[0], xs[1]};
    ys.insert(ys.end(), p.out.begin(), p.out.end());
    std::vector<T> y(static_cast<std::size_t>(numel(ys)));
    if (indices) indices->assign(y.size(), -1);
    for (std::int64_t flat = 0; flat < numel(ys); ++flat) {
        const auto yi = unravel(ys, flat);
        T best = std::numeric_limits<T>::lowest();
        std::int64_t at = -1;
        for_each_tap(xs, p, yi, [&](bool in, bool, std::int64_t off) {
            if (in && (at < 0 || x[static_cast<std::size_t>(off)] > best)) {
                best = x[static_cast<std::size_t>(off)];
                at = off;
            }
        });
        y[static_cast<std::size_t>(flat)] = best;
        if (indices) (*indices)[static_cast<std::size_t>(flat)] = at;
    }
    return y;
}

/// Mean of the taps inside the input, divided by the taps inside the input or (with
/// count_include_pad) inside the padded input.
template <typename T, typename Acc = double>
std::vector<T> average_pool_ref(const std::vector<T>& x, const Shape& xs, const PoolParams& p) {
    Shape ys{xs[0], xs[1]};
    ys.insert(ys.end(), p.out.begin(), p.out.end());
    std::vector<T> y(static_cast<std::size_t>(numel(ys)));
    for (std::int64_t flat = 0; flat < numel(ys); ++flat) {
        const auto yi = unravel(ys, flat);
        Acc sum = 0;
        std::int64_t in_count = 0, pad_count = 0;
        for_each_tap(xs, p, yi, [&](bool in, bool padded, std::int64_t off) {
            if (in) {
                sum += static_cast<Acc>(x[static_cast<std::size_t>(off)]);
                ++in_count;
            }
            if (padded) ++pad_count;
        });
        const std::int64_t div = p.count_include_pad ? pad_count : in_count;
        y[static_cast<std::size_t>(flat)] = div > 0 ? static_cast<T>(sum / div) : T(0);
    }
    return y;
}

}  // namespace aquant::engine::ref
