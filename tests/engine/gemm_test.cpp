// gemm_f32 (include/aquant/engine/gemm.h) and the Gemm op vs gemm_ref on random data, with
// sizes 1, primes and 32*9+17 in every dimension, all transposes, alpha/beta and C broadcasts.
// Tolerance: 1e-5 * max(1, max|ref|). Thread-count independence is checked bit for bit.
#include <gtest/gtest.h>

#include <array>

#include "../../src/engine/reference/matmul_ref.h"
#include "aquant/core/parallel.h"
#include "aquant/engine/gemm.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

constexpr double kTol = 1e-5;

std::vector<float> run_gemm_f32(std::int64_t m, std::int64_t n, std::int64_t k, bool ta, bool tb,
                                float alpha, float beta, const std::vector<float>& a,
                                const std::vector<float>& b, std::vector<float> c) {
    GemmArgs g;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = a.data();
    g.lda = ta ? m : k;
    g.trans_a = ta;
    g.b = b.data();
    g.ldb = tb ? k : n;
    g.trans_b = tb;
    g.c = c.data();
    g.ldc = n;
    g.alpha = alpha;
    g.beta = beta;
    gemm_f32(g);
    return c;
}

// Runs the body once with the best micro-kernel and once with the portable one.
class GemmKernels : public ::testing::TestWithParam<GemmKernel> {
protected:
    void SetUp() override { name_ = set_gemm_kernel(GetParam()); }
    void TearDown() override { set_gemm_kernel(GemmKernel::kBest); }
    std::string name_;
};

INSTANTIATE_TEST_SUITE_P(BothKernels, GemmKernels,
                         ::testing::Values(GemmKernel::kBest, GemmKernel::kPortable));

TEST_P(GemmKernels, MatchesReference) {
    const std::int64_t odd = 32 * 9 + 17;
    const std::vector<std::array<std::int64_t, 3>> shapes = {
        {1, 1, 1}, {1, 7, 13}, {13, 1, 7}, {7, 13, 1}, {odd, 5, 3}, {3, odd, 5}, {5, 3, odd},
        {64, 64, 64}, {odd, 97, 31}, {37, odd, 29}, {101, 103, odd}, {1, 500, 784}, {2, 3, 0}};
    std::uint32_t seed = 1;
    for (const auto& [m, n, k] : shapes) {
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            for (const auto& [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{0.5f, 1.0f},
                                              std::pair{-2.0f, 0.25f}}) {
                ++seed;
                const auto a = random_floats(static_cast<std::size_t>(m * k), seed);
                const auto b = random_floats(static_cast<std::size_t>(k * n), seed + 1000);
                const auto c = random_floats(static_cast<std::size_t>(m * n), seed + 2000);
                const auto want = ref::gemm_ref<float>(a, b, &c, {m, n}, m, n, k, ta, tb, alpha, beta);
                const auto got = run_gemm_f32(m, n, k, ta, tb, alpha, beta, a, b, c);
                EXPECT_TRUE(near_rel(got, want, kTol,
                                     name_ + " m " + std::to_string(m) + " n " + std::to_string(n) +
                                         " k " + std::to_string(k) + " transA " +
                                         std::to_string(ta) + " transB " + std::to_string(tb) +
                                         " alpha " + std::to_string(alpha) + " beta " +
                                         std::to_string(beta) + " seed " + std::to_string(seed)));
            }
        }
    }
}

// Prepacked A and B (constant weights) give the same bits as packing on the fly.
TEST_P(GemmKernels, PackedOperandsMatchPlain) {
    const std::int64_t odd = 32 * 9 + 17;
    for (const auto& [m, n, k] : std::vector<std::array<std::int64_t, 3>>{
             {1, 10, 784}, {7, 33, 5}, {odd, 64, 300}, {64, odd, 517}, {13, 1, 9}}) {
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            const auto a = random_floats(static_cast<std::size_t>(m * k), 70 + t);
            const auto b = random_floats(static_cast<std::size_t>(k * n), 80 + t);
            const auto plain = run_gemm_f32(m, n, k, ta, tb, 1.0f, 0.0f, a, b,
                                            std::vector<float>(static_cast<std::size_t>(m * n)));
            const MatrixRef ar{a.data(), ta ? m : k, ta}, br{b.data(), tb ? k : n, tb};
            const PackedA pa(m, k, ar);
            const PackedB pb(k, n, br);
            std::vector<float> c1(static_cast<std::size_t>(m * n)), c2 = c1;
            OperandA oa;
            oa.packed = &pa;
            OperandB ob;
            ob.matrix = br;
            gemm(m, n, k, oa, ob, c1.data(), n);
            OperandA oa2;
            oa2.matrix = ar;
            OperandB ob2;
            ob2.packed = &pb;
            gemm(m, n, k, oa2, ob2, c2.data(), n);
            const std::string what = name_ + " m " + std::to_string(m) + " n " +
                                     std::to_string(n) + " k " + std::to_string(k) + " t " +
                                     std::to_string(t);
            EXPECT_TRUE(c1 == plain) << what;
            EXPECT_TRUE(c2 == plain) << what;
        }
    }
}

