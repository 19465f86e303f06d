// QLinearMatMul, MatMulInteger, ai.aquant.QLinearGemm (src/engine/kernels/qmatmul*.cpp) against
// the scalar oracle src/engine/reference/matmul_int_ref.h, exactly: sizes 1, primes and
// 32 * 9 + 17, uint8 / int8 on each side, per-tensor and per-column b scales and zero points,
// per-row a zero points (MatMulInteger), batch broadcasting, 1-D operands, transB and int32 bias
// (QLinearGemm); DynamicQuantizeLinear against hand-computed values and its defining formula.
#include <gtest/gtest.h>

#include <cmath>

#include "../../src/engine/reference/matmul_int_ref.h"
#include "../../src/engine/reference/ref_util.h"
#include "aquant/core/error.h"
#include "int_test_util.h"

namespace aquant::engine {
namespace {

using inttest::elements;
using inttest::random_ints;
using inttest::Runner;
using inttest::same_ints;
using inttest::tensor;

template <typename T>
std::pair<int, int> range_of() {
    return std::is_same_v<T, std::uint8_t> ? std::make_pair(0, 255) : std::make_pair(-128, 127);
}

struct MmShape {
    std::int64_t m, k, n;
};

const MmShape kShapes[] = {{1, 1, 1},  {1, 17, 10},  {3, 5, 17},   {4, 16, 16},   {7, 32 * 9 + 17, 13},
                           {31, 64, 1}, {37, 101, 50}, {2, 3, 129}, {64, 128, 65}};

// QLinearMatMul (gemm = false) or QLinearGemm (gemm = true, optional transB and bias) on 2-D
// operands against the oracle.
template <typename A, typename B, typename Y>
::testing::AssertionResult check_qlinear(const MmShape& s, bool per_column, bool const_b,
                                         bool gemm, bool trans_b, bool bias, std::uint32_t seed) {
    const auto [alo, ahi] = range_of<A>();
    const auto [blo, bhi] = range_of<B>();
    const auto [ylo, yhi] = range_of<Y>();
    const auto a = random_ints<A>(static_cast<std::size_t>(s.m * s.k), seed, alo, ahi);
    const auto b = random_ints<B>(static_cast<std::size_t>(s.k * s.n), seed + 1, blo, bhi);
    const A a_zp = random_ints<A>(1, seed + 2, alo, ahi)[0];
    const std::size_t nc = per_column ? static_cast<std::size_t>(s.n) : 1;
    const auto b_zp = random_ints<B>(nc, seed + 3, blo, bhi);
    const Y y_zp = random_ints<Y>(1, seed + 4, ylo, yhi)[0];
    const float a_scale = 0.05f;
    std::vector<float> b_scale;
    for (std::size_t i = 0; i < nc; ++i) b_scale.push_back(0.01f * (1.0f + 0.5f * (i % 3)));
    const float y_scale =
        static_cast<float>(a_scale * 0.015 * 75 * 75 * std::sqrt(static_cast<double>(s.k)) / 40);
    const auto bias_v = random_ints<std::int32_t>(static_cast<std::size_t>(s.n), seed + 5, -30000, 30000);

    ref::IntMulParams<std::int32_t> params;
    params.channel_axis = ref::ChannelAxis::kCol;
    if (bias) params.bias = bias_v;
    for (float bs : b_scale) params.multiplier.push_back(ref::requant_multiplier(a_scale, bs, y_scale));
    params.dst_zero_point = y_zp;
    const auto want = ref::matmul_int_ref<A, B, std::int32_t, Y>(
        a, {a_zp}, b, std::vector<std::int32_t>(b_zp.begin(), b_zp.end()), s.m, s.k, s.n, params);

    std::vector<B> b_stored = b;
    Dims b_dims{s.k, s.n};
    if (trans_b) {
        b_dims = {s.n, s.k};
        for (std::int64_t k = 0; k < s.k; ++k) {
            for (std::int64_t c = 0; c < s.n; ++c) {
                b_stored[static_cast<std::size_t>(c * s.k + k)] = b[static_cast<std::size_t>(k * s.n + c)];
            }
        }
    }
    const Dims ch = per_column ? Dims{s.n} : Dims{};
    Runner r(gemm ? "QLinearGemm" : "QLinearMatMul", gemm ? "ai.aquant" : "");
    r.input(tensor({s.m, s.k}, a))
        .input(Tensor::scalar(a_scale))
        .input(Tensor::scalar(a_zp))
        .input(tensor(b_dims, b_stored), const_b)
        .input(tensor(ch, b_scale))
        .input(tensor(ch, b_zp), const_b)
        .input(Tensor::scalar(y_scale))
        .input(Tensor::scalar(y_zp));
    if (bias) r.input(tensor({s.n}, bias_v), true);
    if (gemm) r.attr_int("transB", trans_b ? 1 : 0);
    const Tensor y = r.run1();
    const std::string what = std::string(gemm ? "QLinearGemm" : "QLinearMatMul") + " m " +
                             std::to_string(s.m) + " k " + std::to_string(s.k) + " n " +
                             std::to_string(s.n) + (per_column ? " per-column" : "") +
                             (const_b ? " const-b" : "") + (trans_b ? " transB" : "") +
                             (bias ? " bias" : "") + " seed " + std::to_string(seed);
    if (y.dims() != Dims{s.m, s.n}) {
        return ::testing::AssertionFailure() << what << ": dims " << dims_str(y.dims());
    }
    return same_ints(elements<Y>(y), want, what);
}

TEST(QLinearMatMulInt, MatchesReference2D) {
    std::uint32_t seed = 300;
    for (const MmShape& s : kShapes) {
        for (int v = 0; v < 4; ++v) {
            seed += 10;
            const bool per_column = (v & 1) != 0, const_b = (v & 2) != 0;
            EXPECT_TRUE((check_qlinear<std::uint8_t, std::int8_t, std::uint8_t>(
                s, per_column, const_b, false, false, false, seed)));
            EXPECT_TRUE((check_qlinear<std::int8_t, std::int8_t, std::int8_t>(
                s, per_column, const_b, false, false, false, seed)));
            EXPECT_TRUE((check_qlinear<std::uint8_t, std::uint8_t, std::int8_t>(
                s, per_column, const_b, false, false, false, seed)));
        }
    }
}

TEST(QLinearGemmInt, MatchesReferenceWithTransBAndBias) {
    std::uint32_t seed = 700;
    for (const MmShape& s : kShapes) {
        for (int v = 0; v < 8; ++v) {
            seed += 10;
            const bool per_column = (v & 1) != 0, trans_b = (v & 2) != 0, bias = (v & 4) != 0;
            EXPECT_TRUE((check_qlinear<std::uint8_t, std::int8_t, std::uint8_t>(
                s, per_column, true, true, trans_b, bias, seed)));
            EXPECT_TRUE((check_qlinear<std::int8_t, std::int8_t, std::int8_t>(
                s, per_column, v % 3 == 0, true, trans_b, bias, seed)));
        }
    }
}

TEST(QLinearGemmInt, FlattensLeadingDimensionsOfA) {
    // a [2, 3, 5] x b [5, 4] (transB = 0) equals the 2-D product of a viewed as [6, 5].
    const auto a = random_ints<std::uint8_t>(30, 1, 0, 255);
    const auto b = random_ints<std::int8_t>(20, 2, -128, 127);
    auto run = [&](Dims a_dims) {
        return Runner("QLinearGemm", "ai.aquant")
            .input(tensor(a_dims, a))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::uint8_t>(100))
            .input(tensor<std::int8_t>({5, 4}, b), true)
            .input(Tensor::scalar(0.02f))
            .input(Tensor::scalar<std::int8_t>(0))
            .input(Tensor::scalar(2.0f))
            .input(Tensor::scalar<std::uint8_t>(128))
            .run1();
    };
    const Tensor y3 = run({2, 3, 5});
    const Tensor y2 = run({6, 5});
    EXPECT_EQ(y3.dims(), (Dims{2, 3, 4}));
    EXPECT_EQ(elements<std::uint8_t>(y3), elements<std::uint8_t>(y2));
}

// Batched numpy shapes: every output matrix equals the oracle on the broadcast operands.
TEST(QLinearMatMulInt, BatchBroadcasting) {
    struct Case {
        Dims a, b;
    };
    const Case cases[] = {{{2, 3, 5}, {2, 5, 4}}, {{2, 3, 5}, {5, 4}},   {{3, 1, 4, 6}, {2, 6, 7}},
                          {{5}, {3, 5, 2}},       {{2, 3, 5}, {5}},      {{1, 3, 7}, {4, 7, 3}}};
    std::uint32_t seed = 40;
    for (const Case& c : cases) {
        seed += 10;
        const auto a = random_ints<std::uint8_t>(static_cast<std::size_t>(dims_numel(c.a)), seed, 0, 255);
        const auto b = random_ints<std::int8_t>(static_cast<std::size_t>(dims_numel(c.b)), seed + 1, -128, 127);
        const std::uint8_t a_zp = 113;
        const std::int8_t b_zp = -5;
        const Tensor y = Runner("QLinearMatMul")
                             .input(tensor(c.a, a))
                             .input(Tensor::scalar(0.03f))
                             .input(Tensor::scalar(a_zp))
                             .input(tensor(c.b, b))
                             .input(Tensor::scalar(0.02f))
                             .input(Tensor::scalar(b_zp))
                             .input(Tensor::scalar(0.9f))
                             .input(Tensor::scalar<std::uint8_t>(127))
                             .run1();
        // Oracle: promote 1-D, broadcast batch, one matmul_int_ref per output matrix.
        Dims as = c.a, bs = c.b;
        if (as.size() == 1) as.insert(as.begin(), 1);
        if (bs.size() == 1) bs.push_back(1);
        const std::int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
        const std::size_t r = std::max(as.size(), bs.size()) - 2;
        Dims batch(r), ba(r, 1), bb(r, 1);
        for (std::size_t i = 0; i < r; ++i) {
            if (i + as.size() - 2 >= r) ba[i] = as[i + as.size() - 2 - r];
            if (i + bs.size() - 2 >= r) bb[i] = bs[i + bs.size() - 2 - r];
            batch[i] = std::max(ba[i], bb[i]);
        }
        ref::IntMulParams<std::int32_t> params;
        params.channel_axis = ref::ChannelAxis::kCol;
        params.multiplier = {ref::requant_multiplier(0.03f, 0.02f, 0.9f)};
        params.dst_zero_point = 127;
        std::vector<std::uint8_t> want;
        for (std::int64_t i = 0; i < dims_numel(batch); ++i) {
            auto idx = ref::unravel(batch, i);
            std::vector<std::int64_t> ia(r), ib(r);
            for (std::size_t d = 0; d < r; ++d) {
                ia[d] = ba[d] == 1 ? 0 : idx[d];
                ib[d] = bb[d] == 1 ? 0 : idx[d];
            }
            const auto oa = static_cast<std::ptrdiff_t>(ref::offset(ba, ia) * m * k);
            const auto ob = static_cast<std::ptrdiff_t>(ref::offset(bb, ib) * k * n);
            const std::vector<std::uint8_t> am(a.begin() + oa, a.begin() + oa + m * k);
            const std::vector<std::int8_t> bm(b.begin() + ob, b.begin() + ob + k * n);
            const auto part = ref::matmul_int_ref<std::uint8_t, std::int8_t, std::int32_t, std::uint8_t>(
                am, {a_zp}, bm, {b_zp}, m, k, n, params);
            want.insert(want.end(), part.begin(), part.end());
        }
        EXPECT_TRUE(same_ints(elements<std::uint8_t>(y), want, "a " + dims_str(c.a) + " b " + dims_str(c.b)));
    }
}

TEST(MatMulIntegerInt, PerRowAndPerColumnZeroPoints) {
    std::uint32_t seed = 900;
    for (const MmShape& s : kShapes) {
        for (int v = 0; v < 4; ++v) {
            seed += 10;
            const bool per_row = (v & 1) != 0, const_b = (v & 2) != 0;
            const auto a = random_ints<std::uint8_t>(static_cast<std::size_t>(s.m * s.k), seed, 0, 255);
            const auto b = random_ints<std::int8_t>(static_cast<std::size_t>(s.k * s.n), seed + 1, -128, 127);
            const auto a_zp = random_ints<std::uint8_t>(per_row ? static_cast<std::size_t>(s.m) : 1, seed + 2, 0, 255);
            const auto b_zp = random_ints<std::int8_t>(per_row ? static_cast<std::size_t>(s.n) : 1, seed + 3, -128, 127);
            const auto want = ref::matmul_int_ref<std::uint8_t, std::int8_t, std::int32_t, std::int32_t>(
                a, std::vector<std::int32_t>(a_zp.begin(), a_zp.end()), b,
                std::vector<std::int32_t>(b_zp.begin(), b_zp.end()), s.m, s.k, s.n,
                ref::IntMulParams<std::int32_t>{});
            const Tensor y = Runner("MatMulInteger")
                                 .input(tensor({s.m, s.k}, a))
                                 .input(tensor({s.k, s.n}, b), const_b)
                                 .input(tensor(per_row ? Dims{s.m} : Dims{}, a_zp))
                                 .input(tensor(per_row ? Dims{s.n} : Dims{}, b_zp), const_b)
                                 .run1();
            EXPECT_TRUE(same_ints(elements<std::int32_t>(y), want,
                                  "MatMulInteger m " + std::to_string(s.m) + " k " + std::to_string(s.k) +
                                      " n " + std::to_string(s.n) + (per_row ? " per-row" : "")));
        }
    }
}

TEST(MatMulIntegerInt, ZeroPointsOptionalAndBatchedPerRow) {
    // a [2, 3, 4] with a_zero_point [3] (per row of each matrix), b [4, 2] without zero point.
    const auto a = random_ints<std::int8_t>(24, 5, -128, 127);
    const auto b = random_ints<std::int8_t>(8, 6, -128, 127);
    const std::vector<std::int8_t> a_zp{1, -2, 3};
    const Tensor y = Runner("MatMulInteger")
                         .input(tensor<std::int8_t>({2, 3, 4}, a))
                         .input(tensor<std::int8_t>({4, 2}, b))
                         .input(tensor<std::int8_t>({3}, a_zp))
                         .run1();
    ASSERT_EQ(y.dims(), (Dims{2, 3, 2}));
    const auto got = elements<std::int32_t>(y);
    for (int bi = 0; bi < 2; ++bi) {
        for (int i = 0; i < 3; ++i) {
            for (int j = 0; j < 2; ++j) {
                std::int32_t want = 0;
                for (int k = 0; k < 4; ++k) want += (a[(bi * 3 + i) * 4 + k] - a_zp[i]) * b[k * 2 + j];
                EXPECT_EQ(got[static_cast<std::size_t>((bi * 3 + i) * 2 + j)], want);
            }
        }
    }
}

TEST(QLinearMatMulInt, RejectsPerRowActivationScale) {
    try {
        Runner("QLinearMatMul")
            .input(tensor<std::uint8_t>({2, 3}, std::vector<std::uint8_t>(6, 1)))
            .input(tensor<float>({2}, {0.1f, 0.2f}))
            .input(Tensor::scalar<std::uint8_t>(0))
            .input(tensor<std::int8_t>({3, 2}, std::vector<std::int8_t>(6, 1)))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::int8_t>(0))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::uint8_t>(0))
            .run1();
        ADD_FAILURE() << "expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("input 1 (a_scale): expected a scalar, got [2]"),
                  std::string::npos)
            << e.what();
    }
}

