// Scalar reference BatchNormalization (inference), InstanceNormalization and LayerNormalization,
// from the ONNX formulas, statistics in double. Oracles for tests/engine/*_normalization_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "ref_util.h"

namespace aquant::engine::ref {

/// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c], x of shape [N, C, ...].
template <typename T>
std::vector<T> batch_norm_ref(const std::vector<T>& x, const Shape& xs, const std::vector<T>& scale,
                              const std::vector<T>& bias, const std::vector<T>& mean,
                              const std::vector<T>& var, double eps) {
    const std::int64_t c = xs[1], inner = numel(xs) / (xs[0] * c);
    std::vector<T> y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const auto ch = static_cast<std::size_t>(static_cast<std::int64_t>(i) / inner % c);
        y[i] = static_cast<T>((static_cast<double>(x[i]) - mean[ch]) / std::sqrt(var[ch] + eps) *
                                  scale[ch] +
                              bias[ch]);
    }
    return y;
}

/// Per (n, c): y = (x - mean) / sqrt(var + eps) * scale[c] + bias[c], population variance.
template <typename T>
std::vector<T> instance_norm_ref(const std::vector<T>& x, const Shape& xs,
                                 const std::vector<T>& scale, const std::vector<T>& bias,
                                 double eps) {
    const std::int64_t c = xs[1], planes = xs[0] * c, inner = numel(xs) / planes;
    std::vector<T> y(x.size());
    for (std::int64_t p = 0; p < planes; ++p) {
        double mean = 0, var = 0;
        for (std::int64_t j = 0; j < inner; ++j) mean += x[static_cast<std::size_t>(p * inner + j)];
        mean /= static_cast<double>(inner);
        for (std::int64_t j = 0; j < inner; ++j) {
            const double d = x[static_cast<std::size_t>(p * inner + j)] - mean;
            var += d * d;
        }
        var /= static_cast<double>(inner);
        const auto ch = static_cast<std::size_t>(p % c);
        for (std::int64_t j = 0; j < inner; ++j) {
            const auto i = static_cast<std::size_t>(p * inner + j);
            y[i] = static_cast<T>((x[i] - mean) / std::sqrt(var + eps) * scale[ch] + bias[ch]);
        }
    }
    return y;
}

/// Rows of size `cols` (the product of x.shape[axis:]); scale and bias have `cols` entries
/// (bias may be empty). mean / inv_std_dev (optional) receive one value per row.
template <typename T>
std::vector<T> layer_norm_ref(const std::vector<T>& x, std::int64_t cols,
                              const std::vector<T>& scale, const std::vector<T>& bias, double eps,
                              std::vector<T>* mean_out, std::vector<T>* inv_out) {
    const std::int64_t rows = static_cast<std::int64_t>(x.size()) / cols;
    std::vector<T> y(x.size());
    for (std::int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (std::int64_t j = 0; j < cols; ++j) mean += x[static_cast<std::size_t>(r * cols + j)];
        mean /= static_cast<double>(cols);
        for (std::int64_t j = 0; j < cols; ++j) {
            const double d = x[static_cast<std::size_t>(r * cols + j)] - mean;
            var += d * d;
        }
        const double inv = 1.0 / std::sqrt(var / static_cast<double>(cols) + eps);
        for (std::int64_t j = 0; j < cols; ++j) {
            const auto i = static_cast<std::size_t>(r * cols + j);
            const auto jj = static_cast<std::size_t>(j);
            y[i] = static_cast<T>((x[i] - mean) * inv * scale[jj] + (bias.empty() ? 0.0 : bias[jj]));
        }
        if (mean_out) mean_out->push_back(static_cast<T>(mean));
        if (inv_out) inv_out->push_back(static_cast<T>(inv));
    }
    return y;
}

}  // namespace aquant::engine::ref
