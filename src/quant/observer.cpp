#include "aquant/quant/observer.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace aquant::quant {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

const float* float_data(const Tensor& x, const char* who) {
    if (x.dtype() != DType::kF32) {
        throw InternalError(
            fmt::format("{}: expected a float tensor, got {}", who, dtype_name(x.dtype())));
    }
    return x.data<float>();
}

struct ChannelView {
    std::int64_t outer = 1, dim = 1, inner = 1;
};

// Fixes the observer's rank and channel count on the first batch; later batches must match.
ChannelView channel_view(std::optional<int> axis, const Dims& dims, std::size_t& rank,
                         std::size_t channels, const char* who) {
    ChannelView v;
    if (!axis) {
        v.inner = dims_numel(dims);
        return v;
    }
    if (channels != 0 && dims.size() != rank) {
        throw InternalError(fmt::format("{}: batch of rank {}, expected rank {} as before", who,
                                        dims.size(), rank));
    }
    const auto a = static_cast<std::size_t>(normalize_axis(*axis, dims.size()));
    rank = dims.size();
    for (std::size_t i = 0; i < a; ++i)
        v.outer *= dims[i];
    v.dim = dims[a];
    for (std::size_t i = a + 1; i < dims.size(); ++i)
        v.inner *= dims[i];
    if (channels != 0 && static_cast<std::size_t>(v.dim) != channels) {
        throw InternalError(fmt::format("{}: batch {} has {} channels on axis {}, expected {}", who,
                                        dims_str(dims), v.dim, *axis, channels));
    }
    return v;
}

}  // namespace

void MinMaxObserver::observe(const float* x, const Dims& dims) {
    const ChannelView v = channel_view(axis_, dims, rank_, min_.size(), "MinMaxObserver");
    if (min_.empty()) {
        min_.assign(static_cast<std::size_t>(v.dim), kInf);
        max_.assign(static_cast<std::size_t>(v.dim), -kInf);
    }
    for (std::int64_t o = 0; o < v.outer; ++o) {
        for (std::int64_t d = 0; d < v.dim; ++d) {
            const float* row = x + (o * v.dim + d) * v.inner;
            float lo = min_[static_cast<std::size_t>(d)];
            float hi = max_[static_cast<std::size_t>(d)];
            for (std::int64_t j = 0; j < v.inner; ++j) {
                if (!std::isfinite(row[j])) {
                    ++nonfinite_;
                    continue;
                }
                lo = std::min(lo, row[j]);
                hi = std::max(hi, row[j]);
                ++count_;
            }
            min_[static_cast<std::size_t>(d)] = lo;
            max_[static_cast<std::size_t>(d)] = hi;
        }
    }
}

void MinMaxObserver::observe(const Tensor& x) {
    observe(float_data(x, "MinMaxObserver"), x.dims());
}

float MinMaxObserver::min() const {
    return min_.empty() ? kInf : *std::min_element(min_.begin(), min_.end());
}

float MinMaxObserver::max() const {
    return max_.empty() ? -kInf : *std::max_element(max_.begin(), max_.end());
}

QuantParams MinMaxObserver::params(const QuantScheme& s) const {
    validate_scheme(s);
    QuantParams p;
    p.scheme = s;
    auto push = [&](float lo, float hi) {
        const AffineParams a = lo <= hi ? params_from_range(lo, hi, s) : AffineParams{};
        p.scale.push_back(a.scale);
        p.zero_point.push_back(a.zero_point);
    };
    if (s.granularity == Granularity::kTensor) {
        push(min(), max());
        return p;
    }
    const bool same_axis = s.granularity == Granularity::kChannel && axis_ && rank_ > 0 &&
                           normalize_axis(s.axis, rank_) == normalize_axis(*axis_, rank_);
    if (!same_axis) {
        throw ConfigError(fmt::format("MinMaxObserver ({}): cannot give {} params",
                                      axis_ ? fmt::format("axis {}", *axis_) : "per tensor",
                                      scheme_str(s)));
    }
    for (std::size_t c = 0; c < min_.size(); ++c)
        push(min_[c], max_[c]);
    p.scale_dims = {static_cast<std::int64_t>(min_.size())};
    return p;
}

