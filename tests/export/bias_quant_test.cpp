#include <gtest/gtest.h>

#include <limits>

#include "aquant/export/weight_quant.h"

namespace aquant::qdq {
namespace {

TEST(BiasQuant, RoundsHalfToEvenAndSaturates) {
    const Tensor b = Tensor::from_vector<float>({4}, {2.5f, 3.5f, -2.5f, 1e30f});
    const QuantizedBias q = quantize_bias(b, 0.5f, {2.0f});  // scale 1
    ASSERT_TRUE(q.codes.defined());
    ASSERT_EQ(q.scale, std::vector<float>{1.0f});
    const auto* c = q.codes.data<std::int32_t>();
    EXPECT_EQ(c[0], 2);
    EXPECT_EQ(c[1], 4);
    EXPECT_EQ(c[2], -2);
    EXPECT_EQ(c[3], std::numeric_limits<std::int32_t>::max());
    EXPECT_FALSE(quantize_bias(b, 1e-30f, {1e-30f}).codes.defined());  // underflow
}

}  // namespace
}  // namespace aquant::qdq
