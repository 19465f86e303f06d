// Value histograms for activation ranges. Bin edges are integer multiples of bin_width, so 0 is
// always an edge and a histogram can grow by merging pairs of bins (bin_width doubles) and by
// shifting its window, without splitting any bin: re-binning is exact and deterministic.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace aquant::quant {

constexpr int kDefaultHistogramBins = 2048;  // TensorRT's and ONNX Runtime's calibration default

struct Histogram {
    /// counts[i] counts the values in [(first_bin + i) * bin_width, (first_bin + i + 1) *
    /// bin_width). bin_width == 0 means every value counted so far was exactly 0 (one bin).
    std::vector<std::int64_t> counts;
    double bin_width = 0.0;
    std::int64_t first_bin = 0;
    float min = std::numeric_limits<float>::infinity();  // exact extremes of the counted values
    float max = -std::numeric_limits<float>::infinity();
    std::int64_t total = 0;  // sum of counts

    bool empty() const { return total == 0; }

    double lower_edge(std::size_t i) const {
        return static_cast<double>(first_bin + static_cast<std::int64_t>(i)) * bin_width;
    }

    double upper_edge(std::size_t i) const { return lower_edge(i + 1); }

    double center(std::size_t i) const { return lower_edge(i) + 0.5 * bin_width; }
};

/// Histogram of n finite values over [min(x, 0), max(x, 0)] in at most `num_bins` (>= 2) bins;
/// the first batch of a HistogramObserver. Non-finite values throw DataError.
Histogram make_histogram(const float* x, std::int64_t n, int num_bins = kDefaultHistogramBins);

/// Adds n finite values, growing the window when they fall outside it: bin_width doubles
/// (d times, d minimal) and the window shifts so the occupied bins and the new values fit,
/// centred. Old counts move whole into the merged bins; a value lands in the bin it would have
/// reached had it been counted before the merge. Non-finite values throw DataError.
void histogram_add(Histogram& h, const float* x, std::int64_t n, int num_bins);

/// Counts of |x| over bins [k * bin_width, (k + 1) * bin_width), k = 0..K-1 (a value on a
/// negative bin edge can land one bin low). Empty when h.bin_width == 0.
std::vector<std::int64_t> histogram_abs_counts(const Histogram& h);

}  // namespace aquant::quant
