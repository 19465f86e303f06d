// Scalar reference Conv and ConvTranspose (NCHW, any spatial rank), straight from the ONNX
// definitions with explicit pads; accumulation in Acc (double by default). Oracles for
// tests/engine/conv_test.cpp and conv_transpose_test.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "ref_util.h"

namespace aquant::engine::ref {

struct WindowParams {
    Shape strides, dilations, pads_begin, pads_end;  // one per spatial axis
    std::int64_t group = 1;
    Shape output_padding;  // ConvTranspose only (empty: zeros)
};

/// y[n, m, o...] = b[m] + sum_{c in group(m), k...} x[n, c, o*s + k*d - pad_begin] * w[m, c, k...]
/// Output spatial size floor((in + pads - ((k - 1) * d + 1)) / s) + 1. Returns y, sets y_shape.
template <typename T, typename Acc = double>
std::vector<T> conv_ref(const std::vector<T>& x, const Shape& xs, const std::vector<T>& w,
                        const Shape& ws, const std::vector<T>* b, const WindowParams& p,
                        Shape* y_shape) {
    const std::size_t r = xs.size() - 2;
    const std::int64_t n = xs[0], c = xs[1], m = ws[0], cg = ws[1], mg = m / p.group;
    Shape ys{n, m};
    const Shape ks(ws.begin() + 2, ws.end());
    for (std::size_t i = 0; i < r; ++i) {
        const std::int64_t keff = (ks[i] - 1) * p.dilations[i] + 1;
        ys.push_back((xs[2 + i] + p.pads_begin[i] + p.pads_end[i] - keff) / p.strides[i] + 1);
    }
    *y_shape = ys;
    std::vector<T> y(static_cast<std::size_t>(numel(ys)));
    std::vector<std::int64_t> yi(ys.size(), 0);
    for (std::size_t flat = 0; flat < y.size(); ++flat) {
        yi = unravel(ys, static_cast<std::int64_t>(flat));
        const std::int64_t img = yi[0], oc = yi[1], grp = oc / mg;
        Acc acc = b ? static_cast<Acc>((*b)[static_cast<std::size_t>(oc)]) : Acc(0);
        std::vector<std::int64_t> k(r, 0), xi(r + 2), wi(r + 2);
        for (std::int64_t ic = 0; ic < cg; ++ic) {
            std::fill(k.begin(), k.end(), 0);
            do {
                bool inside = true;
                xi[0] = img;
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
                if (inside) {
                    acc += static_cast<Acc>(x[static_cast<std::size_t>(offset(xs, xi))]) *
                           static_cast<Acc>(w[static_cast<std::size_t>(offset(ws, wi))]);
                }
            } while (next_index(ks, k));
        }
        (void)c;
        y[flat] = static_cast<T>(acc);
    }
    return y;
}

/// ConvTranspose: w is [C, M/group, k...]; every input element scatters
///   y[n, m, i*s + k*d - pad_begin] += x[n, c, i] * w[c, m % (M/group), k]
/// Output spatial size s * (in - 1) + output_padding + (k - 1) * d + 1 - pads.
template <typename T, typename Acc = double>
std::vector<T> conv_transpose_ref(const std::vector<T>& x, const Shape& xs, const std::vector<T>& w,
                                  const Shape& ws, const std::vector<T>* b, const WindowParams& p,
                                  Shape* y_shape) {
    const std::size_t r = xs.size() - 2;
    const std::int64_t n = xs[0], c = xs[1], cg = c / p.group, mg = ws[1], m = mg * p.group;
    const Shape ks(ws.begin() + 2, ws.end());
    Shape ys{n, m};
    for (std::size_t i = 0; i < r; ++i) {
        const std::int64_t adj = p.output_padding.empty() ? 0 : p.output_padding[i];
        ys.push_back(p.strides[i] * (xs[2 + i] - 1) + adj + (ks[i] - 1) * p.dilations[i] + 1 -
                     p.pads_begin[i] - p.pads_end[i]);
    }
    *y_shape = ys;
    std::vector<Acc> acc(static_cast<std::size_t>(numel(ys)), Acc(0));
    std::vector<std::int64_t> xi(xs.size(), 0), k(r), yi(ys.size()), wi(ws.size());
    do {
        const std::int64_t img = xi[0], ic = xi[1], grp = ic / cg;
        for (std::int64_t om = 0; om < mg; ++om) {
            std::fill(k.begin(), k.end(), 0);
            do {
                bool inside = true;
                yi[0] = img;
                yi[1] = grp * mg + om;
                wi[0] = ic;
                wi[1] = om;
                for (std::size_t i = 0; i < r; ++i) {
                    const std::int64_t pos =
                        xi[2 + i] * p.strides[i] + k[i] * p.dilations[i] - p.pads_begin[i];
                    inside = inside && pos >= 0 && pos < ys[2 + i];
                    yi[2 + i] = pos;
                    wi[2 + i] = k[i];
                }
                if (inside) {
                    acc[static_cast<std::size_t>(offset(ys, yi))] +=
                        static_cast<Acc>(x[static_cast<std::size_t>(offset(xs, xi))]) *
                        static_cast<Acc>(w[static_cast<std::size_t>(offset(ws, wi))]);
                }
            } while (next_index(ks, k));
        }
    } while (next_index(xs, xi));
    std::vector<T> y(acc.size());
    const std::int64_t plane = numel(ys) / (n * m);
    for (std::size_t i = 0; i < y.size(); ++i) {
        const std::int64_t oc = static_cast<std::int64_t>(i) / plane % m;
        y[i] = static_cast<T>(acc[i] + (b ? static_cast<Acc>((*b)[static_cast<std::size_t>(oc)])
                                          : Acc(0)));
    }
    return y;
}

}  // namespace aquant::engine::ref
