// BatchNormalization (inference, constant and runtime parameters, spatial=0, training mode),
// InstanceNormalization and LayerNormalization vs norm_ref. Tolerance 1e-5 * max(1, max|ref|):
// one affine map per element after double-precision statistics.
#include <gtest/gtest.h>

#include "../../src/engine/reference/norm_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

constexpr double kTol = 1e-5;

TEST(BatchNormalization, MatchesReference) {
    for (const Dims& xs : {Dims{2, 3, 5, 7}, Dims{1, 16, 1, 1}, Dims{4, 5}, Dims{1, 2, 3, 4, 5}}) {
        for (bool constant : {true, false}) {
            const std::int64_t c = xs[1];
            const auto x = random_floats(static_cast<std::size_t>(dims_numel(xs)), 1);
            const auto scale = random_floats(static_cast<std::size_t>(c), 2);
            const auto bias = random_floats(static_cast<std::size_t>(c), 3);
            const auto mean = random_floats(static_cast<std::size_t>(c), 4);
            const auto var = random_floats(static_cast<std::size_t>(c), 5, 0.1f, 2.0f);
            const float eps = 1e-3f;
            const auto want = ref::batch_norm_ref(x, xs, scale, bias, mean, var, eps);
            const Tensor y = NodeRunner("BatchNormalization", 15)
                                 .input(f32(xs, x))
                                 .input(f32({c}, scale), constant)
                                 .input(f32({c}, bias), constant)
                                 .input(f32({c}, mean), constant)
                                 .input(f32({c}, var), constant)
                                 .attr("epsilon", eps)
                                 .run1();
            ASSERT_EQ(y.dims(), xs);
            EXPECT_TRUE(near_rel(values(y), want, kTol,
                                 dims_str(xs) + (constant ? " constant" : " runtime")));
        }
    }
}

// Opset 7 spatial=0: one parameter per (channel, spatial element).
TEST(BatchNormalization, NonSpatialOpset7) {
    const Dims xs{2, 3, 4};
    const auto x = random_floats(24, 10);
    const auto scale = random_floats(12, 11), bias = random_floats(12, 12);
    const auto mean = random_floats(12, 13), var = random_floats(12, 14, 0.5f, 1.5f);
    std::vector<float> want(24);
    for (std::size_t i = 0; i < 24; ++i) {
        const std::size_t k = i % 12;
        want[i] = static_cast<float>((x[i] - mean[k]) / std::sqrt(var[k] + 1e-5) * scale[k] + bias[k]);
    }
    const Tensor y = NodeRunner("BatchNormalization", 7)
                         .input(f32(xs, x))
                         .input(f32({3, 4}, scale), true)
                         .input(f32({3, 4}, bias), true)
                         .input(f32({3, 4}, mean), true)
                         .input(f32({3, 4}, var), true)
                         .attr("spatial", std::int64_t{0})
                         .run1();
    EXPECT_TRUE(near_rel(values(y), want, kTol, "spatial=0"));
}

TEST(BatchNormalization, TrainingModeUsesBatchStatistics) {
    const Dims xs{3, 2, 4};
    const auto x = random_floats(24, 20);
    const std::vector<float> scale{1.5f, 0.5f}, bias{0.1f, -0.2f}, rmean{0.3f, -0.1f},
        rvar{1.2f, 0.8f};
    const float momentum = 0.8f, eps = 1e-5f;
    std::vector<float> bmean(2), bvar(2);
    for (int ch = 0; ch < 2; ++ch) {
        double s = 0, sq = 0;
        for (int n = 0; n < 3; ++n) {
            for (int j = 0; j < 4; ++j) s += x[static_cast<std::size_t>((n * 2 + ch) * 4 + j)];
        }
        const double mu = s / 12;
        for (int n = 0; n < 3; ++n) {
            for (int j = 0; j < 4; ++j) {
                const double d = x[static_cast<std::size_t>((n * 2 + ch) * 4 + j)] - mu;
                sq += d * d;
            }
        }
        bmean[static_cast<std::size_t>(ch)] = static_cast<float>(mu);
        bvar[static_cast<std::size_t>(ch)] = static_cast<float>(sq / 12);
    }
    const auto want = ref::batch_norm_ref(x, xs, scale, bias, bmean, bvar, eps);
    const auto outs = NodeRunner("BatchNormalization", 15)
                          .input(f32(xs, x))
                          .input(f32({2}, scale))
                          .input(f32({2}, bias))
                          .input(f32({2}, rmean))
                          .input(f32({2}, rvar))
                          .attr("training_mode", std::int64_t{1})
                          .attr("momentum", momentum)
                          .outputs(3)
                          .run();
    EXPECT_TRUE(near_rel(values(outs[0]), want, kTol, "training Y"));
    for (int ch = 0; ch < 2; ++ch) {
        const auto c = static_cast<std::size_t>(ch);
        EXPECT_NEAR(outs[1].data<float>()[ch], rmean[c] * momentum + bmean[c] * (1 - momentum), 1e-6);
        EXPECT_NEAR(outs[2].data<float>()[ch], rvar[c] * momentum + bvar[c] * (1 - momentum), 1e-6);
    }
}

