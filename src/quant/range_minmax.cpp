// minmax: the full range of the values (max |x| when symmetric).
#include "aquant/quant/range.h"

#include <algorithm>

namespace aquant::quant {

namespace {
class MinMax final : public RangeEstimator {
public:
    AffineParams from_values(const float* x, std::int64_t n, const QuantScheme& s,
                             const RangeOptions&) const override {
        float lo = 0.0f;
        float hi = 0.0f;
        for (std::int64_t i = 0; i < n; ++i) {
            lo = std::min(lo, x[i]);
            hi = std::max(hi, x[i]);
        }
        return params_from_range(lo, hi, s);
    }

    AffineParams from_histogram(const Histogram& h, const QuantScheme& s,
                                const RangeOptions&) const override {
        if (h.empty())
            return {};
        return params_from_range(h.min, h.max, s);
    }
};
}  // namespace

const RangeEstimator& range_estimator_minmax() {
    static const MinMax estimator;
    return estimator;
}

}  // namespace aquant::quant
