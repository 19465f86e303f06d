// Calibration observers: statistics of an activation over streamed batches, without keeping the
// values. Determinism: the same batches in the same order give identical statistics and params.
// - MinMaxObserver: also independent of how the data is split into batches.
// - HistogramObserver: the first non-zero batch fixes the bin width up to powers of two
//   (histogram.h), so another split can give a different (but equally exact) binning: the
//   total count and min/max never change, thresholds move by at most about a bin width.
// - MomentObserver: sums in double, so another split changes the means only by rounding.
// Non-finite values are skipped and counted (nonfinite_count); callers decide whether to warn.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/quant/histogram.h"
#include "aquant/quant/range.h"
#include "aquant/quant/scheme.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace aquant::quant {

/// Running min / max, per tensor or per channel along `axis` (negative counts from the back).
class MinMaxObserver {
public:
    explicit MinMaxObserver(std::optional<int> axis = std::nullopt) : axis_(axis) {}

    /// Every batch must have the same rank and channel count (InternalError otherwise).
    void observe(const float* x, const Dims& dims);
    void observe(const Tensor& x);

    std::int64_t count() const { return count_; }  // finite values seen

    std::int64_t nonfinite_count() const { return nonfinite_; }

    float min() const;  // +inf before any finite value
    float max() const;  // -inf before any finite value

    const std::vector<float>& channel_min() const { return min_; }  // one entry per tensor

    const std::vector<float>& channel_max() const { return max_; }  // without an axis

    /// params_from_range of the observed range: per tensor, or per channel when the observer
    /// has the same axis. ConfigError for other granularities or axes; before any value the
    /// range is empty (scale 1).
    QuantParams params(const QuantScheme& s) const;

private:
    std::optional<int> axis_;
    std::size_t rank_ = 0;
    std::vector<float> min_;
    std::vector<float> max_;
    std::int64_t count_ = 0;
    std::int64_t nonfinite_ = 0;
};

/// Histogram of every value of a tensor (per tensor only), growing as histogram.h describes.
class HistogramObserver {
public:
    explicit HistogramObserver(int num_bins = kDefaultHistogramBins);

    void observe(const float* x, std::int64_t n);
    void observe(const Tensor& x);

    const Histogram& histogram() const { return hist_; }

    std::int64_t nonfinite_count() const { return nonfinite_; }

    /// est.from_histogram for a per-tensor scheme; ConfigError for other granularities.
    QuantParams params(const QuantScheme& s, const RangeEstimator& est,
                       const RangeOptions& opt = {}) const;

private:
    int num_bins_;
    Histogram hist_;
    std::int64_t nonfinite_ = 0;
};

/// Per-channel mean of x and of x^2 along `axis` (for bias correction), finite values only.
class MomentObserver {
public:
    explicit MomentObserver(int axis) : axis_(axis) {}

    void observe(const float* x, const Dims& dims);
    void observe(const Tensor& x);

    std::vector<double> mean() const;
    std::vector<double> mean_square() const;

    const std::vector<std::int64_t>& count() const { return count_; }

    std::int64_t nonfinite_count() const { return nonfinite_; }

private:
    int axis_;
    std::size_t rank_ = 0;
    std::vector<double> sum_;
    std::vector<double> sum_sq_;
    std::vector<std::int64_t> count_;
    std::int64_t nonfinite_ = 0;
};

}  // namespace aquant::quant
