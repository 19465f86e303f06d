// MatMul kernel vs matmul_ref: 1-D operands, batch broadcasting in either direction, shared 2-D
// weights (the folded single-GEMM path), sizes 1 and primes. Tolerance 1e-5 * max(1, max|ref|).
#include <gtest/gtest.h>

#include "../../src/engine/reference/matmul_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

TEST(MatMul, MatchesReference) {
    const std::vector<std::pair<Dims, Dims>> cases = {
        {{3, 4}, {4, 5}},
        {{4}, {4, 5}},                 // vector @ matrix
        {{3, 4}, {4}},                 // matrix @ vector
        {{7}, {7}},                    // dot product
        {{2, 3, 4}, {4, 5}},           // batch @ weight (one GEMM)
        {{64, 16, 32}, {32, 64}},      // ViT-style projection
        {{2, 3, 4}, {2, 4, 5}},        // batched
        {{2, 1, 3, 4}, {5, 4, 6}},     // broadcast both ways
        {{1, 3, 4}, {6, 4, 2}},        // A broadcast
        {{4, 2, 8, 16}, {4, 2, 16, 8}},  // attention scores
        {{5}, {3, 5, 2}},              // vector @ batch
        {{3, 1, 5}, {5}},
        {{1, 1}, {1, 1}},
        {{13, 1, 17}, {17, 19}},
        {{2, 0, 3}, {3, 4}},  // empty batch entry rows
    };
    std::uint32_t seed = 400;
    for (const auto& [as, bs] : cases) {
        ++seed;
        const auto a = random_floats(static_cast<std::size_t>(dims_numel(as)), seed);
        const auto b = random_floats(static_cast<std::size_t>(dims_numel(bs)), seed + 1);
        ref::Shape ys;
        const auto want = ref::matmul_ref(a, as, b, bs, &ys);
        for (bool constant_b : {false, true}) {  // constant B: packed at build time
            const Tensor y =
                NodeRunner("MatMul", 13).input(f32(as, a)).input(f32(bs, b), constant_b).run1();
            const std::string what = "A " + dims_str(as) + " B " + dims_str(bs) +
                                     (constant_b ? " (constant)" : "") + " seed " +
                                     std::to_string(seed);
            ASSERT_EQ(y.dims(), Dims(ys)) << what;
            EXPECT_TRUE(near_rel(values(y), want, 1e-5, what));
        }
    }
}

TEST(MatMul, RejectsBadShapes) {
    EXPECT_THROW(NodeRunner("MatMul", 13)
                     .input(f32({2, 3}, std::vector<float>(6)))
                     .input(f32({4, 2}, std::vector<float>(8)))
                     .run(),
                 ModelError);
    EXPECT_THROW(NodeRunner("MatMul", 13)
                     .input(f32({2, 2, 3}, std::vector<float>(12)))
                     .input(f32({3, 3, 2}, std::vector<float>(18)))
                     .run(),
                 ModelError);
}

}  // namespace
}  // namespace aquant::engine
