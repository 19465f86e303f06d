// The integer GEMM core (src/engine/kernels/qgemm.h, qmatmul.h) against the scalar oracle
// src/engine/reference/matmul_int_ref.h, exactly (integers): every micro-kernel variant the CPU
// supports (generic, SSE2, AVX2), shapes around the 4 x 16 tile (1, tile - 1, tile, tile + 1,
// primes, 32 * 9 + 17), uint8 / int8 on either side, per-tensor and per-row / per-column zero
// points, int32 output and requantization to uint8 / int8 with per-column multipliers and bias.
#include <gtest/gtest.h>

#include <cmath>

#include "../../src/engine/kernels/qgemm.h"
#include "../../src/engine/kernels/qmatmul.h"
#include "../../src/engine/reference/matmul_int_ref.h"
#include "aquant/core/parallel.h"
#include "int_test_util.h"

namespace aquant::engine {
namespace {

using inttest::random_ints;
using inttest::same_ints;

struct GemmShape {
    std::int64_t rows, depth, cols;
};

const GemmShape kShapes[] = {{1, 1, 1},   {1, 7, 1},    {3, 5, 17},    {4, 16, 16},
                             {5, 2, 15},  {7, 32 * 9 + 17, 13},       {13, 64, 31},
                             {37, 101, 50}, {64, 288, 64}, {2, 3, 129}, {67, 9, 3}};

template <typename T>
std::pair<int, int> range_of() {
    return std::is_same_v<T, std::uint8_t> ? std::make_pair(0, 255) : std::make_pair(-128, 127);
}

// Runs one case through qmatmul::run and the oracle; returns the comparison.
template <typename L, typename R, typename Y>
::testing::AssertionResult check_case(const GemmShape& s, bool per_channel, std::uint32_t seed) {
    const auto [llo, lhi] = range_of<L>();
    const auto [rlo, rhi] = range_of<R>();
    const auto lhs = random_ints<L>(static_cast<std::size_t>(s.rows * s.depth), seed, llo, lhi);
    const auto rhs = random_ints<R>(static_cast<std::size_t>(s.depth * s.cols), seed + 1, rlo, rhi);
    const std::size_t nz_l = per_channel ? static_cast<std::size_t>(s.rows) : 1;
    const std::size_t nz_r = per_channel ? static_cast<std::size_t>(s.cols) : 1;
    const auto lzp = random_ints<std::int32_t>(nz_l, seed + 2, llo, lhi);
    const auto rzp = random_ints<std::int32_t>(nz_r, seed + 3, rlo, rhi);

    ref::IntMulParams<std::int32_t> params;
    params.channel_axis = ref::ChannelAxis::kCol;
    std::vector<float> multiplier;
    qgemm::OutputStage stage;
    if constexpr (!std::is_same_v<Y, std::int32_t>) {
        params.bias = random_ints<std::int32_t>(static_cast<std::size_t>(s.cols), seed + 4,
                                                -20000, 20000);
        // Output spread of a few dozen steps around the zero point: acc ~ 100^2 * sqrt(depth).
        for (std::int64_t c = 0; c < (per_channel ? s.cols : 1); ++c) {
            multiplier.push_back(static_cast<float>(
                (0.5 + 0.25 * static_cast<double>(c % 5)) * 40.0 /
                (1e4 * std::sqrt(static_cast<double>(s.depth)))));
        }
        params.multiplier = multiplier;
        params.dst_zero_point = std::is_same_v<Y, std::uint8_t> ? 131 : -7;
        stage = qgemm::OutputStage{};
        stage.requantize = true;
        stage.bias = params.bias.data();
        stage.multiplier = multiplier.data();
        stage.per_channel = multiplier.size() > 1;
        stage.zero_point = params.dst_zero_point;
        const auto [ylo, yhi] = range_of<Y>();
        stage.lo = static_cast<float>(ylo - stage.zero_point);
        stage.hi = static_cast<float>(yhi - stage.zero_point);
    }
    const auto want = ref::matmul_int_ref<L, R, std::int32_t, Y>(lhs, lzp, rhs, rzp, s.rows,
                                                                  s.depth, s.cols, params);
    const qmatmul::PackedB pb = qmatmul::pack_b(rhs.data(), s.depth, s.cols, false, rzp);
    std::vector<Y> got(static_cast<std::size_t>(s.rows * s.cols));
    qmatmul::run(lhs.data(), s.rows, s.depth, lzp.data(), static_cast<std::int64_t>(nz_l), pb,
                 stage, got.data(), s.cols);
    return same_ints(got, want,
                     "rows " + std::to_string(s.rows) + " depth " + std::to_string(s.depth) +
                         " cols " + std::to_string(s.cols) + (per_channel ? " per-channel" : "") +
                         " isa " + qgemm::isa_name(qgemm::active_isa()) + " seed " +
                         std::to_string(seed));
}

class IsaGuard {
public:
    explicit IsaGuard(qgemm::Isa isa) : prev_(qgemm::set_isa(isa)) {}
    ~IsaGuard() { qgemm::set_isa(prev_); }

private:
    qgemm::Isa prev_;
};

class QGemmIsaTest : public ::testing::TestWithParam<qgemm::Isa> {};

TEST_P(QGemmIsaTest, MatchesReferenceForAllTypesAndShapes) {
    if (!qgemm::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks this instruction set";
    IsaGuard guard(GetParam());
    std::uint32_t seed = 100;
    for (const GemmShape& s : kShapes) {
        for (bool per_channel : {false, true}) {
            ++seed;
            EXPECT_TRUE((check_case<std::uint8_t, std::int8_t, std::int32_t>(s, per_channel, seed)));
            EXPECT_TRUE((check_case<std::int8_t, std::int8_t, std::int8_t>(s, per_channel, seed)));
            EXPECT_TRUE((check_case<std::uint8_t, std::uint8_t, std::uint8_t>(s, per_channel, seed)));
            EXPECT_TRUE((check_case<std::int8_t, std::uint8_t, std::uint8_t>(s, per_channel, seed)));
            EXPECT_TRUE((check_case<std::uint8_t, std::int8_t, std::int8_t>(s, per_channel, seed)));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Isa, QGemmIsaTest,
                         ::testing::Values(qgemm::Isa::kGeneric, qgemm::Isa::kSse2,
                                           qgemm::Isa::kAvx2),
                         [](const ::testing::TestParamInfo<qgemm::Isa>& info) {
                             return std::string(qgemm::isa_name(info.param));
                         });

TEST(QGemm, MicroKernelTileMatchesScalarDotProducts) {
    // One 4 x 16 tile at an odd depth (the packed depth is padded with a zero pair element).
    const std::int64_t depth = 33;
    const auto a = random_ints<std::int8_t>(4 * depth, 7, -128, 127);
    const auto b = random_ints<std::uint8_t>(depth * 16, 8, 0, 255);
    const std::int32_t za = -3, zb = 200;
    std::vector<std::int32_t> pa(qgemm::packed_rows_size(4, depth));
    std::vector<std::int16_t> pb(qgemm::packed_cols_size(16, depth));
    qgemm::pack_rows(a.data(), depth, 1, 4, depth, &za, false, pa.data());
    qgemm::pack_cols(b.data(), 16, 1, depth, 16, &zb, false, pb.data());
    std::int32_t tile[4 * 16];
    qgemm::micro_kernel(pa.data(), pb.data(), qgemm::depth_pairs(depth), tile);
    for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 16; ++j) {
            std::int64_t want = 0;
            for (std::int64_t k = 0; k < depth; ++k) {
                want += (a[static_cast<std::size_t>(i * depth + k)] - za) *
                        (b[static_cast<std::size_t>(k * 16 + j)] - zb);
            }
            EXPECT_EQ(tile[i * 16 + j], want) << "row " << i << " col " << j;
        }
    }
}

TEST(QGemm, TransposedPackingEqualsPlainPacking) {
    const std::int64_t depth = 19, cols = 21;
    const auto b = random_ints<std::int8_t>(static_cast<std::size_t>(depth * cols), 3, -128, 127);
    std::vector<std::int8_t> bt(b.size());
    for (std::int64_t k = 0; k < depth; ++k) {
        for (std::int64_t c = 0; c < cols; ++c) {
            bt[static_cast<std::size_t>(c * depth + k)] = b[static_cast<std::size_t>(k * cols + c)];
        }
    }
    const std::vector<std::int32_t> zp{5};
    const auto p1 = qmatmul::pack_b(b.data(), depth, cols, false, zp);
    const auto p2 = qmatmul::pack_b(bt.data(), depth, cols, true, zp);
    EXPECT_EQ(p1.data, p2.data);
    std::int64_t want_max = 0;
    for (auto v : b) want_max = std::max<std::int64_t>(want_max, std::abs(v - 5));
    EXPECT_EQ(p1.max_abs, want_max);
}

TEST(QGemm, ResultsDoNotDependOnThreadCount) {
    const GemmShape s{101, 300, 77};
    const auto a = random_ints<std::uint8_t>(static_cast<std::size_t>(s.rows * s.depth), 1, 0, 255);
    const auto b = random_ints<std::int8_t>(static_cast<std::size_t>(s.depth * s.cols), 2, -128, 127);
    const std::int32_t za = 128;
    const auto pb = qmatmul::pack_b(b.data(), s.depth, s.cols, false, {0});
    std::vector<std::int32_t> y1(static_cast<std::size_t>(s.rows * s.cols)), y2(y1.size());
    const int threads = num_threads();
    set_num_threads(1);
    qmatmul::run(a.data(), s.rows, s.depth, &za, 1, pb, {}, y1.data(), s.cols);
    set_num_threads(3);
    qmatmul::run(a.data(), s.rows, s.depth, &za, 1, pb, {}, y2.data(), s.cols);
    set_num_threads(threads);
    EXPECT_EQ(y1, y2);
}

TEST(QGemm, RoundingIsHalfToEvenLikeNearbyint) {
    // Ties go to the even neighbour; values written out by hand.
    EXPECT_EQ(qgemm::round_half_even_small(0.5f), 0);
    EXPECT_EQ(qgemm::round_half_even_small(1.5f), 2);
    EXPECT_EQ(qgemm::round_half_even_small(2.5f), 2);
    EXPECT_EQ(qgemm::round_half_even_small(-0.5f), 0);
    EXPECT_EQ(qgemm::round_half_even_small(-1.5f), -2);
    EXPECT_EQ(qgemm::round_half_even_small(-2.5f), -2);
    EXPECT_EQ(qgemm::round_half_even_small(2.4999998f), 2);
    EXPECT_EQ(qgemm::round_half_even_small(-255.5f), -256);
    EXPECT_EQ(qgemm::round_half_even_small(254.50002f), 255);
}

TEST(QGemm, RequantizeSaturatesToTheOutputType) {
    const std::vector<float> m{0.5f};
    qgemm::OutputStage s;
    s.requantize = true;
    s.multiplier = m.data();
    s.zero_point = 10;
    s.lo = 0.0f - 10;
    s.hi = 255.0f - 10;
    EXPECT_EQ(qgemm::requantize_one(1000, 0, 0.5f, s), 255);  // 500 + 10 saturates
    EXPECT_EQ(qgemm::requantize_one(-1000, 0, 0.5f, s), 0);
    EXPECT_EQ(qgemm::requantize_one(5, 0, 0.5f, s), 12);   // 2.5 -> 2, + 10
    EXPECT_EQ(qgemm::requantize_one(5, 2, 0.5f, s), 14);   // bias before scaling: 3.5 -> 4
    EXPECT_EQ(qgemm::requantize_one(-21, 0, 0.5f, s), 0);  // -10.5 -> -10, + 10 = 0
}

TEST(QGemm, OverflowBound) {
    EXPECT_TRUE(qgemm::fits_int32(33025, 255, 255, 0));   // 33025 * 65025 = 2147450625
    EXPECT_FALSE(qgemm::fits_int32(33026, 255, 255, 0));
    EXPECT_FALSE(qgemm::fits_int32(33025, 255, 255, 40000));
}

}  // namespace
}  // namespace aquant::engine
