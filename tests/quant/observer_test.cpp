#include "aquant/quant/observer.h"

#include "quant/quant_test_util.h"

#include "aquant/core/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace aquant::quant {
namespace {

using testing::make_scheme;

// Splits [0, n) into batches of pseudo-random sizes (fixed seed).
std::vector<std::pair<std::size_t, std::size_t>> random_split(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> len(1, std::max<std::size_t>(1, n / 5));
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (std::size_t b = 0; b < n;) {
        const std::size_t e = std::min(n, b + len(rng));
        out.emplace_back(b, e);
        b = e;
    }
    return out;
}

// Counts every value directly at the histogram's final width and window: the exact re-binning
// contract says the grown histogram must equal this count.
std::vector<std::int64_t> recount(const Histogram& h, const std::vector<float>& all) {
    std::vector<std::int64_t> counts(h.counts.size(), 0);
    for (float v : all) {
        const auto g = static_cast<std::int64_t>(std::floor(double(v) / h.bin_width));
        const std::int64_t i = g - h.first_bin;
        EXPECT_GE(i, 0) << v;
        EXPECT_LT(i, static_cast<std::int64_t>(counts.size())) << v;
        if (i >= 0 && i < static_cast<std::int64_t>(counts.size()))
            ++counts[std::size_t(i)];
    }
    return counts;
}

TEST(MinMaxObserver, IndependentOfBatchSplitting) {
    const Dims dims = {40, 3, 5};  // batches split axis 0
    const auto x = testing::laplace(600, 1.0f, 5);
    for (std::optional<int> axis : {std::optional<int>{}, std::optional<int>{1}}) {
        MinMaxObserver whole(axis);
        whole.observe(x.data(), dims);
        for (std::uint32_t seed : {1u, 2u, 3u}) {
            MinMaxObserver parts(axis);
            for (auto [b, e] : random_split(40, seed)) {
                parts.observe(x.data() + b * 15, {std::int64_t(e - b), 3, 5});
            }
            EXPECT_EQ(parts.channel_min(), whole.channel_min()) << "seed " << seed;
            EXPECT_EQ(parts.channel_max(), whole.channel_max()) << "seed " << seed;
            EXPECT_EQ(parts.count(), 600);
            const QuantScheme s = axis ? make_scheme(8, true, false, Granularity::kChannel, -2)
                                       : make_scheme(8, true, false);
            const QuantParams pa = parts.params(s);
            const QuantParams pw = whole.params(s);
            EXPECT_EQ(pa.scale, pw.scale);
            EXPECT_EQ(pa.zero_point, pw.zero_point);
        }
    }
}

TEST(MinMaxObserver, PerChannelRangesAndParams) {
    // Channel c of [2, 3, 2] holds values c * 10 + {-1, 0, 1, 2}.
    const std::vector<float> x = {-1, 0, 9, 10, 19, 20, 1, 2, 11, 12, 21, 22};
    MinMaxObserver obs(1);
    obs.observe(x.data(), {2, 3, 2});
    EXPECT_EQ(obs.channel_min(), (std::vector<float>{-1, 9, 19}));
    EXPECT_EQ(obs.channel_max(), (std::vector<float>{2, 12, 22}));
    const QuantParams p = obs.params(make_scheme(8, false, false, Granularity::kChannel, 1));
    EXPECT_EQ(p.scale_dims, Dims{3});
    EXPECT_FLOAT_EQ(p.scale[0], 3.0f / 255.0f);
    EXPECT_FLOAT_EQ(p.scale[2], 22.0f / 255.0f);  // range widened to [0, 22]
    EXPECT_EQ(p.zero_point[2], 0);
    EXPECT_THROW(obs.params(make_scheme(8, true, true, Granularity::kChannel, 0)), ConfigError);
    EXPECT_THROW(obs.observe(x.data(), {3, 2, 2}), InternalError);  // 2 channels, not 3
}

TEST(MinMaxObserver, SkipsAndCountsNonFiniteValues) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> x = {1.0f, inf, -2.0f, std::nanf(""), -inf};
    MinMaxObserver obs;
    obs.observe(x.data(), {5});
    EXPECT_EQ(obs.min(), -2.0f);
    EXPECT_EQ(obs.max(), 1.0f);
    EXPECT_EQ(obs.count(), 2);
    EXPECT_EQ(obs.nonfinite_count(), 3);
}

TEST(HistogramObserver, GrowingRebinsExactlyAndKeepsCountsAndExtremes) {
    HistogramObserver obs;
    std::vector<float> all;
    std::uint32_t seed = 90;
    // Growing scales, a shift to one side, then a far outlier: every kind of regrowth.
    for (float scale : {0.5f, 0.4f, 2.0f, 3.0f, 50.0f}) {
        auto batch = testing::gaussian(3001, scale, seed++);
        if (scale == 3.0f) {
            for (auto& v : batch)
                v = std::fabs(v) + 20.0f;
        }
        obs.observe(batch.data(), std::int64_t(batch.size()));
        all.insert(all.end(), batch.begin(), batch.end());
        const Histogram& h = obs.histogram();
        std::int64_t sum = 0;
        for (auto c : h.counts)
            sum += c;
        EXPECT_EQ(sum, std::int64_t(all.size()));
        EXPECT_EQ(h.total, std::int64_t(all.size()));
        EXPECT_EQ(h.min, *std::min_element(all.begin(), all.end()));
        EXPECT_EQ(h.max, *std::max_element(all.begin(), all.end()));
        EXPECT_EQ(h.counts.size(), 2048u);
        EXPECT_EQ(recount(h, all), h.counts) << "after the batch with scale " << scale;
    }
    const float huge = 1e30f;
    obs.observe(&huge, 1);
    all.push_back(huge);
    EXPECT_EQ(obs.histogram().total, std::int64_t(all.size()));
    EXPECT_EQ(recount(obs.histogram(), all), obs.histogram().counts);
}

