// Vectorised exp / erf (src/engine/kernels/vector_math.h) against double std::exp / std::erf on
// dense grids, the Erf and Softmax kernels that use them against double oracles, and the special
// values. Bounds are the ones vector_math.h states: exp relative error 2e-7, erf absolute error
// 4e-7 (relative 2e-7 below |x| = 0.5).
#include "../../src/engine/kernels/vector_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

std::vector<float> grid(float lo, float hi, int n) {
    std::vector<float> x(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / (n - 1);
    return x;
}

TEST(VectorMath, ExpRelativeErrorWithinBound) {
    // 200001 points (not a multiple of 8: the tail block is covered too).
    const auto x = grid(-87.3f, 88.0f, 200001);
    std::vector<float> y(x.size());
    exp_f32(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    double worst = 0;
    float at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double want = std::exp(static_cast<double>(x[i]));
        const double rel = std::abs(y[i] - want) / want;
        if (rel > worst) worst = rel, at = x[i];
    }
    EXPECT_LE(worst, 2e-7) << "at x = " << at;
}

TEST(VectorMath, ExpSpecialValues) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> x = {0.0f, -100.0f, -inf, std::nanf(""), 1.0f, -87.4f, 88.0f};
    std::vector<float> y(x.size());
    exp_f32(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_EQ(y[2], 0.0f);
    EXPECT_TRUE(std::isnan(y[3]));
    EXPECT_NEAR(y[4], std::exp(1.0), 3e-7);
    EXPECT_EQ(y[5], 0.0f);
    EXPECT_TRUE(std::isfinite(y[6]));
}

TEST(VectorMath, ErfErrorWithinBound) {
    const auto x = grid(-6.0f, 6.0f, 240001);
    std::vector<float> y(x.size());
    erf_f32(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    double worst_abs = 0, worst_rel_small = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double want = std::erf(static_cast<double>(x[i]));
        const double err = std::abs(y[i] - want);
        worst_abs = std::max(worst_abs, err);
        if (std::abs(x[i]) < 0.5f && x[i] != 0.0f) {
            worst_rel_small = std::max(worst_rel_small, err / std::abs(want));
        }
    }
    EXPECT_LE(worst_abs, 4e-7);        // measured 3.3e-7
    EXPECT_LE(worst_rel_small, 2e-7);  // measured 1.6e-7
    // Odd symmetry holds exactly; tiny inputs keep their relative accuracy.
    std::vector<float> neg(x.size()), yneg(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) neg[i] = -x[i];
    erf_f32(neg.data(), yneg.data(), static_cast<std::int64_t>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(yneg[i], -y[i]) << "x = " << x[i];
    const std::vector<float> tiny = {1e-30f, -3e-8f, 1e-4f};
    std::vector<float> ty(3);
    erf_f32(tiny.data(), ty.data(), 3);
    for (int i = 0; i < 3; ++i) {
        EXPECT_NEAR(ty[i], std::erf(static_cast<double>(tiny[i])), 2e-7 * std::abs(tiny[i]));
    }
}

TEST(VectorMath, ErfSpecialValues) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> x = {inf, -inf, std::nanf(""), 0.0f, -0.0f, 10.0f};
    std::vector<float> y(x.size());
    erf_f32(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[1], -1.0f);
    EXPECT_TRUE(std::isnan(y[2]));
    EXPECT_EQ(y[3], 0.0f);
    EXPECT_EQ(y[4], 0.0f);
    EXPECT_EQ(y[5], 1.0f);
}

TEST(VectorMath, ErfKernelMatchesDoubleOracle) {
    const auto x = random_floats(1237, 5, -4.0f, 4.0f);
    const Tensor y = NodeRunner("Erf", 13).input(f32({1237}, x)).run1();
    const auto got = values(y);
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_NEAR(got[i], std::erf(static_cast<double>(x[i])), 4e-7) << "x = " << x[i];
    }
}

// Softmax / LogSoftmax along the last axis against double math, lines of lengths around the
// 8-wide block (1, 7, 8, 9, 49) and one with large values.
TEST(VectorMath, SoftmaxKernelsMatchDoubleOracle) {
    for (std::int64_t len : {1, 7, 8, 9, 49}) {
        const std::int64_t rows = 5;
        auto x = random_floats(static_cast<std::size_t>(rows * len), 40 + len, -8.0f, 8.0f);
        x[0] += 1000.0f;
        for (const char* op : {"Softmax", "LogSoftmax"}) {
            const Tensor y = NodeRunner(op, 13).input(f32({rows, len}, x)).run1();
            const auto got = values(y);
            for (std::int64_t r = 0; r < rows; ++r) {
                const float* xr = x.data() + r * len;
                double mx = xr[0];
                for (std::int64_t i = 1; i < len; ++i) mx = std::max(mx, double{xr[i]});
                double sum = 0;
                for (std::int64_t i = 0; i < len; ++i) sum += std::exp(xr[i] - mx);
                for (std::int64_t i = 0; i < len; ++i) {
                    const double want = std::string(op) == "Softmax"
                                            ? std::exp(xr[i] - mx) / sum
                                            : xr[i] - mx - std::log(sum);
                    EXPECT_NEAR(got[static_cast<std::size_t>(r * len + i)], want,
                                1e-6 * std::max(1.0, std::abs(want)))
                        << op << " len " << len << " row " << r << " i " << i;
                }
            }
        }
    }
}

}  // namespace
}  // namespace aquant::engine
