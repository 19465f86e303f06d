// Resize / Upsample vs resize_ref (a recursive per-axis interpolation, the structure of the ONNX
// reference implementation) for every mode x coordinate_transformation_mode x nearest_mode,
// scales and sizes, up- and downsampling, crop boxes with extrapolation, opset 10 and Upsample.
// Tolerance 1e-5 * max(1, max|ref|); nearest must be exact.
#include <gtest/gtest.h>

#include "../../src/engine/reference/resize_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

const std::vector<std::string> kCoords = {"half_pixel",   "pytorch_half_pixel", "align_corners",
                                          "asymmetric",   "tf_half_pixel_for_nn",
                                          "tf_crop_and_resize"};

struct Run {
    Dims xs;
    std::vector<float> scales;    // per axis, or empty when sizes are given
    std::vector<std::int64_t> sizes;
};

void check(const Run& r, const std::string& mode, const std::string& coord,
           const std::string& nearest, bool exclude_outside, std::uint32_t seed) {
    const auto x = random_floats(static_cast<std::size_t>(dims_numel(r.xs)), seed);
    const std::size_t rank = r.xs.size();
    ref::ResizeParams p;
    p.mode = mode;
    p.coord = coord;
    p.nearest_mode = nearest;
    p.exclude_outside = exclude_outside;
    p.cubic_a = -0.5f;
    p.extrapolation_value = -7.0f;
    std::vector<float> roi;
    for (std::size_t a = 0; a < rank; ++a) {
        p.roi_start.push_back(a < 2 ? 0.0f : 0.2f - 0.1f * static_cast<float>(a));
        p.roi_end.push_back(a < 2 ? 1.0f : 0.9f + 0.15f * static_cast<float>(a));
    }
    roi = p.roi_start;
    roi.insert(roi.end(), p.roi_end.begin(), p.roi_end.end());
    for (std::size_t a = 0; a < rank; ++a) {
        if (r.scales.empty()) {
            p.out.push_back(r.sizes[a]);
            p.scales.push_back(static_cast<float>(r.sizes[a]) / static_cast<float>(r.xs[a]));
            p.resized.push_back(static_cast<float>(r.sizes[a]));
        } else {
            p.out.push_back(static_cast<std::int64_t>(r.scales[a] * static_cast<float>(r.xs[a])));
            p.scales.push_back(r.scales[a]);
            p.resized.push_back(r.scales[a] * static_cast<float>(r.xs[a]));
        }
    }
    const auto want = ref::resize_ref(x, r.xs, p);
    NodeRunner run("Resize", 13);
    run.input(f32(r.xs, x)).input(f32({static_cast<std::int64_t>(roi.size())}, roi), true);
    if (r.scales.empty()) {
        run.absent().input(Tensor::from_vector<std::int64_t>({static_cast<std::int64_t>(rank)}, r.sizes), true);
    } else {
        run.input(f32({static_cast<std::int64_t>(rank)}, r.scales), true);
    }
    run.attr("mode", mode).attr("coordinate_transformation_mode", coord);
    run.attr("nearest_mode", nearest).attr("cubic_coeff_a", -0.5f);
    run.attr("exclude_outside", std::int64_t{exclude_outside}).attr("extrapolation_value", -7.0f);
    const Tensor y = run.run1();
    const std::string what = mode + " " + coord + " " + nearest + " x " + dims_str(r.xs) +
                             " out " + dims_str(p.out) + (exclude_outside ? " exclude" : "") +
                             " seed " + std::to_string(seed);
    ASSERT_EQ(y.dims(), Dims(p.out)) << what;
    EXPECT_TRUE(near_rel(values(y), want, mode == "nearest" ? 0.0 : 1e-5, what));
}

const std::vector<Run> kRuns = {
    {{1, 2, 4, 5}, {1.0f, 1.0f, 2.0f, 3.0f}, {}},
    {{1, 1, 7, 9}, {1.0f, 1.0f, 0.6f, 0.45f}, {}},
    {{2, 1, 5, 6}, {}, {2, 1, 9, 4}},
    {{1, 1, 3, 3}, {}, {1, 1, 1, 7}},
    {{1, 3, 8}, {1.0f, 1.0f, 1.75f}, {}},
    {{2, 3, 4, 5}, {1.0f, 2.0f, 1.5f, 1.0f}, {}},  // channel axis resized too
};

TEST(Resize, NearestMatchesReference) {
    std::uint32_t seed = 700;
    for (const auto& r : kRuns) {
        for (const auto& coord : kCoords) {
            for (const std::string nearest : {"round_prefer_floor", "round_prefer_ceil", "floor",
                                              "ceil"}) {
                check(r, "nearest", coord, nearest, false, ++seed);
            }
        }
    }
}

