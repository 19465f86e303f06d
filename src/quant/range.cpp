#include "aquant/quant/range.h"

#include "quant/layout.h"
#include "quant/round.h"

#include "aquant/core/error.h"
#include "aquant/core/parallel.h"
#include "aquant/quant/quantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace aquant::quant {

#define AQUANT_RANGE_ESTIMATOR(id, name, summary) const RangeEstimator& range_estimator_##id();
#include "quant/builtin_range_estimators.inc"
#undef AQUANT_RANGE_ESTIMATOR

AffineParams params_from_range(double min, double max, const QuantScheme& s) {
    const double lo = std::min(min, 0.0);
    const double hi = std::max(max, 0.0);
    const int qlo = q_min(s);
    const int qhi = q_max(s);
    double scale = 0.0;
    if (s.symmetric) {
        scale = (s.is_signed ? std::max(-lo, hi) : hi) / qhi;
    } else {
        scale = (hi - lo) / (qhi - qlo);
    }
    const auto scale_f = static_cast<float>(scale);
    if (!(std::isfinite(scale_f) && scale_f >= std::numeric_limits<float>::min()))
        return {};
    AffineParams p{scale_f, 0};
    if (!s.symmetric) {
        RoundToNearestGuard guard;
        const double z = qlo - std::nearbyint(lo / static_cast<double>(scale_f));
        p.zero_point = static_cast<std::int32_t>(std::clamp<double>(z, qlo, qhi));
    }
    return p;
}

void validate_range_options(const RangeOptions& opt) {
    if (!(opt.percentile > 0.0 && opt.percentile <= 100.0)) {
        throw ConfigError(
            fmt::format("range options: percentile expected in (0, 100], got {}", opt.percentile));
    }
    if (opt.mmse_grid < 1) {
        throw ConfigError(
            fmt::format("range options: mmse_grid expected >= 1, got {}", opt.mmse_grid));
    }
    if (!(opt.mmse_max_shrink >= 0.0 && opt.mmse_max_shrink < 1.0)) {
        throw ConfigError(fmt::format("range options: mmse_max_shrink expected in [0, 1), got {}",
                                      opt.mmse_max_shrink));
    }
    if (!(opt.mmse_norm_p > 0.0)) {
        throw ConfigError(
            fmt::format("range options: mmse_norm_p expected > 0, got {}", opt.mmse_norm_p));
    }
    if (opt.als_max_iters < 0) {
        throw ConfigError(
            fmt::format("range options: als_max_iters expected >= 0, got {}", opt.als_max_iters));
    }
    if (opt.histogram_bins < 2) {
        throw ConfigError(
            fmt::format("range options: histogram_bins expected >= 2, got {}", opt.histogram_bins));
    }
}

const std::vector<RangeEstimatorEntry>& range_estimators() {
    static const std::vector<RangeEstimatorEntry> entries = {
#define AQUANT_RANGE_ESTIMATOR(id, name, summary) {name, summary, range_estimator_##id()},
#include "quant/builtin_range_estimators.inc"
#undef AQUANT_RANGE_ESTIMATOR
    };
    return entries;
}

std::vector<std::string> range_estimator_names() {
    std::vector<std::string> names;
    for (const auto& e : range_estimators())
        names.emplace_back(e.name);
    return names;
}

const RangeEstimator& range_estimator(std::string_view name) {
    for (const auto& e : range_estimators()) {
        if (name == e.name)
            return e.estimator;
    }
    throw ConfigError(fmt::format("unknown range estimator '{}'; valid: {}", name,
                                  fmt::join(range_estimator_names(), ", ")));
}