TEST(GemmF32, BetaZeroIgnoresNaNInC) {
    const std::vector<float> a{1, 2}, b{3, 4};
    const auto got = run_gemm_f32(1, 1, 2, false, false, 1.0f, 0.0f, a, b, {NAN});
    EXPECT_EQ(got[0], 11.0f);
}

TEST(GemmF32, SameResultForAnyThreadCount) {
    const std::int64_t m = 300, n = 700, k = 257;
    const auto a = random_floats(static_cast<std::size_t>(m * k), 5);
    const auto b = random_floats(static_cast<std::size_t>(k * n), 6);
    const std::vector<float> c(static_cast<std::size_t>(m * n));
    const int saved = num_threads();
    set_num_threads(1);
    const auto one = run_gemm_f32(m, n, k, false, true, 1.0f, 0.0f, a, b, c);
    set_num_threads(2);
    const auto two = run_gemm_f32(m, n, k, false, true, 1.0f, 0.0f, a, b, c);
    set_num_threads(5);
    const auto five = run_gemm_f32(m, n, k, false, true, 1.0f, 0.0f, a, b, c);
    set_num_threads(saved);
    EXPECT_TRUE(one == two);
    EXPECT_TRUE(one == five);
}

struct OpCase {
    std::int64_t m, n, k;
    bool ta, tb;
    float alpha, beta;
    Dims c;  // empty vector with has_c = false means no C
    bool has_c;
};

TEST(GemmOp, MatchesReferenceWithBroadcastC) {
    const std::vector<OpCase> cases = {
        {3, 5, 4, false, false, 1.0f, 1.0f, {3, 5}, true},
        {3, 5, 4, true, false, 0.5f, 2.0f, {5}, true},
        {3, 5, 4, false, true, 1.0f, -1.0f, {1, 5}, true},
        {3, 5, 4, true, true, 1.5f, 0.5f, {3, 1}, true},
        {3, 5, 4, false, false, 1.0f, 1.0f, {}, true},  // scalar C
        {3, 5, 4, false, false, 1.0f, 1.0f, {1}, true},
        {64, 10, 784, false, true, 1.0f, 1.0f, {10}, true},  // Linear layer
        {7, 11, 13, false, false, 1.0f, 1.0f, {}, false},
    };
    std::uint32_t seed = 50;
    for (const auto& c : cases) {
        ++seed;
        const auto a = random_floats(static_cast<std::size_t>(c.m * c.k), seed);
        const auto b = random_floats(static_cast<std::size_t>(c.k * c.n), seed + 1);
        const auto cv = random_floats(static_cast<std::size_t>(dims_numel(c.c)), seed + 2);
        const auto want = ref::gemm_ref<float>(a, b, c.has_c ? &cv : nullptr, c.c, c.m, c.n, c.k, c.ta,
                                        c.tb, c.alpha, c.beta);
        NodeRunner run("Gemm", 13);
        // Alternate constant B (packed at build time) and runtime B.
        run.input(f32(c.ta ? Dims{c.k, c.m} : Dims{c.m, c.k}, a))
            .input(f32(c.tb ? Dims{c.n, c.k} : Dims{c.k, c.n}, b), seed % 2 == 0);
        if (c.has_c) run.input(f32(c.c, cv), true);
        run.attr("transA", std::int64_t{c.ta}).attr("transB", std::int64_t{c.tb});
        run.attr("alpha", c.alpha).attr("beta", c.beta);
        const Tensor y = run.run1();
        const std::string what = "m " + std::to_string(c.m) + " n " + std::to_string(c.n) +
                                 " k " + std::to_string(c.k) + " C " + dims_str(c.c);
        ASSERT_EQ(y.dims(), (Dims{c.m, c.n})) << what;
        EXPECT_TRUE(near_rel(values(y), want, kTol, what));
    }
}

TEST(GemmOp, RejectsInnerDimMismatch) {
    NodeRunner run("Gemm", 13);
    run.input(f32({2, 3}, std::vector<float>(6))).input(f32({4, 2}, std::vector<float>(8)));
    try {
        run.run();
        FAIL() << "expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("inner dimensions differ"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace aquant::engine
