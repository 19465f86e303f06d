// mmse: minimum squared quantization error (ALGORITHMS.md 1.3 and 3.2).
// Values (weights): grid over shrunk ranges r_k = (1 - k/G) * r_max, then least-squares scale
// steps. Histograms (activations): the clip value over the bin edges minimising
// sum count * (centre - Q(centre))^2, clipped tail included; affine schemes alternate between
// the two ends until neither moves.
#include "quant/round.h"

#include "aquant/quant/quantize.h"
#include "aquant/quant/range.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aquant::quant {

AffineParams mmse_grid_search(const float* x, std::int64_t n, const QuantScheme& s,
                              const RangeOptions& opt) {
    float lo = 0.0f;
    float hi = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    AffineParams best = params_from_range(lo, hi, s);
    double best_err = quant_error(x, n, best, s, opt.mmse_norm_p);
    const int k_max = static_cast<int>(std::floor(opt.mmse_max_shrink * opt.mmse_grid + 1e-9));
    for (int k = 1; k <= k_max; ++k) {
        const double f = 1.0 - static_cast<double>(k) / opt.mmse_grid;
        const AffineParams p = params_from_range(f * lo, f * hi, s);
        const double err = quant_error(x, n, p, s, opt.mmse_norm_p);
        if (err < best_err) {
            best = p;
            best_err = err;
        }
    }
    return best;
}

AffineParams als_refine(const float* x, std::int64_t n, const QuantScheme& s, AffineParams start,
                        int max_iters) {
    RoundToNearestGuard guard;
    AffineParams cur = start;
    double cur_err = quant_error(x, n, cur, s, 2.0);
    for (int it = 0; it < max_iters; ++it) {
        const auto lo = static_cast<float>(q_min(s) - cur.zero_point);
        const auto hi = static_cast<float>(q_max(s) - cur.zero_point);
        constexpr std::int64_t kLanes = 8;  // fixed summation order, vectorisable
        double num_acc[kLanes] = {};
        double den_acc[kLanes] = {};
        std::int64_t i = 0;
        for (; i + kLanes <= n; i += kLanes) {
            for (std::int64_t j = 0; j < kLanes; ++j) {
                const float xv = x[i + j];
                const double v = detail::round_clamped(xv, cur.scale, lo, hi);  // q - z
                num_acc[j] += static_cast<double>(xv) * v;
                den_acc[j] += v * v;
            }
        }
        for (; i < n; ++i) {
            const double v = detail::round_clamped(x[i], cur.scale, lo, hi);
            num_acc[0] += static_cast<double>(x[i]) * v;
            den_acc[0] += v * v;
        }
        double num = 0.0;
        double den = 0.0;
        for (std::int64_t j = 0; j < kLanes; ++j) {
            num += num_acc[j];
            den += den_acc[j];
        }
        if (den == 0.0)
            break;
        const auto scale = static_cast<float>(num / den);
        if (!(std::isfinite(scale) && scale >= std::numeric_limits<float>::min()) ||
            scale == cur.scale) {
            break;
        }
        const AffineParams next{scale, cur.zero_point};
        const double err = quant_error(x, n, next, s, 2.0);
        if (!(err < cur_err))
            break;
        cur = next;
        cur_err = err;
    }
    return cur;
}

namespace {

struct Bin {
    float center;
    double count;
};

double hist_error(const std::vector<Bin>& bins, AffineParams p, const QuantScheme& s) {
    const auto lo = static_cast<float>(q_min(s) - p.zero_point);
    const auto hi = static_cast<float>(q_max(s) - p.zero_point);
    double sum = 0.0;
    for (const Bin& b : bins) {
        const double e = b.center - detail::round_clamped(b.center, p.scale, lo, hi) * p.scale;
        sum += b.count * e * e;
    }
    return sum;
}

// Candidate clip values on one side: the bin edges strictly inside (0, limit), then limit itself,
// visited from the widest down so that ties keep the wider range.
std::vector<double> edge_candidates(double limit, double width) {
    std::vector<double> out{limit};
    const auto k_end = static_cast<std::int64_t>(std::ceil(limit / width));
    for (std::int64_t k = k_end; k >= 1; --k) {
        const double e = static_cast<double>(k) * width;
        if (e < limit)
            out.push_back(e);
    }
    return out;
}

template <typename MakeParams>
double best_on_side(const std::vector<Bin>& bins, const std::vector<double>& candidates,
                    const QuantScheme& s, MakeParams make, double current, double current_err) {
    double best = current;
    double best_err = current_err;
    for (double c : candidates) {
        const double err = hist_error(bins, make(c), s);
        if (err < best_err || (err == best_err && c > best)) {
            best = c;
            best_err = err;
        }
    }
    return best;
}

class Mmse final : public RangeEstimator {
public:
    AffineParams from_values(const float* x, std::int64_t n, const QuantScheme& s,
                             const RangeOptions& opt) const override {
        const AffineParams grid = mmse_grid_search(x, n, s, opt);
        return opt.als_max_iters > 0 ? als_refine(x, n, s, grid, opt.als_max_iters) : grid;
    }

    AffineParams from_histogram(const Histogram& h, const QuantScheme& s,
                                const RangeOptions&) const override {
        if (h.empty() || h.bin_width == 0.0)
            return params_from_range(h.min, h.max, s);
        RoundToNearestGuard guard;
        std::vector<Bin> bins;
        for (std::size_t i = 0; i < h.counts.size(); ++i) {
            if (h.counts[i] == 0)
                continue;
            // Clamp the centre into the observed range so the extreme bins are not overstated.
            const double c = std::clamp<double>(h.center(i), h.min, h.max);
            bins.push_back({static_cast<float>(c), static_cast<double>(h.counts[i])});
        }
        const double lo_limit = std::min<double>(h.min, 0.0);
        const double hi_limit = std::max<double>(h.max, 0.0);
        if (s.symmetric) {
            const double limit = s.is_signed ? std::max(-lo_limit, hi_limit) : hi_limit;
            if (limit == 0.0)
                return {};
            auto make = [&](double t) { return params_from_range(-t, t, s); };
            const double t = best_on_side(bins, edge_candidates(limit, h.bin_width), s, make, limit,
                                          hist_error(bins, make(limit), s));
            return make(t);
        }
        double lo = lo_limit;
        double hi = hi_limit;
        const auto hi_candidates = edge_candidates(hi_limit, h.bin_width);
        const auto lo_candidates = edge_candidates(-lo_limit, h.bin_width);  // as positive values
        constexpr int kMaxSweeps = 10;
        for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
            const double old_lo = lo;
            const double old_hi = hi;
            auto make_hi = [&](double c) { return params_from_range(lo, c, s); };
            if (hi_limit > 0.0) {
                hi = best_on_side(bins, hi_candidates, s, make_hi, hi,
                                  hist_error(bins, make_hi(hi), s));
            }
            auto make_lo = [&](double c) { return params_from_range(-c, hi, s); };
            if (lo_limit < 0.0) {
                lo = -best_on_side(bins, lo_candidates, s, make_lo, -lo,
                                   hist_error(bins, make_lo(-lo), s));
            }
            if (lo == old_lo && hi == old_hi)
                break;
        }
        return params_from_range(lo, hi, s);
    }
};

}  // namespace

const RangeEstimator& range_estimator_mmse() {
    static const Mmse estimator;
    return estimator;
}

}  // namespace aquant::quant