HistogramObserver::HistogramObserver(int num_bins) : num_bins_(num_bins) {
    if (num_bins < 2) {
        throw ConfigError(
            fmt::format("HistogramObserver: num_bins expected >= 2, got {}", num_bins));
    }
}

void HistogramObserver::observe(const float* x, std::int64_t n) {
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < n; ++i)
        bad += !std::isfinite(x[i]);
    if (bad == 0) {
        histogram_add(hist_, x, n, num_bins_);
        return;
    }
    std::vector<float> finite;
    finite.reserve(static_cast<std::size_t>(n - bad));
    for (std::int64_t i = 0; i < n; ++i) {
        if (std::isfinite(x[i]))
            finite.push_back(x[i]);
    }
    nonfinite_ += bad;
    histogram_add(hist_, finite.data(), static_cast<std::int64_t>(finite.size()), num_bins_);
}

void HistogramObserver::observe(const Tensor& x) {
    observe(float_data(x, "HistogramObserver"), x.numel());
}

QuantParams HistogramObserver::params(const QuantScheme& s, const RangeEstimator& est,
                                      const RangeOptions& opt) const {
    validate_scheme(s);
    validate_range_options(opt);
    if (s.granularity != Granularity::kTensor) {
        throw ConfigError(fmt::format("HistogramObserver: per-tensor only, cannot give {} params",
                                      scheme_str(s)));
    }
    const AffineParams a = est.from_histogram(hist_, s, opt);
    QuantParams p;
    p.scheme = s;
    p.scale = {a.scale};
    p.zero_point = {a.zero_point};
    return p;
}

void MomentObserver::observe(const float* x, const Dims& dims) {
    const ChannelView v = channel_view(axis_, dims, rank_, sum_.size(), "MomentObserver");
    const auto channels = static_cast<std::size_t>(v.dim);
    if (sum_.empty()) {
        sum_.assign(channels, 0.0);
        sum_sq_.assign(channels, 0.0);
        count_.assign(channels, 0);
    }
    std::vector<double> s(channels, 0.0);
    std::vector<double> s2(channels, 0.0);
    for (std::int64_t o = 0; o < v.outer; ++o) {
        for (std::size_t d = 0; d < channels; ++d) {
            const float* row = x + (o * v.dim + static_cast<std::int64_t>(d)) * v.inner;
            for (std::int64_t j = 0; j < v.inner; ++j) {
                if (!std::isfinite(row[j])) {
                    ++nonfinite_;
                    continue;
                }
                s[d] += row[j];
                s2[d] += static_cast<double>(row[j]) * row[j];
                ++count_[d];
            }
        }
    }
    for (std::size_t d = 0; d < channels; ++d) {
        sum_[d] += s[d];
        sum_sq_[d] += s2[d];
    }
}

void MomentObserver::observe(const Tensor& x) {
    observe(float_data(x, "MomentObserver"), x.dims());
}

std::vector<double> MomentObserver::mean() const {
    std::vector<double> m(sum_.size(), 0.0);
    for (std::size_t d = 0; d < m.size(); ++d) {
        if (count_[d] > 0)
            m[d] = sum_[d] / static_cast<double>(count_[d]);
    }
    return m;
}

std::vector<double> MomentObserver::mean_square() const {
    std::vector<double> m(sum_sq_.size(), 0.0);
    for (std::size_t d = 0; d < m.size(); ++d) {
        if (count_[d] > 0)
            m[d] = sum_sq_[d] / static_cast<double>(count_[d]);
    }
    return m;
}

}  // namespace aquant::quant
