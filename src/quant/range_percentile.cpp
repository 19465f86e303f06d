// percentile: clip the (100 - p)% most extreme values. Symmetric schemes rank |x| (unsigned
// ones rank x); affine schemes clip (100 - p)% from each tail. Nearest-rank definition (range.h);
// from a histogram the value is rounded up to its bin's upper edge (down to the lower edge for
// the low tail), never beyond the observed min / max.
#include "aquant/quant/range.h"

#include <algorithm>
#include <cmath>

namespace aquant::quant {

namespace {

std::int64_t rank_target(std::int64_t total, double p) {
    const double r = p / 100.0 * static_cast<double>(total);
    const auto t = static_cast<std::int64_t>(std::ceil(r - 1e-9 * std::max(1.0, r)));
    return std::clamp<std::int64_t>(t, 1, total);
}

// Upper edge of the first bin (in counts order) where the running count reaches the target.
double upper_edge_at(const std::vector<std::int64_t>& counts, std::int64_t target,
                     double first_edge, double width) {
    std::int64_t cum = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        cum += counts[i];
        if (cum >= target)
            return first_edge + static_cast<double>(i + 1) * width;
    }
    return first_edge + static_cast<double>(counts.size()) * width;
}

class Percentile final : public RangeEstimator {
public:
    AffineParams from_values(const float* x, std::int64_t n, const QuantScheme& s,
                             const RangeOptions& opt) const override {
        std::vector<float> v(x, x + n);
        if (s.symmetric && s.is_signed) {
            for (auto& a : v)
                a = std::fabs(a);
            const double t = percentile_upper(std::move(v), opt.percentile);
            return params_from_range(-t, t, s);
        }
        const double hi = percentile_upper(v, opt.percentile);
        const double lo = s.symmetric ? 0.0 : percentile_lower(std::move(v), opt.percentile);
        return params_from_range(lo, hi, s);
    }

    AffineParams from_histogram(const Histogram& h, const QuantScheme& s,
                                const RangeOptions& opt) const override {
        if (h.empty() || h.bin_width == 0.0)
            return params_from_range(h.min, h.max, s);
        const std::int64_t target = rank_target(h.total, opt.percentile);
        if (s.symmetric && s.is_signed) {
            const double amax = std::max(-static_cast<double>(h.min), static_cast<double>(h.max));
            const double t =
                std::min(amax, upper_edge_at(histogram_abs_counts(h), target, 0.0, h.bin_width));
            return params_from_range(-t, t, s);
        }
        const double hi =
            std::min<double>(h.max, upper_edge_at(h.counts, target, h.lower_edge(0), h.bin_width));
        double lo = 0.0;
        if (!s.symmetric) {
            // The low tail is the high tail of the mirrored histogram.
            std::vector<std::int64_t> mirrored(h.counts.rbegin(), h.counts.rend());
            const double edge =
                upper_edge_at(mirrored, target, -h.upper_edge(h.counts.size() - 1), h.bin_width);
            lo = std::max<double>(h.min, -edge);
        }
        return params_from_range(lo, hi, s);
    }
};

}  // namespace

const RangeEstimator& range_estimator_percentile() {
    static const Percentile estimator;
    return estimator;
}

}  // namespace aquant::quant
