// Range estimators: choose scale and zero point for one group of values (a tensor, a channel or
// a block) or for an activation histogram. One file per estimator in src/quant/range_*.cpp and
// one line in src/quant/builtin_range_estimators.inc; look them up by name.
//
//   minmax      max |x| (symmetric) or [min, max] (affine)
//   percentile  clip (100 - p)% of the values: of |x| when symmetric, of each tail when affine
//   mmse        weights: grid search over shrunk ranges minimising sum |x - Q(x)|^p, then
//               alternating least squares on the scale; histograms: clip value minimising the
//               count-weighted squared error of the bin centres, clipped tail included
//   kl          TensorRT entropy calibration: threshold minimising KL(P || Q) over the |x|
//               histogram (x >= 0 for unsigned symmetric schemes)
//   entropy     the same method under ONNX Runtime's name
//
// Every estimator returns params whose grid contains 0 exactly and whose scale is > 0 and
// finite. Ties are broken towards the wider range; results depend only on the input values
// (deterministic, thread-count independent).
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/quant/histogram.h"
#include "aquant/quant/scheme.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aquant::quant {

struct AffineParams {
    float scale = 1.0f;
    std::int32_t zero_point = 0;
};

/// Scale and zero point for the real range [min, max], first widened to contain 0:
///   symmetric signed:   scale = max(-min, max) / q_max, zero_point = 0
///   symmetric unsigned: scale = max / q_max, zero_point = 0 (negative values clip to 0)
///   affine:             scale = (max - min) / (q_max - q_min),
///                       zero_point = q_min - round_half_even(min / scale), clamped to the codes
/// The scale is computed in double and rounded to float; an empty or non-finite range gives
/// scale 1, zero_point 0.
AffineParams params_from_range(double min, double max, const QuantScheme& s);

struct RangeOptions {
    double percentile = 99.99;     // percentile: percent of values kept (0 < p <= 100)
    int mmse_grid = 100;           // mmse: G, candidate ranges r_k = (1 - k/G) * r_max
    double mmse_max_shrink = 0.8;  // mmse: k = 0 .. floor(mmse_max_shrink * G)
    double mmse_norm_p = 2.0;      // mmse: error norm p of the grid search (2 = MSE; 2.4 as GPTQ)
    int als_max_iters = 20;        // mmse: least-squares scale refinement steps (0 = off)
    int histogram_bins = kDefaultHistogramBins;  // kl / histograms built from values
};

/// Throws ConfigError naming the option when a value is out of range.
void validate_range_options(const RangeOptions& opt);

class RangeEstimator {
public:
    virtual ~RangeEstimator() = default;
    /// Params for the n finite values of one group. The scheme's granularity is ignored.
    virtual AffineParams from_values(const float* x, std::int64_t n, const QuantScheme& s,
                                     const RangeOptions& opt) const = 0;
    /// Params for the values a histogram counted (activations, per tensor).
    virtual AffineParams from_histogram(const Histogram& h, const QuantScheme& s,
                                        const RangeOptions& opt) const = 0;
};

struct RangeEstimatorEntry {
    const char* name;
    const char* summary;  // one line, for CLI help and reports
    const RangeEstimator& estimator;
};

/// Every built-in estimator, in the order of builtin_range_estimators.inc.
const std::vector<RangeEstimatorEntry>& range_estimators();
std::vector<std::string> range_estimator_names();
/// Throws ConfigError "unknown range estimator 'mmes'; valid: minmax, percentile, ...".
const RangeEstimator& range_estimator(std::string_view name);

/// Params for x (row-major, shape dims) under the scheme's granularity: the estimator runs once
/// per group (tensor, channel or block, groups in parallel). Non-finite values throw DataError.
QuantParams estimate_params(const float* x, const Dims& dims, const QuantScheme& s,
                            const RangeEstimator& est, const RangeOptions& opt = {});
QuantParams estimate_params(const Tensor& x, const QuantScheme& s, const RangeEstimator& est,
                            const RangeOptions& opt = {});

/// sum |x - Q(x)|^norm_p over n values for one group's params, computed exactly as
/// fake_quantize does (float32 division, round half to even), accumulated in double.
double quant_error(const float* x, std::int64_t n, AffineParams p, const QuantScheme& s,
                   double norm_p = 2.0);

/// The mmse weight search, exposed for callers that already have one group's values.
/// mmse_grid_search: best of the grid in the norm-p error (k = 0 is min/max, so never worse
/// than minmax). als_refine: Lloyd steps on the scale with the zero point fixed,
///   q <- Q(x; s, z),  s <- <x, q - z> / <q - z, q - z>,
/// each step kept only if the squared error (norm 2) drops, so it never increases.
AffineParams mmse_grid_search(const float* x, std::int64_t n, const QuantScheme& s,
                              const RangeOptions& opt);
AffineParams als_refine(const float* x, std::int64_t n, const QuantScheme& s, AffineParams start,
                        int max_iters);

/// The KL divergences `kl` minimises: element j is KL(P || Q) for the threshold after
/// i = nq + j bins of `counts` (a |x| histogram), i = nq .. counts.size(), following TVM's
/// _get_optimal_threshold (P with the outliers in its last bin, Q merged into nq bins and
/// spread over P's non-empty bins, both smoothed with eps = 1e-4, normalised). Entries are +inf
/// where Q is empty. Empty when counts.size() < nq.
std::vector<double> kl_divergence_curve(const std::vector<std::int64_t>& counts, std::size_t nq);

/// Percentile ranks, nearest-rank definition on the sorted values v[0] <= ... <= v[n-1]:
/// upper(p) = v[ceil(p/100 * n) - 1] (index clamped to [0, n-1]) and lower(p) = v[n - 1 - that
/// index]. Used by `percentile` (on |x| when symmetric).
double percentile_upper(std::vector<float> values, double p);
double percentile_lower(std::vector<float> values, double p);

}  // namespace aquant::quant