TEST(HistogramObserver, WidthOnlyDoublesFromTheFirstBatch) {
    HistogramObserver obs(64);
    const std::vector<float> first = {-1.0f, 0.5f, 3.0f};
    obs.observe(first.data(), 3);
    const double w0 = obs.histogram().bin_width;
    const std::vector<float> second = {-40.0f, 100.0f};
    obs.observe(second.data(), 2);
    const double ratio = obs.histogram().bin_width / w0;
    EXPECT_EQ(ratio, std::exp2(std::round(std::log2(ratio)))) << "ratio " << ratio;
    EXPECT_GT(ratio, 1.0);
    EXPECT_EQ(recount(obs.histogram(), {-1.0f, 0.5f, 3.0f, -40.0f, 100.0f}),
              obs.histogram().counts);
}

TEST(HistogramObserver, ZerosBeforeTheFirstNonZeroBatchLandInBinZero) {
    HistogramObserver obs(16);
    const std::vector<float> zeros(7, 0.0f);
    obs.observe(zeros.data(), 7);
    EXPECT_EQ(obs.histogram().bin_width, 0.0);
    EXPECT_EQ(obs.histogram().total, 7);
    const std::vector<float> x = {-3.0f, 1.0f, 2.0f};
    obs.observe(x.data(), 3);
    const Histogram& h = obs.histogram();
    EXPECT_EQ(h.total, 10);
    EXPECT_EQ(h.counts[std::size_t(-h.first_bin)], 7);  // bin [0, w) holds the zeros
    EXPECT_EQ(h.min, -3.0f);
    // Degenerate histograms still give valid params.
    HistogramObserver only_zeros;
    only_zeros.observe(zeros.data(), 7);
    for (const auto& e : range_estimators()) {
        const QuantParams p = only_zeros.params(make_scheme(8, true, true), e.estimator);
        EXPECT_EQ(p.scale[0], 1.0f) << e.name;
    }
}

TEST(HistogramObserver, DeterministicAndNearlySplitIndependent) {
    std::vector<float> x = testing::gaussian(40000, 1.0f, 95);
    for (std::size_t i = 0; i < 8; ++i)
        x[i * 4001] = 25.0f + float(i);
    auto observe_split = [&](std::uint32_t seed) {
        HistogramObserver obs;
        for (auto [b, e] : random_split(x.size(), seed)) {
            obs.observe(x.data() + b, std::int64_t(e - b));
        }
        return obs;
    };
    const HistogramObserver a = observe_split(1);
    const HistogramObserver a2 = observe_split(1);
    EXPECT_EQ(a.histogram().counts, a2.histogram().counts);
    EXPECT_EQ(a.histogram().bin_width, a2.histogram().bin_width);
    const HistogramObserver b = observe_split(2);
    EXPECT_EQ(a.histogram().total, b.histogram().total);
    EXPECT_EQ(a.histogram().min, b.histogram().min);
    EXPECT_EQ(a.histogram().max, b.histogram().max);
    const QuantScheme s = make_scheme(8, true, true);
    for (const char* name : {"minmax", "percentile", "mmse", "kl"}) {
        const QuantParams pa = a.params(s, range_estimator(name));
        EXPECT_EQ(pa.scale, a2.params(s, range_estimator(name)).scale) << name;
        const QuantParams pb = b.params(s, range_estimator(name));
        // Another split may bin differently: thresholds agree within a few coarse bins.
        const double bins = std::max(a.histogram().bin_width, b.histogram().bin_width);
        EXPECT_NEAR(pa.scale[0] * 127.0, pb.scale[0] * 127.0, 4 * bins) << name;
    }
}

TEST(HistogramObserver, PerTensorOnly) {
    HistogramObserver obs;
    const std::vector<float> x = {1, 2, 3};
    obs.observe(x.data(), 3);
    EXPECT_THROW(
        obs.params(make_scheme(8, true, true, Granularity::kChannel, 0), range_estimator("minmax")),
        ConfigError);
    const std::vector<float> bad = {1.0f, std::numeric_limits<float>::infinity()};
    obs.observe(bad.data(), 2);
    EXPECT_EQ(obs.nonfinite_count(), 1);
    EXPECT_EQ(obs.histogram().total, 4);
}

TEST(MomentObserver, PerChannelMeanAndMeanSquare) {
    const Dims dims = {7, 4, 3};
    const auto x = testing::gaussian(84, 2.0f, 99);
    MomentObserver obs(-2);
    obs.observe(x.data(), {3, 4, 3});
    obs.observe(x.data() + 36, {4, 4, 3});
    const auto mean = obs.mean();
    const auto sq = obs.mean_square();
    ASSERT_EQ(mean.size(), 4u);
    for (int c = 0; c < 4; ++c) {
        double s = 0.0;
        double s2 = 0.0;
        for (int o = 0; o < 7; ++o) {
            for (int j = 0; j < 3; ++j) {
                const double v = x[(o * 4 + c) * 3 + j];
                s += v;
                s2 += v * v;
            }
        }
        EXPECT_NEAR(mean[c], s / 21.0, 1e-12);
        EXPECT_NEAR(sq[c], s2 / 21.0, 1e-12);
        EXPECT_EQ(obs.count()[c], 21);
    }
}

}  // namespace
}  // namespace aquant::quant
