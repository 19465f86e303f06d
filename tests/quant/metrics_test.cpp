#include "aquant/quant/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace aquant::quant {
namespace {

TEST(Metrics, HandComputedValues) {
    const std::vector<float> x = {1, 2, 3};
    const std::vector<float> y = {1, 2, 4};
    EXPECT_DOUBLE_EQ(mse(x, y), 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(nmse(x, y), 1.0 / 14.0);
    EXPECT_DOUBLE_EQ(sqnr_db(x, y), 10.0 * std::log10(14.0));
    EXPECT_NEAR(sqnr_db({1, -1}, {1.1f, -1.1f}), 20.0, 1e-5);  // 10 log10(2 / 0.02)
}

TEST(Metrics, EdgeCases) {
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(sqnr_db({1, 2}, {1, 2}), inf);
    EXPECT_EQ(nmse({1, 2}, {1, 2}), 0.0);
    EXPECT_EQ(nmse({0, 0}, {0, 1}), inf);
    EXPECT_EQ(sqnr_db({0, 0}, {0, 1}), -inf);
    EXPECT_EQ(mse(std::vector<float>{}, std::vector<float>{}), 0.0);
}

}  // namespace
}  // namespace aquant::quant
