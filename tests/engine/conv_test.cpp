// Conv kernel vs the scalar oracle (src/engine/reference/conv_ref.h) on random data over 1-D,
// 2-D and 3-D shapes: groups, depthwise (with multiplier), pointwise, strides, dilations,
// asymmetric pads, auto_pad, sizes 1 and primes. Tolerance: max error <= 1e-5 * max(1, max|ref|)
// (float accumulation vs the oracle's double).
#include <gtest/gtest.h>

#include "../../src/engine/reference/conv_ref.h"
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

struct ConvCase {
    Dims x;       // [N, C, spatial...]
    Dims w;       // [M, C/group, k...]
    std::int64_t group;
    std::vector<std::int64_t> strides, dilations, pads;  // pads: begins then ends
    bool bias;
    bool const_weight;
};

std::string describe(const ConvCase& c, std::uint32_t seed) {
    return "x" + dims_str(c.x) + " w" + dims_str(c.w) + " group " + std::to_string(c.group) +
           " strides " + dims_str(c.strides) + " dilations " + dims_str(c.dilations) + " pads " +
           dims_str(c.pads) + (c.bias ? " bias" : "") + " seed " + std::to_string(seed);
}

void check_2d_cases();

void check_conv(const ConvCase& c, std::uint32_t seed) {
    const std::size_t r = c.x.size() - 2;
    const auto x = random_floats(static_cast<std::size_t>(dims_numel(c.x)), seed);
    const auto w = random_floats(static_cast<std::size_t>(dims_numel(c.w)), seed + 1);
    const auto b = random_floats(static_cast<std::size_t>(c.w[0]), seed + 2);
    ref::WindowParams p;
    p.group = c.group;
    p.strides = c.strides.empty() ? std::vector<std::int64_t>(r, 1) : c.strides;
    p.dilations = c.dilations.empty() ? std::vector<std::int64_t>(r, 1) : c.dilations;
    p.pads_begin.assign(r, 0);
    p.pads_end.assign(r, 0);
    if (!c.pads.empty()) {
        p.pads_begin.assign(c.pads.begin(), c.pads.begin() + static_cast<std::ptrdiff_t>(r));
        p.pads_end.assign(c.pads.begin() + static_cast<std::ptrdiff_t>(r), c.pads.end());
    }
    ref::Shape ys;
    const auto want = ref::conv_ref<float>(x, c.x, w, c.w, c.bias ? &b : nullptr, p, &ys);

    NodeRunner run("Conv", 11);
    run.input(f32(c.x, x)).input(f32(c.w, w), c.const_weight);
    if (c.bias) run.input(f32({c.w[0]}, b), c.const_weight);
    run.attr("group", c.group);
    if (!c.strides.empty()) run.attr("strides", c.strides);
    if (!c.dilations.empty()) run.attr("dilations", c.dilations);
    if (!c.pads.empty()) run.attr("pads", c.pads);
    const Tensor y = run.run1();
    ASSERT_EQ(y.dims(), Dims(ys)) << describe(c, seed);
    EXPECT_TRUE(near_rel(values(y), want, kTol, describe(c, seed)));
}

TEST(Conv, MatchesReference2D) {
    for (GemmKernel k : {GemmKernel::kBest, GemmKernel::kPortable}) {
        SCOPED_TRACE(set_gemm_kernel(k));
        check_2d_cases();
    }
    set_gemm_kernel(GemmKernel::kBest);
}

