// kl (alias entropy): TensorRT's entropy calibration, as in the MXNet / TVM implementations.
// The reference distribution P is the histogram of |x| (of x, negatives counted at 0, for
// unsigned symmetric schemes). For each candidate threshold of i bins (i = nq .. K, nq = the
// number of grid levels covering [0, T]), P keeps the first i bins with the outliers added to
// the last one; Q merges the same i bins (without outliers) into nq groups and spreads each
// group's count evenly over its non-empty bins. Both are smoothed (empty bins get eps = 1e-4,
// taken evenly from the others) and the threshold with the smallest KL(P || Q) wins (the widest
// on ties). A signed observer histogram folds to about half its bins; from_values builds a
// histogram of |x| with opt.histogram_bins bins.
#include "aquant/quant/range.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aquant::quant {

namespace {

constexpr double kSmoothEps = 1e-4;  // TVM's _smooth_distribution eps

}  // namespace

// Per candidate i the work is O(nq), not O(i): P's bins below i - 1 enter only through prefix
// sums. Smoothing shifts each non-empty P bin by e = eps * zeros / nonzeros (< 0.21 for 2048
// bins, against counts >= 1), and sum (d - e) log(d - e) is taken to second order in e:
// sum d log d - e (sum log d + count) + e^2 / 2 sum 1 / d. Q is constant on the non-empty bins
// of each merged group, so its terms are per group. The last bin (with the outliers) is exact.
std::vector<double> kl_divergence_curve(const std::vector<std::int64_t>& counts, std::size_t nq) {
    const std::size_t k = counts.size();
    if (nq == 0 || k < nq)
        return {};
    std::vector<double> cum(k + 1, 0.0);  // sum of counts below j
    std::vector<double> nz(k + 1, 0.0);   // non-empty bins below j
    std::vector<double> s_dlogd(k + 1, 0.0);
    std::vector<double> s_logd(k + 1, 0.0);
    std::vector<double> s_inv(k + 1, 0.0);
    for (std::size_t j = 0; j < k; ++j) {
        const auto d = static_cast<double>(counts[j]);
        cum[j + 1] = cum[j] + d;
        nz[j + 1] = nz[j] + (d > 0.0);
        s_dlogd[j + 1] = s_dlogd[j] + (d > 0.0 ? d * std::log(d) : 0.0);
        s_logd[j + 1] = s_logd[j] + (d > 0.0 ? std::log(d) : 0.0);
        s_inv[j + 1] = s_inv[j] + (d > 0.0 ? 1.0 / d : 0.0);
    }
    const double total = cum[k];
    const double eps_log_eps = kSmoothEps * std::log(kSmoothEps);
    std::vector<double> curve;
    curve.reserve(k - nq + 1);
    for (std::size_t i = nq; i <= k; ++i) {
        const double last = static_cast<double>(counts[i - 1]) + (total - cum[i]);  // p[i-1]
        const double nonzero_p = nz[i - 1] + (last > 0.0);
        const double zero_p = static_cast<double>(i) - nonzero_p;
        if (total <= 0.0) {
            curve.push_back(std::numeric_limits<double>::infinity());
            continue;
        }
        const double e_p = kSmoothEps * zero_p / nonzero_p;
        double a = zero_p * eps_log_eps + s_dlogd[i - 1] - e_p * (s_logd[i - 1] + nz[i - 1]) +
                   0.5 * e_p * e_p * s_inv[i - 1];
        if (last > 0.0)
            a += (last - e_p) * std::log(last - e_p);

        // Q: group j spans [j * m, (j + 1) * m), the last group runs to i.
        const std::size_t m = i / nq;
        double zero_q = zero_p;
        for (std::size_t j = 0; j < nq; ++j) {
            const std::size_t start = j * m;
            const std::size_t stop = j + 1 == nq ? i : start + m;
            const double qsum = cum[stop] - cum[start];
            double norm = nz[stop] - nz[start];
            if (stop == i && counts[i - 1] == 0 && last > 0.0)
                norm += 1.0;
            if (norm > 0.0 && qsum == 0.0)
                zero_q += norm;
        }
        const double nonzero_q = static_cast<double>(i) - zero_q;
        if (nonzero_q <= 0.0) {
            curve.push_back(std::numeric_limits<double>::infinity());
            continue;
        }
        const double e_q = kSmoothEps * zero_q / nonzero_q;
        double b = zero_p * eps_log_eps;
        double sq = zero_q * kSmoothEps;
        for (std::size_t j = 0; j < nq; ++j) {
            const std::size_t start = j * m;
            const std::size_t stop = j + 1 == nq ? i : start + m;
            const double qsum = cum[stop] - cum[start];
            double norm = nz[stop] - nz[start];
            double psum = qsum;
            if (stop == i) {
                psum += total - cum[i];
                if (counts[i - 1] == 0 && last > 0.0)
                    norm += 1.0;
            }
            if (norm == 0.0)
                continue;
            double q = qsum == 0.0 ? kSmoothEps : qsum / norm - e_q;
            if (q <= 0.0)
                q = kSmoothEps;  // TVM would go negative here; keep KL defined
            if (qsum > 0.0)
                sq += norm * q;
            b += std::log(q) * (psum - norm * e_p);
        }
        curve.push_back((a - b) / total + std::log(sq / total));
    }
    return curve;
}

