#include "aquant/quant/range.h"

#include "quant/quant_test_util.h"

#include "aquant/core/error.h"
#include "aquant/quant/metrics.h"
#include "aquant/quant/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace aquant::quant {
namespace {

using testing::describe;
using testing::make_scheme;

double fq_mse(const std::vector<float>& x, const Dims& dims, const QuantParams& p) {
    return mse(x, fake_quantize(x, dims, p));
}

QuantParams estimate(const std::vector<float>& x, const Dims& dims, const QuantScheme& s,
                     const char* name, const RangeOptions& opt = {}) {
    return estimate_params(x.data(), dims, s, range_estimator(name), opt);
}

TEST(ParamsFromRange, FollowsTheDocumentedFormulas) {
    const QuantScheme sym = make_scheme(8, true, true);
    const AffineParams a = params_from_range(-2.0, 1.0, sym);
    EXPECT_FLOAT_EQ(a.scale, 2.0f / 127.0f);
    EXPECT_EQ(a.zero_point, 0);
    const AffineParams u = params_from_range(-5.0, 3.0, make_scheme(4, false, true));
    EXPECT_FLOAT_EQ(u.scale, 3.0f / 15.0f);
    const AffineParams aff = params_from_range(-1.0, 3.0, make_scheme(8, false, false));
    EXPECT_FLOAT_EQ(aff.scale, 4.0f / 255.0f);
    EXPECT_EQ(aff.zero_point, 64);  // round(1 / (4/255)) = round(63.75)
    // The range is widened to contain 0.
    const AffineParams pos = params_from_range(2.0, 3.0, make_scheme(8, true, false));
    EXPECT_FLOAT_EQ(pos.scale, 3.0f / 255.0f);
    EXPECT_EQ(pos.zero_point, -128);
    const AffineParams empty = params_from_range(0.0, 0.0, make_scheme(4, true, false));
    EXPECT_EQ(empty.scale, 1.0f);
    EXPECT_EQ(empty.zero_point, 0);
}

TEST(RangeEstimators, RegistryListsAndRejectsNames) {
    EXPECT_EQ(range_estimator_names(),
              (std::vector<std::string>{"minmax", "percentile", "mmse", "kl", "entropy"}));
    try {
        range_estimator("mmes");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(
            e.what(),
            "unknown range estimator 'mmes'; valid: minmax, percentile, mmse, kl, entropy");
    }
    EXPECT_EQ(&range_estimator("entropy"), &range_estimator("kl"));
}

TEST(RangeEstimators, RejectNonFiniteValuesAndBadOptions) {
    std::vector<float> x = {1.0f, std::nanf(""), 2.0f};
    EXPECT_THROW(estimate(x, {3}, make_scheme(8, true, true), "minmax"), DataError);
    RangeOptions opt;
    opt.percentile = 0.0;
    EXPECT_THROW(estimate({1.0f}, {1}, make_scheme(8, true, true), "percentile", opt), ConfigError);
}

TEST(MinMax, MapsTheExtremesOntoTheGrid) {
    const auto x = testing::gaussian(1000, 1.0f, 3);
    const float amax =
        std::max(-*std::min_element(x.begin(), x.end()), *std::max_element(x.begin(), x.end()));
    const QuantParams p = estimate(x, {1000}, make_scheme(4, true, true), "minmax");
    EXPECT_FLOAT_EQ(p.scale[0] * 7.0f, amax);
    const QuantParams a = estimate(x, {1000}, make_scheme(8, false, false), "minmax");
    const auto q = quantize(x, {1000}, a);
    EXPECT_EQ(*std::min_element(q.begin(), q.end()), 0);
    EXPECT_EQ(*std::max_element(q.begin(), q.end()), 255);
}

// ggml test-quantize-fns style: an error bound written down per bit width. Uniform data with
// min/max params is never clipped, so the error is uniform on [-step/2, step/2]: MSE ~ step^2/12.
TEST(ErrorBounds, UniformDataStaysWithinStepSquaredOverTwelve) {
    const std::size_t n = 1 << 14;
    for (int bits = 2; bits <= 8; ++bits) {
        for (bool is_signed : {true, false}) {
            for (bool symmetric : {true, false}) {
                if (!is_signed && symmetric)
                    continue;  // would clip the negative half
                const QuantScheme s = make_scheme(bits, is_signed, symmetric);
                const std::uint32_t seed = 11 + static_cast<std::uint32_t>(bits);
                const auto x = testing::uniform(n, -1.0f, 1.0f, seed);
                const QuantParams p = estimate(x, {std::int64_t(n)}, s, "minmax");
                const double step = p.scale[0];
                const double ratio = fq_mse(x, {std::int64_t(n)}, p) / (step * step / 12.0);
                EXPECT_LE(ratio, 1.1) << describe(s, {std::int64_t(n)}, seed);
                EXPECT_GE(ratio, 0.9) << describe(s, {std::int64_t(n)}, seed);
            }
        }
    }
}

// Gaussian data, per channel, int sym min/max. From 3 bits on the error is the uniform rounding
// noise of each channel's step (no clipping): MSE <= 1.1 * mean_c(step_c^2 / 12). The NMSE table
// is the measured value (seed 21, 64 x 512 values) plus 10%, a regression bound in the style of
// ggml's MAX_QUANTIZATION_TOTAL_ERROR_<n>BITS.
TEST(ErrorBounds, GaussianPerChannelPerBitWidth) {
    const double max_nmse[9] = {0, 0, 0.77, 0.107, 0.0197, 0.0043, 1.01e-3, 2.45e-4, 6.0e-5};
    const Dims dims = {64, 512};
    const auto x = testing::gaussian(64 * 512, 1.0f, 21);
    for (int bits = 2; bits <= 8; ++bits) {
        const QuantScheme s = make_scheme(bits, true, true, Granularity::kChannel, 0);
        const QuantParams p = estimate(x, dims, s, "minmax");
        const auto y = fake_quantize(x, dims, p);
        EXPECT_LE(nmse(x, y), max_nmse[bits]) << describe(s, dims, 21);
        if (bits >= 3) {
            double step_term = 0.0;
            for (float scale : p.scale)
                step_term += double(scale) * scale / 12.0;
            step_term /= 64.0;
            EXPECT_LE(mse(x, y), 1.1 * step_term) << describe(s, dims, 21);
            EXPECT_GE(mse(x, y), 0.9 * step_term) << describe(s, dims, 21);
        }
    }
}

TEST(Percentile, MatchesTheNearestRankOfASortedArray) {
    std::vector<float> v = testing::uniform(1001, -3.0f, 5.0f, 4);
    std::vector<float> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(percentile_upper(v, 100.0), sorted.back());
    EXPECT_EQ(percentile_upper(v, 50.0), sorted[500]);  // ceil(500.5) - 1
    EXPECT_EQ(percentile_upper(v, 99.0), sorted[990]);  // ceil(990.99) - 1
    EXPECT_EQ(percentile_lower(v, 99.0), sorted[1000 - 990]);
    EXPECT_EQ(percentile_upper(v, 0.01), sorted[0]);

    const std::size_t n = 10000;
    const auto x = testing::gaussian(n, 1.0f, 8);
    std::vector<float> a(n);
    for (std::size_t i = 0; i < n; ++i)
        a[i] = std::fabs(x[i]);
    std::sort(a.begin(), a.end());
    RangeOptions opt;
    opt.percentile = 99.9;
    const QuantParams p =
        estimate(x, {std::int64_t(n)}, make_scheme(8, true, true), "percentile", opt);
    EXPECT_FLOAT_EQ(p.scale[0] * 127.0f, a[9989]);  // ceil(9990) - 1
    std::vector<float> s = x;
    std::sort(s.begin(), s.end());
    const QuantParams q =
        estimate(x, {std::int64_t(n)}, make_scheme(8, false, false), "percentile", opt);
    EXPECT_NEAR(q.scale[0] * 255.0, s[9989] - s[10], 1e-5);
}

TEST(Percentile, FromAHistogramIsWithinOneBinAboveTheExactValue) {
    const std::size_t n = 50000;
    const auto x = testing::laplace(n, 1.0f, 12);
    const Histogram h = make_histogram(x.data(), std::int64_t(n));
    std::vector<float> a(n);
    for (std::size_t i = 0; i < n; ++i)
        a[i] = std::fabs(x[i]);
    for (double pct : {90.0, 99.0, 99.99}) {
        RangeOptions opt;
        opt.percentile = pct;
        const QuantScheme s = make_scheme(8, true, true);
        const double t = range_estimator("percentile").from_histogram(h, s, opt).scale * 127.0;
        const double exact = percentile_upper(a, pct);
        EXPECT_GE(t, exact * (1 - 1e-6)) << pct;
        EXPECT_LE(t, exact + 2 * h.bin_width) << pct << " bin width " << h.bin_width;
    }
}

TEST(Mmse, NeverWorseThanMinMaxAndBetterOnHeavyTails) {
    const Dims dims = {16, 256};
    const std::size_t n = 16 * 256;

    struct Data {
        const char* name;
        std::vector<float> x;
    };

    const std::vector<Data> data = {{"uniform", testing::uniform(n, -1, 1, 31)},
                                    {"gaussian", testing::gaussian(n, 1, 32)},
                                    {"laplace", testing::laplace(n, 1, 33)},
                                    {"student-t3", testing::student_t(n, 3, 34)}};
    for (const Data& d : data) {
        for (int bits = 2; bits <= 8; ++bits) {
            for (auto g : {Granularity::kTensor, Granularity::kChannel, Granularity::kBlock}) {
                for (bool symmetric : {true, false}) {
                    const QuantScheme s = make_scheme(bits, true, symmetric, g, 0, 4);
                    const double e_minmax = fq_mse(d.x, dims, estimate(d.x, dims, s, "minmax"));
                    const double e_mmse = fq_mse(d.x, dims, estimate(d.x, dims, s, "mmse"));
                    EXPECT_LE(e_mmse, e_minmax) << d.name << " " << describe(s, dims, 0);
                    const bool heavy = d.name[0] == 'l' || d.name[0] == 's';
                    if (heavy && (bits == 3 || bits == 4) && g != Granularity::kBlock) {
                        // Measured: 1.5-4.2x per tensor, 1.1-2.4x per channel (256 values).
                        const double gain = g == Granularity::kTensor ? 1.4 : 1.05;
                        EXPECT_LT(e_mmse * gain, e_minmax) << d.name << " " << describe(s, dims, 0);
                    }
                }
            }
        }
    }
}

TEST(Mmse, NormPOptionChangesTheObjective) {
    const auto x = testing::student_t(4096, 3, 35);
    const QuantScheme s = make_scheme(4, true, true);
    RangeOptions p2;
    p2.als_max_iters = 0;
    RangeOptions p24 = p2;
    p24.mmse_norm_p = 2.4;
    const AffineParams a2 = mmse_grid_search(x.data(), 4096, s, p2);
    const AffineParams a24 = mmse_grid_search(x.data(), 4096, s, p24);
    // Each is the best of the same grid in its own norm.
    EXPECT_LE(quant_error(x.data(), 4096, a2, s, 2.0), quant_error(x.data(), 4096, a24, s, 2.0));
    EXPECT_LE(quant_error(x.data(), 4096, a24, s, 2.4), quant_error(x.data(), 4096, a2, s, 2.4));
}

TEST(Mmse, AlternatingLeastSquaresNeverIncreasesTheError) {
    int improved = 0;
    for (std::uint32_t seed = 40; seed < 60; ++seed) {
        const auto x =
            seed % 2 ? testing::laplace(777, 0.5f, seed) : testing::gaussian(777, 2, seed);
        for (int bits : {2, 3, 4, 6, 8}) {
            for (bool symmetric : {true, false}) {
                const QuantScheme s = make_scheme(bits, true, symmetric);
                std::mt19937 rng(seed);
                std::uniform_real_distribution<double> f(0.2, 1.2);
                float lo = *std::min_element(x.begin(), x.end());
                float hi = *std::max_element(x.begin(), x.end());
                const AffineParams start = params_from_range(f(rng) * lo, f(rng) * hi, s);
                const double before = quant_error(x.data(), 777, start, s);
                const AffineParams after = als_refine(x.data(), 777, s, start, 20);
                const double e = quant_error(x.data(), 777, after, s);
                EXPECT_LE(e, before) << describe(s, {777}, seed);
                EXPECT_EQ(after.zero_point, start.zero_point);
                improved += e < before;
            }
        }
    }
    EXPECT_GT(improved, 50) << "ALS should usually improve a random start";
}

TEST(Mmse, PerChannelEqualsEstimatingEachChannelAlone) {
    const Dims dims = {6, 40};
    const auto x = testing::laplace(240, 1, 50);
    const QuantScheme s = make_scheme(3, true, false, Granularity::kChannel, 1);
    const QuantParams p = estimate(x, dims, s, "mmse");
    ASSERT_EQ(p.scale.size(), 40u);
    for (int c = 0; c < 40; ++c) {
        std::vector<float> column;
        for (int r = 0; r < 6; ++r)
            column.push_back(x[r * 40 + c]);
        const AffineParams a = range_estimator("mmse").from_values(column.data(), 6, s, {});
        EXPECT_EQ(p.scale[c], a.scale) << c;
        EXPECT_EQ(p.zero_point[c], a.zero_point) << c;
    }
}

// Activations: a Gaussian body with a few far outliers. The histogram search should clip the
// outliers, beat min/max clearly and come close to the exact search on the values themselves.
TEST(Mmse, HistogramClipsOutliersAndApproachesTheExactSearch) {
    std::vector<float> x = testing::gaussian(100000, 1.0f, 60);
    for (std::size_t i = 0; i < 5; ++i)
        x[i * 9973] = 12.0f + static_cast<float>(i);
    for (bool is_signed : {true, false}) {
        for (bool symmetric : {true, false}) {
            const QuantScheme s = make_scheme(4, is_signed, symmetric);
            std::vector<float> data = x;
            if (!is_signed && symmetric) {
                for (auto& v : data)
                    v = std::max(v, 0.0f);  // after ReLU
            }
            const Dims dims = {std::int64_t(data.size())};
            const Histogram h = make_histogram(data.data(), dims[0]);
            auto as_params = [&](AffineParams a) {
                QuantParams p;
                p.scheme = s;
                p.scale = {a.scale};
                p.zero_point = {a.zero_point};
                return p;
            };
            const AffineParams m = range_estimator("mmse").from_histogram(h, s, {});
            const double e_hist = fq_mse(data, dims, as_params(m));
            const double e_minmax =
                fq_mse(data, dims, as_params(range_estimator("minmax").from_histogram(h, s, {})));
            const double e_exact = fq_mse(data, dims, estimate(data, dims, s, "mmse"));
            const double clip = m.scale * (q_max(s) - m.zero_point);
            EXPECT_LT(clip, 6.0) << scheme_str(s);
            EXPECT_GT(clip, 1.5) << scheme_str(s);
            EXPECT_LT(2.0 * e_hist, e_minmax) << scheme_str(s);
            EXPECT_LT(e_hist, 1.05 * e_exact) << scheme_str(s);
        }
    }
}

// TVM's _get_optimal_threshold inner loop, one candidate at a time (O(i) each): the oracle for
// kl_divergence_curve.
double tvm_kl_ref(const std::vector<std::int64_t>& hist, std::size_t i, std::size_t nq) {
    const double eps = 1e-4;
    std::vector<double> p(hist.begin(), hist.begin() + static_cast<std::ptrdiff_t>(i));
    for (std::size_t k = i; k < hist.size(); ++k)
        p[i - 1] += static_cast<double>(hist[k]);
    const std::size_t m = i / nq;
    std::vector<double> q(i, 0.0);
    for (std::size_t j = 0; j < nq; ++j) {
        const std::size_t start = j * m;
        const std::size_t stop = j == nq - 1 ? i : start + m;
        double sum = 0.0;
        double norm = 0.0;
        for (std::size_t k = start; k < stop; ++k) {
            sum += static_cast<double>(hist[k]);
            norm += p[k] != 0.0;
        }
        for (std::size_t k = start; k < stop; ++k) {
            if (norm != 0.0 && p[k] != 0.0)
                q[k] = sum / norm;
        }
    }
    auto smooth = [&](std::vector<double>& d) {
        double zeros = 0.0;
        for (double v : d)
            zeros += v == 0.0;
        const double e1 = eps * zeros / (static_cast<double>(d.size()) - zeros);
        for (double& v : d)
            v = v == 0.0 ? eps : v - e1;
    };
    smooth(p);
    smooth(q);
    double sp = 0.0;
    double sq = 0.0;
    for (std::size_t k = 0; k < i; ++k) {
        sp += p[k];
        sq += q[k];
    }
    double kl = 0.0;
    for (std::size_t k = 0; k < i; ++k)
        kl += p[k] / sp * std::log((p[k] / sp) / (q[k] / sq));
    return kl;
}

TEST(Kl, DivergenceCurveMatchesTheTvmLoop) {
    std::vector<std::vector<std::int64_t>> hists;
    {
        std::vector<float> x = testing::gaussian(30000, 1.0f, 72);
        for (std::size_t i = 0; i < 6; ++i)
            x[i * 4001] = 9.0f + float(i);
        for (auto& v : x)
            v = std::fabs(v);
        hists.push_back(make_histogram(x.data(), 30000, 400).counts);
    }
    {
        auto x = testing::laplace(5000, 1.0f, 73);  // sparse tail: many empty bins
        for (auto& v : x)
            v = std::fabs(v);
        hists.push_back(make_histogram(x.data(), 5000, 300).counts);
    }
    hists.push_back({5, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});  // empty groups
    for (std::size_t h = 0; h < hists.size(); ++h) {
        for (std::size_t nq : {4u, 8u, 16u}) {
            const auto curve = kl_divergence_curve(hists[h], nq);
            ASSERT_EQ(curve.size(), hists[h].size() - nq + 1);
            for (std::size_t j = 0; j < curve.size(); ++j) {
                const double ref = tvm_kl_ref(hists[h], nq + j, nq);
                ASSERT_NEAR(curve[j], ref, 1e-9 + 1e-7 * std::fabs(ref))
                    << "histogram " << h << " nq=" << nq << " i=" << nq + j;
            }
        }
    }
}

TEST(Kl, ClipsGaussianOutliers) {
    for (bool relu : {false, true}) {
        std::vector<float> x = testing::gaussian(100000, 1.0f, 70);
        for (std::size_t i = 0; i < 20; ++i)
            x[i * 4999] = 30.0f + static_cast<float>(i);
        if (relu) {
            for (auto& v : x)
                v = std::max(v, 0.0f);
        }
        const float max = *std::max_element(x.begin(), x.end());
        const QuantScheme s = make_scheme(8, !relu, true);
        const Histogram h = make_histogram(x.data(), std::int64_t(x.size()));
        const AffineParams a = range_estimator("kl").from_histogram(h, s, {});
        const double t = a.scale * q_max(s);
        std::printf("kl relu=%d threshold=%.3f max=%.1f\n", relu, t, max);
        EXPECT_LT(t, 0.5 * max) << "relu=" << relu;
        EXPECT_GT(t, 2.5) << "relu=" << relu;  // keeps the Gaussian body
        const AffineParams v =
            range_estimator("kl").from_values(x.data(), std::int64_t(x.size()), s, {});
        EXPECT_LT(v.scale * q_max(s), 0.5 * max);
        EXPECT_GT(v.scale * q_max(s), 2.5);
    }
}

TEST(Kl, KeepsTheFullRangeWithoutOutliers) {
    // Uniform data has no tail to cut: the best threshold is the end of the histogram.
    const auto x = testing::uniform(50000, -1.0f, 1.0f, 71);
    const QuantScheme s = make_scheme(8, true, true);
    const AffineParams a = range_estimator("kl").from_values(x.data(), 50000, s, {});
    EXPECT_GT(a.scale * 127.0, 0.95);
}

TEST(RangeEstimators, AllGiveValidParamsOnDegenerateData) {
    for (const auto& e : range_estimators()) {
        for (const std::vector<float>& x :
             {std::vector<float>{0, 0, 0}, std::vector<float>{2.5f}, std::vector<float>{-1, -1}}) {
            for (bool symmetric : {true, false}) {
                for (bool is_signed : {true, false}) {
                    const QuantScheme s = make_scheme(4, is_signed, symmetric);
                    const QuantParams p = estimate(x, {std::int64_t(x.size())}, s, e.name);
                    EXPECT_FALSE(params_mismatch(p, {std::int64_t(x.size())}).has_value())
                        << e.name << " " << scheme_str(s);
                    const Histogram h = make_histogram(x.data(), std::int64_t(x.size()));
                    const AffineParams a = e.estimator.from_histogram(h, s, {});
                    EXPECT_GT(a.scale, 0.0f) << e.name;
                    EXPECT_GE(a.zero_point, q_min(s)) << e.name;
                    EXPECT_LE(a.zero_point, q_max(s)) << e.name;
                }
            }
        }
    }
}

}  // namespace
}  // namespace aquant::quant
