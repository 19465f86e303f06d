#include "aquant/quant/histogram.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace aquant::quant {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

// floor(a / 2^d) for any d >= 0.
std::int64_t shift_floor(std::int64_t a, int d) {
    if (d >= 62)
        return a < 0 ? -1 : 0;
    return floor_div(a, std::int64_t{1} << d);
}

// Far-away values saturate at +-2^60 bins, which never fits a window; no overflow.
std::int64_t bin_of(double x, double width) {
    constexpr double kFar = 1152921504606846976.0;  // 2^60
    const double b = std::floor(x / width);
    return static_cast<std::int64_t>(std::clamp(b, -kFar, kFar));
}

struct BatchRange {
    float min, max;
};

BatchRange batch_range(const float* x, std::int64_t n) {
    BatchRange r{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    for (std::int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i])) {
            throw DataError(
                fmt::format("histogram: element {} of {} is {}, expected a finite "
                            "value",
                            i, n, x[i]));
        }
        r.min = std::min(r.min, x[i]);
        r.max = std::max(r.max, x[i]);
    }
    return r;
}

void count_into(Histogram& h, const float* x, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t g = bin_of(x[i], h.bin_width) - h.first_bin;
        ++h.counts[static_cast<std::size_t>(g)];
    }
}

// First window for values in [lo, hi] (lo <= 0 <= hi, lo < hi).
void init_window(Histogram& h, double lo, double hi, int num_bins) {
    double w = (hi - lo) / (num_bins - 1);
    // Rounding in w or in x / w can push the top one bin too far; doubling w always fixes it.
    while (bin_of(hi, w) - bin_of(lo, w) >= num_bins)
        w *= 2.0;
    h.bin_width = w;
    h.first_bin = bin_of(lo, w);
    h.counts.assign(static_cast<std::size_t>(num_bins), 0);
}

void regrow(Histogram& h, BatchRange r, int num_bins) {
    std::int64_t occ_lo = 0;
    std::int64_t occ_hi = -1;
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
        if (h.counts[i] == 0)
            continue;
        if (occ_hi < occ_lo)
            occ_lo = h.first_bin + static_cast<std::int64_t>(i);
        occ_hi = h.first_bin + static_cast<std::int64_t>(i);
    }
    // Estimate the doublings from the real extent, then step up until the bins fit exactly.
    const double lo = std::min(static_cast<double>(occ_lo) * h.bin_width, double(r.min));
    const double hi = std::max(static_cast<double>(occ_hi + 1) * h.bin_width, double(r.max));
    const double ratio = (hi - lo) / (h.bin_width * (num_bins - 2));
    int d = ratio > 1.0 ? std::max(0, static_cast<int>(std::floor(std::log2(ratio))) - 1) : 0;
    std::int64_t new_lo = 0;
    std::int64_t new_hi = 0;
    for (;; ++d) {
        const double w = std::ldexp(h.bin_width, d);
        new_lo = std::min(shift_floor(occ_lo, d), bin_of(r.min, w));
        new_hi = std::max(shift_floor(occ_hi, d), bin_of(r.max, w));
        if (new_hi - new_lo < num_bins)
            break;
    }
    const std::int64_t first = new_lo - (num_bins - (new_hi - new_lo + 1)) / 2;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(num_bins), 0);
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
        if (h.counts[i] == 0)
            continue;
        const std::int64_t g = shift_floor(h.first_bin + static_cast<std::int64_t>(i), d);
        counts[static_cast<std::size_t>(g - first)] += h.counts[i];
    }
    h.counts = std::move(counts);
    h.bin_width = std::ldexp(h.bin_width, d);
    h.first_bin = first;
}

bool fits(const Histogram& h, BatchRange r) {
    const std::int64_t n = static_cast<std::int64_t>(h.counts.size());
    return bin_of(r.min, h.bin_width) >= h.first_bin &&
           bin_of(r.max, h.bin_width) < h.first_bin + n;
}

}  // namespace

Histogram make_histogram(const float* x, std::int64_t n, int num_bins) {
    Histogram h;
    histogram_add(h, x, n, num_bins);
    return h;
}

void histogram_add(Histogram& h, const float* x, std::int64_t n, int num_bins) {
    if (num_bins < 2) {
        throw InternalError(fmt::format("histogram: num_bins expected >= 2, got {}", num_bins));
    }
    if (n <= 0)
        return;
    const BatchRange r = batch_range(x, n);
    if (h.bin_width == 0.0) {
        if (r.min == 0.0f && r.max == 0.0f) {
            if (h.counts.empty())
                h.counts.assign(1, 0);
            h.counts[0] += n;
        } else {
            // Earlier values (if any) were all 0, which is bin 0 of any width.
            const std::int64_t zeros = h.total;
            init_window(h, std::min(0.0, double(r.min)), std::max(0.0, double(r.max)), num_bins);
            h.counts[static_cast<std::size_t>(-h.first_bin)] += zeros;
            count_into(h, x, n);
        }
    } else {
        if (!fits(h, r))
            regrow(h, r, num_bins);
        count_into(h, x, n);
    }
    h.total += n;
    h.min = std::min(h.min, r.min);
    h.max = std::max(h.max, r.max);
}

std::vector<std::int64_t> histogram_abs_counts(const Histogram& h) {
    if (h.bin_width == 0.0)
        return {};
    const auto n = static_cast<std::int64_t>(h.counts.size());
    const std::int64_t last = h.first_bin + n - 1;
    const std::int64_t k = std::max(last + 1, -h.first_bin);
    std::vector<std::int64_t> out(static_cast<std::size_t>(std::max<std::int64_t>(k, 1)), 0);
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t g = h.first_bin + i;
        out[static_cast<std::size_t>(g >= 0 ? g : -g - 1)] += h.counts[static_cast<std::size_t>(i)];
    }
    return out;
}

}  // namespace aquant::quant
