#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "aquant/export/weight_quant.h"
#include "aquant/quant/quantize.h"
#include "export/export_test_util.h"

namespace aquant::qdq {
namespace {

TEST(WeightQuant, SchemeIsSymmetricNarrowOnTheLayoutAxes) {
    const WeightLayout gemm_kn{1, 0, 2};  // Gemm transB=0: B [K, N]
    const auto ch = weight_scheme(4, quant::Granularity::kChannel, 0, gemm_kn);
    EXPECT_EQ(ch.axis, 1);
    EXPECT_TRUE(ch.symmetric);
    EXPECT_TRUE(ch.narrow_range);
    EXPECT_EQ(quant::q_min(ch), -7);
    EXPECT_EQ(quant::q_max(ch), 7);
    const auto blk = weight_scheme(3, quant::Granularity::kBlock, 32, gemm_kn);
    EXPECT_EQ(blk.axis, 0);
    EXPECT_EQ(blk.block_size, 32);
    EXPECT_EQ(quant::q_max(blk), 3);
    EXPECT_EQ(quant::storage_dtype(blk), DType::kI4);
    EXPECT_THROW(weight_scheme(1, quant::Granularity::kTensor, 0, gemm_kn), ConfigError);
}

TEST(WeightQuant, BytesCountCodesScalesAndZeroPoints) {
    const Tensor w = testing::random_tensor({6, 5}, 3);
    const auto s = weight_scheme(3, quant::Granularity::kChannel, 0, {0, 1, -1});
    const QuantizedWeight q = quantize_weight(w, s, quant::range_estimator("minmax"), DType::kI4);
    EXPECT_EQ(q.codes.dtype(), DType::kI4);
    EXPECT_EQ(q.bytes_stored, 15 + 6 * 4 + 3);          // 30 nibbles, 6 scales, 6 int4 zps
    EXPECT_EQ(q.bytes_packed, (30 * 3 + 7) / 8 + 24 + (6 * 3 + 7) / 8);
    EXPECT_GT(q.sqnr_db, 5.0);
    EXPECT_TRUE(std::isfinite(q.sqnr_db));
    // minmax: each row's largest |w| maps to code +-3 exactly.
    const auto codes = q.codes.to_f64();
    for (int r = 0; r < 6; ++r) {
        double peak = 0;
        for (int c = 0; c < 5; ++c) peak = std::max(peak, std::abs(codes[r * 5 + c]));
        EXPECT_EQ(peak, 3) << r;
    }
}

TEST(WeightQuant, BiasRoundsHalfToEvenAndSaturates) {
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