namespace {

class Kl final : public RangeEstimator {
public:
    AffineParams from_values(const float* x, std::int64_t n, const QuantScheme& s,
                             const RangeOptions& opt) const override {
        if (s.symmetric && !s.is_signed) {
            return from_histogram(make_histogram(x, n, opt.histogram_bins), s, opt);
        }
        float lo = 0.0f;
        float hi = 0.0f;
        std::vector<float> a(x, x + n);
        for (auto& v : a) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            v = std::fabs(v);
        }
        Histogram h = make_histogram(a.data(), n, opt.histogram_bins);
        h.min = lo;  // the threshold is found on |x|; the affine range needs the signed extremes
        h.max = hi;
        return threshold_params(h, histogram_abs_counts(h), s);
    }

    AffineParams from_histogram(const Histogram& h, const QuantScheme& s,
                                const RangeOptions&) const override {
        if (h.empty() || h.bin_width == 0.0)
            return params_from_range(h.min, h.max, s);
        if (s.symmetric && !s.is_signed) {
            std::vector<std::int64_t> pos(1, 0);
            for (std::size_t i = 0; i < h.counts.size(); ++i) {
                const std::int64_t g = h.first_bin + static_cast<std::int64_t>(i);
                if (g < 0) {
                    pos[0] += h.counts[i];
                    continue;
                }
                if (static_cast<std::size_t>(g) >= pos.size())
                    pos.resize(static_cast<std::size_t>(g) + 1, 0);
                pos[static_cast<std::size_t>(g)] += h.counts[i];
            }
            return threshold_params(h, pos, s);
        }
        return threshold_params(h, histogram_abs_counts(h), s);
    }

private:
    static AffineParams threshold_params(const Histogram& h,
                                         const std::vector<std::int64_t>& counts,
                                         const QuantScheme& s) {
        const double lo = std::min<double>(h.min, 0.0);
        const double hi = std::max<double>(h.max, 0.0);
        const double limit = s.symmetric && !s.is_signed ? hi : std::max(-lo, hi);
        std::size_t k = counts.size();
        while (k > 0 && counts[k - 1] == 0)
            --k;
        const std::size_t levels = static_cast<std::size_t>(q_max(s) - q_min(s) + 1);
        std::size_t nq = static_cast<std::size_t>(q_max(s)) + 1;
        if (!s.symmetric)
            nq = lo == 0.0 ? levels : std::max<std::size_t>(1, levels / 2);
        double t = limit;
        if (k > nq) {
            const std::vector<std::int64_t> head(counts.begin(),
                                                 counts.begin() + static_cast<std::ptrdiff_t>(k));
            const std::vector<double> curve = kl_divergence_curve(head, nq);
            double best = std::numeric_limits<double>::infinity();
            std::size_t best_i = k;
            for (std::size_t j = 0; j < curve.size(); ++j) {
                if (curve[j] <= best) {
                    best = curve[j];
                    best_i = nq + j;
                }
            }
            t = std::min(limit, static_cast<double>(best_i) * h.bin_width);
        }
        if (s.symmetric)
            return s.is_signed ? params_from_range(-t, t, s) : params_from_range(0.0, t, s);
        return params_from_range(std::max(lo, -t), std::min(hi, t), s);
    }
};

}  // namespace

const RangeEstimator& range_estimator_kl() {
    static const Kl estimator;
    return estimator;
}

}  // namespace aquant::quant
