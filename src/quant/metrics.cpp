#include "aquant/quant/metrics.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace aquant::quant {

namespace {

struct Sums {
    double signal = 0.0;
    double error = 0.0;
};

Sums sums(const float* x, const float* x_hat, std::int64_t n) {
    Sums s;
    for (std::int64_t i = 0; i < n; ++i) {
        const double e = static_cast<double>(x[i]) - x_hat[i];
        s.signal += static_cast<double>(x[i]) * x[i];
        s.error += e * e;
    }
    return s;
}

std::int64_t same_length(const std::vector<float>& x, const std::vector<float>& x_hat) {
    if (x.size() != x_hat.size()) {
        throw InternalError(
            fmt::format("error metric: {} values against {}", x.size(), x_hat.size()));
    }
    return static_cast<std::int64_t>(x.size());
}

}  // namespace

double mse(const float* x, const float* x_hat, std::int64_t n) {
    return n > 0 ? sums(x, x_hat, n).error / static_cast<double>(n) : 0.0;
}

double nmse(const float* x, const float* x_hat, std::int64_t n) {
    const Sums s = sums(x, x_hat, n);
    if (s.error == 0.0)
        return 0.0;
    return s.signal == 0.0 ? std::numeric_limits<double>::infinity() : s.error / s.signal;
}

double sqnr_db(const float* x, const float* x_hat, std::int64_t n) {
    const Sums s = sums(x, x_hat, n);
    if (s.error == 0.0)
        return std::numeric_limits<double>::infinity();
    if (s.signal == 0.0)
        return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(s.signal / s.error);
}

double mse(const std::vector<float>& x, const std::vector<float>& x_hat) {
    return mse(x.data(), x_hat.data(), same_length(x, x_hat));
}

double nmse(const std::vector<float>& x, const std::vector<float>& x_hat) {
    return nmse(x.data(), x_hat.data(), same_length(x, x_hat));
}

double sqnr_db(const std::vector<float>& x, const std::vector<float>& x_hat) {
    return sqnr_db(x.data(), x_hat.data(), same_length(x, x_hat));
}

}  // namespace aquant::quant
