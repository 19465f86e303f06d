// ConvTranspose kernel vs the scalar oracle (conv_transpose_ref) over 1-D, 2-D and 3-D shapes
// with groups, strides, dilations, pads, output_padding; output_shape and auto_pad resolve to
// pads computed here from the ONNX formulas. Tolerance: 1e-5 * max(1, max|ref|).
#include <gtest/gtest.h>

#include "../../src/engine/reference/conv_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

constexpr double kTol = 1e-5;

struct Case {
    Dims x, w;  // w: [C, M/group, k...]
    std::int64_t group;
    std::vector<std::int64_t> strides, dilations, pads, output_padding;
    bool bias;
};

void check(const Case& c, std::uint32_t seed) {
    const std::size_t r = c.x.size() - 2;
    const auto x = random_floats(static_cast<std::size_t>(dims_numel(c.x)), seed);
    const auto w = random_floats(static_cast<std::size_t>(dims_numel(c.w)), seed + 1);
    const std::int64_t m = c.w[1] * c.group;
    const auto b = random_floats(static_cast<std::size_t>(m), seed + 2);
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
    p.output_padding = c.output_padding;
    ref::Shape ys;
    const auto want = ref::conv_transpose_ref<float>(x, c.x, w, c.w, c.bias ? &b : nullptr, p, &ys);
    NodeRunner run("ConvTranspose", 11);
    run.input(f32(c.x, x)).input(f32(c.w, w), true);
    if (c.bias) run.input(f32({m}, b), true);
    run.attr("group", c.group);
    if (!c.strides.empty()) run.attr("strides", c.strides);
    if (!c.dilations.empty()) run.attr("dilations", c.dilations);
    if (!c.pads.empty()) run.attr("pads", c.pads);
    if (!c.output_padding.empty()) run.attr("output_padding", c.output_padding);
    const std::string what = "x" + dims_str(c.x) + " w" + dims_str(c.w) + " group " +
                             std::to_string(c.group) + " strides " + dims_str(c.strides) +
                             " pads " + dims_str(c.pads) + " seed " + std::to_string(seed);
    const Tensor y = run.run1();
    ASSERT_EQ(y.dims(), Dims(ys)) << what;
    EXPECT_TRUE(near_rel(values(y), want, kTol, what));
}

TEST(ConvTranspose, MatchesReference) {
    const std::vector<Case> cases = {
        {{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {}, {}, {}, {}, false},
        {{2, 4, 7, 5}, {4, 3, 3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}, {1, 1}, true},
        {{1, 6, 5, 6}, {6, 2, 3, 2}, 3, {3, 2}, {1, 2}, {0, 1, 2, 0}, {}, true},
        {{1, 8, 4, 4}, {8, 1, 4, 4}, 8, {2, 2}, {}, {1, 1, 1, 1}, {}, true},  // depthwise
        {{1, 32, 7, 7}, {32, 16, 2, 2}, 1, {2, 2}, {}, {}, {}, true},         // upsampling 2x
        {{1, 3, 1, 1}, {3, 5, 3, 3}, 1, {}, {}, {}, {}, true},
        {{3, 2, 11}, {2, 3, 5}, 1, {3}, {2}, {2, 1}, {2}, true},  // 1-D
        {{1, 2, 3, 4, 3}, {2, 2, 2, 3, 2}, 1, {2, 1, 2}, {}, {0, 1, 0, 1, 0, 0}, {}, true},  // 3-D
    };
    std::uint32_t seed = 300;
    for (const auto& c : cases) check(c, seed += 3);
}

// output_shape and auto_pad give pads by total = s*(in-1) + adj + (k-1)*d + 1 - out:
// SAME_UPPER puts total/2 in front, the other modes total - total/2.
TEST(ConvTranspose, OutputShapeAndAutoPad) {
    const Dims xs{1, 2, 4, 5}, ws{2, 3, 3, 3};
    const std::vector<std::int64_t> strides{2, 3};
    const auto x = random_floats(static_cast<std::size_t>(dims_numel(xs)), 21);
    const auto w = random_floats(static_cast<std::size_t>(dims_numel(ws)), 22);
    struct Mode {
        std::string auto_pad;
        std::vector<std::int64_t> output_shape;
    };
    for (const Mode& mode : {Mode{"NOTSET", {8, 14}}, Mode{"SAME_UPPER", {}},
                             Mode{"SAME_LOWER", {}}, Mode{"NOTSET", {1, 2, 10, 16}}}) {
        ref::WindowParams p;
        p.strides = strides;
        p.dilations = {1, 1};
        std::vector<std::int64_t> want_out;
        for (int i = 0; i < 2; ++i) {
            const std::int64_t in = xs[2 + i], k = ws[2 + i], s = strides[i];
            const std::int64_t out = mode.output_shape.empty()
                                         ? in * s
                                         : mode.output_shape[mode.output_shape.size() - 2 + i];
            const std::int64_t total = s * (in - 1) + k - out;
            const std::int64_t front = total < 0 ? 0
                                       : mode.auto_pad == "SAME_UPPER" ? total / 2
                                                                       : total - total / 2;
            p.pads_begin.push_back(front);
            p.pads_end.push_back(total - front);
            want_out.push_back(out);
        }
        ref::Shape ys;
        const auto want = ref::conv_transpose_ref<float>(x, xs, w, ws, nullptr, p, &ys);
        NodeRunner run("ConvTranspose", 11);
        run.input(f32(xs, x)).input(f32(ws, w), true).attr("strides", strides);
        run.attr("auto_pad", mode.auto_pad);
        if (!mode.output_shape.empty()) run.attr("output_shape", mode.output_shape);
        const Tensor y = run.run1();
        const std::string what = mode.auto_pad + " output_shape " + dims_str(mode.output_shape);
        ASSERT_EQ(y.dims(), (Dims{1, 3, want_out[0], want_out[1]})) << what;
        EXPECT_TRUE(near_rel(values(y), want, kTol, what));
    }
}

}  // namespace
}  // namespace aquant::engine