std::vector<Tensor> dynamic_quantize(const std::vector<float>& x) {
    return Runner("DynamicQuantizeLinear")
        .input(tensor<float>({static_cast<std::int64_t>(x.size())}, x))
        .outputs(3)
        .run();
}

TEST(DynamicQuantizeLinearInt, DocumentedExample) {
    // onnx.ai DynamicQuantizeLinear example: range [-3, 2] -> scale 5 / 255, zero point
    // round(3 / (5 / 255)) = round(153.0) = 153.
    const auto out = dynamic_quantize({0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f});
    EXPECT_FLOAT_EQ(out[1].data<float>()[0], 5.0f / 255.0f);
    EXPECT_EQ(out[2].data<std::uint8_t>()[0], 153);
    EXPECT_EQ(elements<std::uint8_t>(out[0]),
              (std::vector<std::uint8_t>{153, 255, 0, 26, 221, 179}));
}

TEST(DynamicQuantizeLinearInt, RangeAlwaysIncludesZero) {
    // All positive: min becomes 0, zero point 0; all zero: scale 1 (ONNX Runtime's choice).
    auto out = dynamic_quantize({1.0f, 2.0f, 4.0f});
    EXPECT_FLOAT_EQ(out[1].data<float>()[0], 4.0f / 255.0f);
    EXPECT_EQ(out[2].data<std::uint8_t>()[0], 0);
    EXPECT_EQ(elements<std::uint8_t>(out[0]), (std::vector<std::uint8_t>{64, 127, 255}));
    out = dynamic_quantize({0.0f, 0.0f});
    EXPECT_EQ(out[1].data<float>()[0], 1.0f);
    EXPECT_EQ(out[2].data<std::uint8_t>()[0], 0);
    EXPECT_EQ(elements<std::uint8_t>(out[0]), (std::vector<std::uint8_t>{0, 0}));
    out = dynamic_quantize({-1.0f, -0.5f});
    EXPECT_EQ(out[2].data<std::uint8_t>()[0], 255);
}

TEST(DynamicQuantizeLinearInt, LargeInputWithinHalfAStep) {
    // 100,003 values over several parallel chunks: dequantized codes are within half a step.
    std::vector<float> x(100003);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = std::sin(0.001f * static_cast<float>(i)) * 3.0f - 1.0f;
    }
    const auto out = dynamic_quantize(x);
    const float scale = out[1].data<float>()[0];
    const int zp = out[2].data<std::uint8_t>()[0];
    const auto q = elements<std::uint8_t>(out[0]);
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>((q[i] - zp) * scale) - x[i]));
    }
    EXPECT_LE(worst, 0.5 * scale * (1 + 1e-5));
    EXPECT_NEAR(scale, 6.0 / 255.0, 1e-5);  // range [-4, 2]
}

}  // namespace
}  // namespace aquant::engine