void check_2d_cases() {
    const std::vector<ConvCase> cases = {
        {{1, 1, 5, 5}, {1, 1, 3, 3}, 1, {}, {}, {}, false, true},
        {{1, 3, 28, 28}, {8, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true, true},
        {{2, 4, 13, 11}, {6, 4, 3, 3}, 1, {2, 2}, {}, {1, 0, 2, 1}, true, false},
        {{1, 5, 17, 19}, {7, 5, 5, 3}, 1, {1, 2}, {2, 1}, {2, 1, 2, 1}, true, true},
        {{3, 6, 9, 9}, {9, 2, 3, 3}, 3, {}, {}, {1, 1, 1, 1}, true, true},  // groups
        {{1, 8, 14, 14}, {8, 1, 3, 3}, 8, {}, {}, {1, 1, 1, 1}, true, true},  // depthwise
        {{2, 8, 15, 15}, {8, 1, 3, 3}, 8, {2, 2}, {}, {1, 1, 1, 1}, false, true},
        {{1, 4, 10, 12}, {12, 1, 5, 5}, 4, {1, 1}, {2, 2}, {4, 4, 4, 4}, true, true},  // multiplier
        {{2, 6, 3, 3}, {6, 1, 3, 3}, 6, {}, {}, {1, 1, 1, 1}, true, true},   // tiny depthwise
        {{1, 5, 9, 11}, {5, 1, 3, 3}, 5, {2, 2}, {}, {1, 1, 1, 1}, true, true},  // OW 6
        {{1, 3, 4, 5}, {3, 1, 3, 3}, 3, {2, 2}, {}, {1, 1, 1, 1}, false, true},  // OW 3
        {{1, 6, 13, 17}, {6, 1, 3, 3}, 6, {2, 3}, {2, 1}, {1, 2, 0, 1}, true, true},  // dw dil
        {{2, 4, 20, 21}, {8, 1, 5, 5}, 4, {2, 2}, {}, {2, 2, 2, 2}, true, false},  // dw x2, s2
        {{1, 3, 30, 40}, {3, 1, 7, 7}, 3, {1, 3}, {}, {3, 3, 3, 3}, true, true},  // dw 7x7
        {{3, 16, 7, 7}, {32, 16, 1, 1}, 1, {}, {}, {}, true, true},  // pointwise, 49 px
        {{2, 16, 7, 7}, {24, 16, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true, true},
        {{1, 16, 7, 7}, {32, 16, 1, 1}, 1, {}, {}, {}, true, true},                   // pointwise
        {{2, 12, 9, 10}, {6, 12, 1, 1}, 1, {2, 2}, {}, {}, false, true},  // strided 1x1
        {{1, 1, 28, 28}, {6, 1, 5, 5}, 1, {}, {}, {}, true, true},        // LeNet conv1
        {{1, 2, 1, 1}, {3, 2, 1, 1}, 1, {}, {}, {}, true, true},
        {{1, 3, 4, 4}, {5, 3, 3, 3}, 1, {}, {}, {2, 2, 2, 2}, true, true},  // pad > half kernel
        {{1, 64, 17, 17}, {37, 64, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true, true},
        // strided + padded over a batch with >= 128 outputs per image: padded image by image
        {{3, 5, 30, 26}, {7, 5, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, true, true},
        {{2, 6, 24, 25}, {8, 3, 3, 3}, 2, {2, 2}, {}, {1, 0, 1, 1}, true, false},
        // strided, output >= 8 wide: the phased grid (stride phases, dilation, odd pads)
        {{2, 5, 31, 29}, {7, 5, 3, 3}, 1, {2, 3}, {2, 1}, {1, 2, 0, 1}, true, true},
        {{1, 4, 40, 37}, {6, 2, 4, 5}, 2, {3, 2}, {}, {2, 0, 1, 2}, true, false},
    };
    std::uint32_t seed = 100;
    for (const auto& c : cases) check_conv(c, seed += 3);
}

TEST(Conv, MatchesReference1DAnd3D) {
    const std::vector<ConvCase> cases = {
        {{2, 3, 31}, {5, 3, 3}, 1, {}, {}, {1, 1}, true, true},
        {{1, 4, 23}, {4, 2, 4}, 2, {2}, {3}, {2, 3}, true, false},
        {{1, 6, 16}, {6, 1, 5}, 6, {}, {}, {2, 2}, false, true},  // depthwise 1-D
        {{1, 2, 5, 6, 7}, {4, 2, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1, 1, 1}, true, true},
        {{2, 4, 6, 7, 5}, {4, 2, 2, 3, 2}, 2, {2, 1, 2}, {1, 2, 1}, {0, 1, 1, 1, 0, 1}, true, true},
        {{1, 3, 5, 5, 5}, {3, 1, 3, 3, 3}, 3, {}, {}, {1, 1, 1, 1, 1, 1}, true, true},
        {{2, 2, 6, 7, 9}, {4, 1, 2, 3, 3}, 2, {2, 1, 2}, {1, 1, 2}, {1, 0, 1, 0, 1, 2}, true, true},
        {{1, 4, 40}, {4, 1, 3}, 4, {2}, {}, {1, 1}, false, true},  // depthwise 1-D strided
        {{2, 3, 45}, {5, 3, 3}, 1, {2}, {2}, {1, 2}, true, true},   // 1-D strided, phased
        {{1, 2, 4, 20, 22}, {3, 2, 2, 3, 3}, 1, {1, 2, 2}, {}, {1, 1, 1, 0, 1, 1}, true, true},
    };
    std::uint32_t seed = 200;
    for (const auto& c : cases) check_conv(c, seed += 3);
}

// auto_pad: the expected pads are computed here from the ONNX formulas and fed to the oracle.
TEST(Conv, AutoPad) {
    const Dims xs{1, 3, 10, 7}, ws{4, 3, 3, 2};
    const std::vector<std::int64_t> strides{2, 3};
    const auto x = random_floats(static_cast<std::size_t>(dims_numel(xs)), 7);
    const auto w = random_floats(static_cast<std::size_t>(dims_numel(ws)), 8);
    for (const std::string mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
        ref::WindowParams p;
        p.strides = strides;
        p.dilations = {1, 1};
        for (int i = 0; i < 2; ++i) {
            const std::int64_t in = xs[2 + i], k = ws[2 + i], s = strides[i];
            std::int64_t total = 0;
            if (mode != "VALID") {
                const std::int64_t out = (in + s - 1) / s;
                total = std::max<std::int64_t>(0, (out - 1) * s + k - in);
            }
            const std::int64_t small = total / 2, big = total - small;
            p.pads_begin.push_back(mode == "SAME_LOWER" ? big : small);
            p.pads_end.push_back(mode == "SAME_LOWER" ? small : big);
        }
        ref::Shape ys;
        const auto want = ref::conv_ref<float>(x, xs, w, ws, nullptr, p, &ys);
        const Tensor y = NodeRunner("Conv", 11)
                             .input(f32(xs, x))
                             .input(f32(ws, w), true)
                             .attr("strides", strides)
                             .attr("auto_pad", mode)
                             .run1();
        ASSERT_EQ(y.dims(), Dims(ys)) << mode;
        if (mode != "VALID") {
            EXPECT_EQ(y.dim(2), 5) << mode;  // ceil(10 / 2)
            EXPECT_EQ(y.dim(3), 3) << mode;  // ceil(7 / 3)
        }
        EXPECT_TRUE(near_rel(values(y), want, kTol, "auto_pad " + mode));
    }
}

// FusedConv = activation(Conv + Z): oracle conv plus Z, then the activation, for every path
// (depthwise, stride 1, strided, pointwise) and every activation.
TEST(FusedConv, MatchesReferencePlusZAndActivation) {
    struct Act {
        std::string name;
        std::vector<float> params;
        float (*fn)(float, const std::vector<float>&);
    };
    const std::vector<Act> acts = {
        {"", {}, [](float v, const std::vector<float>&) { return v; }},
        {"Relu", {}, [](float v, const std::vector<float>&) { return v > 0 ? v : 0.0f; }},
        {"Clip", {0.0f, 6.0f},
         [](float v, const std::vector<float>& p) { return std::min(std::max(v, p[0]), p[1]); }},
        {"LeakyRelu", {0.1f},
         [](float v, const std::vector<float>& p) { return v < 0 ? p[0] * v : v; }},
        {"Sigmoid", {}, [](float v, const std::vector<float>&) { return 1 / (1 + std::exp(-v)); }},
        {"Tanh", {}, [](float v, const std::vector<float>&) { return std::tanh(v); }},
        {"HardSigmoid", {0.3f, 0.4f},
         [](float v, const std::vector<float>& p) {
             return std::max(0.0f, std::min(1.0f, p[0] * v + p[1]));
         }},
    };
    const std::vector<ConvCase> cases = {
        {{2, 6, 9, 9}, {6, 1, 3, 3}, 6, {}, {}, {1, 1, 1, 1}, true, true},      // depthwise
        {{2, 4, 11, 10}, {8, 4, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true, true},    // stride 1
        {{3, 4, 11, 10}, {8, 2, 3, 3}, 2, {2, 2}, {}, {1, 0, 0, 1}, true, true},  // strided
        {{3, 16, 5, 5}, {8, 16, 1, 1}, 1, {}, {}, {}, false, true},            // pointwise
        {{2, 4, 34, 30}, {8, 4, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, true, true},  // per image
        // Narrow outputs (< 8 wide): depthwise rows stored with spills, im2col for stride 1.
        {{3, 8, 14, 14}, {8, 1, 3, 3}, 8, {2, 2}, {}, {1, 1, 1, 1}, true, true},  // dw 7x7
        {{2, 4, 7, 7}, {8, 4, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true, true},        // stride 1 7x7
        {{2, 1, 12, 12}, {5, 1, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, true, true},      // one channel
    };
    std::uint32_t seed = 900;
    for (const auto& c : cases) {
        for (const auto& act : acts) {
            for (bool with_z : {false, true}) {
                seed += 3;
                const std::size_t r = c.x.size() - 2;
                const auto x = random_floats(static_cast<std::size_t>(dims_numel(c.x)), seed, -2, 2);
                const auto w = random_floats(static_cast<std::size_t>(dims_numel(c.w)), seed + 1);
                const auto b = random_floats(static_cast<std::size_t>(c.w[0]), seed + 2);
                ref::WindowParams p;
                p.group = c.group;
                p.strides = c.strides.empty() ? std::vector<std::int64_t>(r, 1) : c.strides;
                p.dilations.assign(r, 1);
                p.pads_begin.assign(r, 0);
                p.pads_end.assign(r, 0);
                if (!c.pads.empty()) {
                    p.pads_begin.assign(c.pads.begin(), c.pads.begin() + 2);
                    p.pads_end.assign(c.pads.begin() + 2, c.pads.end());
                }
                ref::Shape ys;
                auto want = ref::conv_ref<float>(x, c.x, w, c.w, c.bias ? &b : nullptr, p, &ys);
                const auto z = random_floats(want.size(), seed + 3);
                for (std::size_t i = 0; i < want.size(); ++i) {
                    want[i] = act.fn(want[i] + (with_z ? z[i] : 0.0f), act.params);
                }
                NodeRunner run("FusedConv", 1);
                run.domain("com.microsoft");
                run.input(f32(c.x, x)).input(f32(c.w, w), true);
                if (c.bias) {
                    run.input(f32({c.w[0]}, b), true);
                } else {
                    run.absent();
                }
                if (with_z) run.input(f32(Dims(ys), z));
                run.attr("group", c.group);
                if (!c.strides.empty()) run.attr("strides", c.strides);
                if (!c.pads.empty()) run.attr("pads", c.pads);
                if (!act.name.empty()) run.attr("activation", act.name);
                if (!act.params.empty()) run.attr("activation_params", act.params);
                const std::string what = describe(c, seed) + " activation '" + act.name + "'" +
                                         (with_z ? " with Z" : "");
                const Tensor y = run.run1();
                ASSERT_EQ(y.dims(), Dims(ys)) << what;
                EXPECT_TRUE(near_rel(values(y), want, kTol, what));
            }
        }
    }
}

// Every path (stride 1 image by image and single image, strided padded per image and whole
// batch, pointwise, depthwise, narrow depthwise and stride 1) gives bit-identical results for 1, 2 and 3 threads.
TEST(Conv, SameResultForAnyThreadCount) {
    struct Case {
        Dims xs, ws;
        std::int64_t group, stride;
        std::vector<std::int64_t> pads;
    };
    const std::vector<Case> cases = {
        {{3, 16, 20, 20}, {24, 16, 3, 3}, 1, 1, {1, 1, 1, 1}},
        {{1, 16, 20, 20}, {24, 16, 3, 3}, 1, 1, {1, 1, 1, 1}},
        {{3, 8, 30, 28}, {16, 8, 3, 3}, 1, 2, {1, 1, 1, 1}},
        {{3, 8, 12, 12}, {16, 8, 3, 3}, 1, 2, {1, 1, 1, 1}},
        {{3, 24, 9, 9}, {40, 24, 1, 1}, 1, 1, {0, 0, 0, 0}},
        {{3, 16, 19, 19}, {32, 1, 3, 3}, 16, 2, {1, 1, 1, 1}},
        {{5, 16, 7, 7}, {16, 1, 3, 3}, 16, 1, {1, 1, 1, 1}},  // narrow depthwise, many planes
        {{4, 16, 7, 7}, {24, 16, 3, 3}, 1, 1, {1, 1, 1, 1}},  // narrow stride 1 (im2col)
        {{4, 1, 28, 28}, {16, 1, 3, 3}, 1, 1, {1, 1, 1, 1}},  // one input channel (direct)
    };
    for (const auto& c : cases) {
        const auto x = random_floats(static_cast<std::size_t>(dims_numel(c.xs)), 11);
        const auto w = random_floats(static_cast<std::size_t>(dims_numel(c.ws)), 12);
        const auto b = random_floats(static_cast<std::size_t>(c.ws[0]), 13);
        auto run = [&] {
            return NodeRunner("Conv", 11)
                .input(f32(c.xs, x))
                .input(f32(c.ws, w), true)
                .input(f32({c.ws[0]}, b), true)
                .attr("group", c.group)
                .attr("strides", std::vector<std::int64_t>{c.stride, c.stride})
                .attr("pads", c.pads)
                .run1();
        };
        const int saved = num_threads();
        set_num_threads(1);
        const Tensor t1 = run();
        set_num_threads(2);
        const Tensor t2 = run();
        set_num_threads(3);
        const Tensor t3 = run();
        set_num_threads(saved);
        EXPECT_TRUE(t1.same_as(t2)) << "x" << dims_str(c.xs) << " w" << dims_str(c.ws);
        EXPECT_TRUE(t1.same_as(t3)) << "x" << dims_str(c.xs) << " w" << dims_str(c.ws);
    }
}

TEST(Conv, RejectsMismatchedChannels) {
    NodeRunner run("Conv", 11);
    run.input(f32({1, 4, 5, 5}, std::vector<float>(100, 1.0f)))
        .input(f32({2, 3, 3, 3}, std::vector<float>(54, 1.0f)), true);
    try {
        run.run();
        FAIL() << "expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("node 'n0' (Conv)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("group 1"), std::string::npos) << e.what();
    }
}

TEST(Conv, RejectsBadAutoPad) {
    NodeRunner run("Conv", 11);
    run.input(f32({1, 1, 3, 3}, std::vector<float>(9, 1.0f)))
        .input(f32({1, 1, 1, 1}, {1.0f}), true)
        .attr("auto_pad", "SAME");
    EXPECT_THROW(run.run(), ModelError);
}

}  // namespace
}  // namespace aquant::engine