QuantParams estimate_params(const float* x, const Dims& dims, const QuantScheme& s,
                            const RangeEstimator& est, const RangeOptions& opt) {
    validate_scheme(s);
    validate_range_options(opt);
    const std::int64_t n = dims_numel(dims);
    for (std::int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i])) {
            throw DataError(
                fmt::format("estimate_params: element {} of {} is {}, expected a "
                            "finite value",
                            i, dims_str(dims), x[i]));
        }
    }
    QuantParams p;
    p.scheme = s;
    p.scale_dims = scale_dims_for(s, dims);
    const auto L = detail::make_layout(s, dims);
    const std::int64_t groups = L.num_groups();
    p.scale.resize(static_cast<std::size_t>(groups));
    p.zero_point.resize(static_cast<std::size_t>(groups));
    if (s.granularity == Granularity::kTensor) {
        const AffineParams a = est.from_values(x, n, s, opt);
        p.scale[0] = a.scale;
        p.zero_point[0] = a.zero_point;
        return p;
    }
    const std::int64_t group_size =
        std::max<std::int64_t>(1, n / std::max<std::int64_t>(1, groups));
    const std::int64_t grain = std::max<std::int64_t>(1, (1 << 14) / group_size);
    parallel_for(groups, grain, [&](std::int64_t b, std::int64_t e) {
        std::vector<float> values;
        for (std::int64_t g = b; g < e; ++g) {
            detail::gather_group(x, L, g, values);
            const AffineParams a =
                est.from_values(values.data(), static_cast<std::int64_t>(values.size()), s, opt);
            p.scale[static_cast<std::size_t>(g)] = a.scale;
            p.zero_point[static_cast<std::size_t>(g)] = a.zero_point;
        }
    });
    return p;
}

QuantParams estimate_params(const Tensor& x, const QuantScheme& s, const RangeEstimator& est,
                            const RangeOptions& opt) {
    if (x.dtype() != DType::kF32) {
        throw InternalError(
            fmt::format("estimate_params: expected a float tensor, got {}", dtype_name(x.dtype())));
    }
    return estimate_params(x.data<float>(), x.dims(), s, est, opt);
}

double quant_error(const float* x, std::int64_t n, AffineParams p, const QuantScheme& s,
                   double norm_p) {
    RoundToNearestGuard guard;
    const auto lo = static_cast<float>(q_min(s) - p.zero_point);
    const auto hi = static_cast<float>(q_max(s) - p.zero_point);
    double sum = 0.0;
    if (norm_p == 2.0) {
        // Eight independent accumulators: a fixed summation order the compiler can vectorise.
        constexpr std::int64_t kLanes = 8;
        double acc[kLanes] = {};
        std::int64_t i = 0;
        for (; i + kLanes <= n; i += kLanes) {
            for (std::int64_t j = 0; j < kLanes; ++j) {
                const float v = x[i + j];
                const float e = v - detail::round_clamped(v, p.scale, lo, hi) * p.scale;
                acc[j] += static_cast<double>(e) * e;
            }
        }
        for (; i < n; ++i) {
            const float e = x[i] - detail::round_clamped(x[i], p.scale, lo, hi) * p.scale;
            acc[0] += static_cast<double>(e) * e;
        }
        for (double a : acc)
            sum += a;
    } else {
        for (std::int64_t i = 0; i < n; ++i) {
            const float e = x[i] - detail::round_clamped(x[i], p.scale, lo, hi) * p.scale;
            sum += std::pow(std::fabs(static_cast<double>(e)), norm_p);
        }
    }
    return sum;
}

namespace {
std::size_t nearest_rank_index(std::size_t n, double p) {
    // p / 100 * n is rarely exact in binary (99.9 / 100 * 10000 = 9990.000000000002); drop that
    // noise before rounding the rank up.
    const double r = p / 100.0 * static_cast<double>(n);
    const double rank = std::ceil(r - 1e-9 * std::max(1.0, r));
    const double idx = std::clamp(rank - 1.0, 0.0, static_cast<double>(n) - 1.0);
    return static_cast<std::size_t>(idx);
}
}  // namespace

double percentile_upper(std::vector<float> values, double p) {
    if (values.empty())
        return 0.0;
    const std::size_t k = nearest_rank_index(values.size(), p);
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
}

double percentile_lower(std::vector<float> values, double p) {
    if (values.empty())
        return 0.0;
    const std::size_t k = values.size() - 1 - nearest_rank_index(values.size(), p);
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
}

}  // namespace aquant::quant