TEST(Resize, LinearMatchesReference) {
    std::uint32_t seed = 800;
    for (const auto& r : kRuns) {
        for (const auto& coord : kCoords) check(r, "linear", coord, "floor", false, ++seed);
    }
}

TEST(Resize, CubicMatchesReference) {
    std::uint32_t seed = 900;
    for (const auto& r : kRuns) {
        for (const auto& coord : kCoords) {
            check(r, "cubic", coord, "floor", false, ++seed);
            check(r, "cubic", coord, "floor", true, ++seed);
        }
    }
}

// Resize-10 and Upsample-9: asymmetric coordinates, nearest truncates (ceil when downsampling).
TEST(Resize, Opset10AndUpsample) {
    const Dims xs{1, 1, 5, 4};
    const auto x = random_floats(20, 33);
    for (const std::string mode : {"nearest", "linear"}) {
        for (const std::vector<float>& scales :
             {std::vector<float>{1, 1, 2, 1.5f}, std::vector<float>{1, 1, 0.5f, 0.75f}}) {
            ref::ResizeParams p;
            p.mode = mode;
            p.coord = "asymmetric";
            p.nearest_mode = "legacy";
            p.scales = scales;
            for (std::size_t a = 0; a < 4; ++a) {
                p.out.push_back(static_cast<std::int64_t>(scales[a] * static_cast<float>(xs[a])));
                p.resized.push_back(scales[a] * static_cast<float>(xs[a]));
            }
            const auto want = ref::resize_ref(x, xs, p);
            const std::string what = mode + " scales " + std::to_string(scales[2]);
            const Tensor y = NodeRunner("Resize", 10)
                                 .input(f32(xs, x))
                                 .input(f32({4}, scales), true)
                                 .attr("mode", mode)
                                 .run1();
            EXPECT_TRUE(near_rel(values(y), want, 1e-6, "Resize-10 " + what));
            if (scales[2] >= 1) {
                const Tensor u = NodeRunner("Upsample", 9)
                                     .input(f32(xs, x))
                                     .input(f32({4}, scales), true)
                                     .attr("mode", mode)
                                     .run1();
                EXPECT_TRUE(near_rel(values(u), want, 1e-6, "Upsample-9 " + what));
            }
        }
    }
}

// ONNX's align_corners downsampling example (test_resize_downsample_scales_linear_align_corners):
// scale 0.6 on width 4 gives 2 outputs at x_original = x * 3 / (2.4 - 1), so the second one is
// 1 + 3 / 1.4 = 3.142857 (with the integer size, 2 - 1, it would be 4).
TEST(Resize, AlignCornersDownsamplingUsesTheFractionalLength) {
    const Tensor y = NodeRunner("Resize", 13)
                         .input(f32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}))
                         .absent()
                         .input(f32({4}, {1, 1, 0.6f, 0.6f}), true)
                         .attr("mode", std::string("linear"))
                         .attr("coordinate_transformation_mode", std::string("align_corners"))
                         .run1();
    ASSERT_EQ(y.dims(), (Dims{1, 1, 1, 2}));
    EXPECT_FLOAT_EQ(values(y)[0], 1.0f);
    EXPECT_NEAR(values(y)[1], 1.0 + 3.0 / 1.4, 1e-6);
}

TEST(Resize, NearestOnInt8) {
    const Dims xs{1, 1, 2, 3};
    const std::vector<std::int8_t> x{-5, 0, 7, 100, -128, 127};
    const Tensor y = NodeRunner("Resize", 13)
                         .input(Tensor::from_vector(xs, x))
                         .absent()
                         .input(f32({4}, {1, 1, 2, 2}), true)
                         .attr("mode", "nearest")
                         .attr("coordinate_transformation_mode", "asymmetric")
                         .attr("nearest_mode", "floor")
                         .run1();
    ASSERT_EQ(y.dims(), (Dims{1, 1, 4, 6}));
    const auto* p = y.data<std::int8_t>();
    for (int h = 0; h < 4; ++h) {
        for (int w = 0; w < 6; ++w) EXPECT_EQ(p[h * 6 + w], x[static_cast<std::size_t>((h / 2) * 3 + w / 2)]);
    }
}

TEST(Resize, RejectsAntialiasAndBadMode) {
    const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
    EXPECT_THROW(NodeRunner("Resize", 18).input(x).attr("antialias", std::int64_t{1}).run(),
                 ModelError);
    EXPECT_THROW(NodeRunner("Resize", 13).input(x).attr("mode", "area").run(), ModelError);
}

}  // namespace
}  // namespace aquant::engine
