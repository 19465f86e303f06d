#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "aquant/quant/quantize.h"
#include "aquant/quant/weight.h"
#include "quant_test_util.h"

namespace aquant::quant {
namespace {

TEST(WeightQuant, SchemeIsSymmetricNarrowOnTheLayerAxes) {
    WeightQuantConfig cfg;
    const WeightAxes gemm_kn{1, 0};  // Gemm transB=0: B [K, N]
    const auto ch = weight_scheme(4, cfg, gemm_kn, 2);
    EXPECT_EQ(ch.axis, 1);
    EXPECT_TRUE(ch.symmetric);
    EXPECT_TRUE(ch.narrow_range);
    EXPECT_EQ(q_min(ch), -7);
    EXPECT_EQ(q_max(ch), 7);
    cfg.granularity = Granularity::kBlock;
    cfg.block_size = 32;
    const auto blk = weight_scheme(3, cfg, gemm_kn, 2);
    EXPECT_EQ(blk.axis, 0);
    EXPECT_EQ(blk.block_size, 32);
    EXPECT_EQ(q_max(blk), 3);
    EXPECT_EQ(storage_dtype(blk), DType::kI4);
    // ConvTranspose W [C, M/g, kH, kW]: blocks along axis 0; MatMul B [.., K, N]: axis rank-2.
    EXPECT_EQ(weight_scheme(4, cfg, {1, 0}, 4).axis, 0);
    EXPECT_EQ(weight_scheme(4, cfg, {-1, -2}, 3).axis, 1);
    EXPECT_THROW(weight_scheme(1, cfg, gemm_kn, 2), ConfigError);
}

TEST(WeightQuant, BytesCountCodesScalesAndZeroPoints) {
    const Tensor w = Tensor::from_vector<float>({6, 5}, testing::gaussian(30, 1.0f, 3));
    WeightQuantConfig cfg;
    cfg.range = "minmax";
    const QuantizedWeight q = quantize_weight(w, 3, cfg, {0, 1}, DType::kI4);
    EXPECT_EQ(q.codes.dtype(), DType::kI4);
    EXPECT_EQ(q.bytes_stored, 15 + 6 * 4 + 3);  // 30 nibbles, 6 scales, 6 int4 zps
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
    EXPECT_THROW(quantize_weight(w, 8, cfg, {0, 1}, DType::kI4), InternalError);
}

TEST(WeightQuant, ParamsAreWhatQuantizeWeightStores) {
    // The estimators call weight_params + fake_quantize; the exporter calls quantize_weight.
    const Tensor w = Tensor::from_vector<float>({8, 3, 3, 3}, testing::laplace(216, 0.2f, 5));
    WeightQuantConfig cfg;  // mmse, per channel
    for (int bits : {2, 3, 4, 8}) {
        const QuantParams p = weight_params(w, bits, cfg, {0, 1});
        const Tensor sim = fake_quantize(w, p);
        const QuantizedWeight q =
            quantize_weight(w, bits, cfg, {0, 1}, bits <= 4 ? DType::kI4 : DType::kI8);
        ASSERT_EQ(p.scale, q.params.scale) << bits;
        for (std::int64_t i = 0; i < w.numel(); ++i) {
            ASSERT_EQ(sim.data<float>()[i], q.dequantized.data<float>()[i]) << bits << " " << i;
        }
    }
}

}  // namespace
}  // namespace aquant::quant