TEST(InstanceNormalization, MatchesReference) {
    for (const Dims& xs : {Dims{2, 3, 5, 7}, Dims{1, 4, 9}, Dims{3, 2, 1, 1, 4}}) {
        const std::int64_t c = xs[1];
        const auto x = random_floats(static_cast<std::size_t>(dims_numel(xs)), 30, -2.0f, 3.0f);
        const auto scale = random_floats(static_cast<std::size_t>(c), 31);
        const auto bias = random_floats(static_cast<std::size_t>(c), 32);
        const auto want = ref::instance_norm_ref(x, xs, scale, bias, 1e-5);
        const Tensor y = NodeRunner("InstanceNormalization", 6)
                             .input(f32(xs, x))
                             .input(f32({c}, scale), true)
                             .input(f32({c}, bias), true)
                             .run1();
        EXPECT_TRUE(near_rel(values(y), want, kTol, dims_str(xs)));
    }
}

TEST(LayerNormalization, MatchesReferenceForEveryAxis) {
    const Dims xs{2, 3, 4, 5};
    const auto x = random_floats(120, 40, -2.0f, 2.0f);
    for (std::int64_t axis = -4; axis < 4; ++axis) {
        const std::int64_t a = axis < 0 ? axis + 4 : axis;
        const Dims norm(xs.begin() + a, xs.end());
        const std::int64_t cols = dims_numel(norm);
        const auto scale = random_floats(static_cast<std::size_t>(cols), 41);
        const auto bias = random_floats(static_cast<std::size_t>(cols), 42);
        std::vector<float> mean, inv;
        const auto want = ref::layer_norm_ref(x, cols, scale, bias, 1e-4, &mean, &inv);
        const auto outs = NodeRunner("LayerNormalization", 17)
                              .input(f32(xs, x))
                              .input(f32(norm, scale), true)
                              .input(f32(norm, bias), true)
                              .attr("axis", axis)
                              .attr("epsilon", 1e-4f)
                              .outputs(3)
                              .run();
        const std::string what = "axis " + std::to_string(axis);
        EXPECT_TRUE(near_rel(values(outs[0]), want, kTol, what));
        Dims stat_dims(xs.begin(), xs.begin() + a);
        stat_dims.resize(4, 1);
        ASSERT_EQ(outs[1].dims(), stat_dims) << what;
        EXPECT_TRUE(near_rel(values(outs[1]), mean, 1e-6, what + " Mean"));
        EXPECT_TRUE(near_rel(values(outs[2]), inv, 1e-6, what + " InvStdDev"));
    }
}

TEST(LayerNormalization, BroadcastScaleAndNoBias) {
    const Dims xs{3, 4, 6};
    const auto x = random_floats(72, 50);
    const std::vector<float> scale1{2.5f};  // [1] broadcast over the normalized [4, 6]
    const auto want = ref::layer_norm_ref<float>(x, 24, std::vector<float>(24, 2.5f), {}, 1e-5, nullptr,
                                          nullptr);
    const Tensor y = NodeRunner("LayerNormalization", 17)
                         .input(f32(xs, x))
                         .input(f32({1}, scale1), true)
                         .attr("axis", std::int64_t{1})
                         .run1();
    EXPECT_TRUE(near_rel(values(y), want, kTol, "scale [1], no bias"));
}

}  // namespace
}  // namespace aquant::engine
