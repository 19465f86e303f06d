// MaxPool kernel vs max_pool_ref: 1-D/2-D/3-D, pads, strides, dilations, ceil_mode, auto_pad,
// Indices output, uint8/int8. Max is exact, so results must be equal.
#include <gtest/gtest.h>

#include "../../src/engine/reference/pool_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

struct Case {
    Dims x;
    std::vector<std::int64_t> kernel, strides, dilations, pads;
    bool ceil_mode;
};

// Output size with explicit pads, ceil_mode dropping a window that starts in the end padding.
std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d,
                      std::int64_t pb, std::int64_t pe, bool ceil_mode) {
    const std::int64_t span = in + pb + pe - ((k - 1) * d + 1);
    std::int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + pb) --out;
    return out;
}

ref::PoolParams params_of(const Case& c) {
    const std::size_t r = c.kernel.size();
    ref::PoolParams p;
    p.kernel = c.kernel;
    p.strides = c.strides.empty() ? std::vector<std::int64_t>(r, 1) : c.strides;
    p.dilations = c.dilations.empty() ? std::vector<std::int64_t>(r, 1) : c.dilations;
    p.pads_begin.assign(r, 0);
    p.pads_end.assign(r, 0);
    if (!c.pads.empty()) {
        p.pads_begin.assign(c.pads.begin(), c.pads.begin() + static_cast<std::ptrdiff_t>(r));
        p.pads_end.assign(c.pads.begin() + static_cast<std::ptrdiff_t>(r), c.pads.end());
    }
    for (std::size_t i = 0; i < r; ++i) {
        p.out.push_back(out_size(c.x[2 + i], p.kernel[i], p.strides[i], p.dilations[i],
                                 p.pads_begin[i], p.pads_end[i], c.ceil_mode));
    }
    return p;
}

NodeRunner runner(const Case& c, Tensor x) {
    NodeRunner run("MaxPool", 12);
    run.input(std::move(x)).attr("kernel_shape", c.kernel);
    if (!c.strides.empty()) run.attr("strides", c.strides);
    if (!c.dilations.empty()) run.attr("dilations", c.dilations);
    if (!c.pads.empty()) run.attr("pads", c.pads);
    if (c.ceil_mode) run.attr("ceil_mode", std::int64_t{1});
    return run;
}

TEST(MaxPool, MatchesReferenceWithIndices) {
    const std::vector<Case> cases = {
        {{1, 1, 4, 4}, {2, 2}, {2, 2}, {}, {}, false},
        {{2, 3, 28, 28}, {2, 2}, {2, 2}, {}, {}, false},
        {{1, 2, 13, 11}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, false},
        {{1, 2, 13, 11}, {3, 2}, {2, 3}, {}, {0, 1, 1, 0}, true},
        {{1, 1, 9, 9}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, false},
        {{1, 1, 4, 4}, {3, 3}, {2, 2}, {}, {}, true},
        {{3, 2, 17}, {4}, {3}, {2}, {1, 2}, true},
        {{1, 2, 5, 6, 7}, {2, 3, 2}, {2, 2, 2}, {}, {0, 1, 1, 1, 1, 0}, false},
    };
    std::uint32_t seed = 500;
    for (const auto& c : cases) {
        const auto x = random_floats(static_cast<std::size_t>(dims_numel(c.x)), ++seed);
        const auto p = params_of(c);
        std::vector<std::int64_t> want_idx;
        const auto want = ref::max_pool_ref(x, c.x, p, &want_idx);
        const auto outs = runner(c, f32(c.x, x)).outputs(2).run();
        const std::string what = "x " + dims_str(c.x) + " kernel " + dims_str(c.kernel) +
                                 " pads " + dims_str(c.pads) + " seed " + std::to_string(seed);
        Dims want_dims{c.x[0], c.x[1]};
        want_dims.insert(want_dims.end(), p.out.begin(), p.out.end());
        ASSERT_EQ(outs[0].dims(), want_dims) << what;
        EXPECT_EQ(values(outs[0]), want) << what;
        const auto* idx = outs[1].data<std::int64_t>();
        // The oracle's index is within one image plane's batch offset already (flat over x).
        EXPECT_EQ(std::vector<std::int64_t>(idx, idx + outs[1].numel()), want_idx) << what;
    }
}

TEST(MaxPool, AutoPadSameUpperAndLower) {
    const Dims xs{1, 1, 5, 6};
    const auto x = random_floats(static_cast<std::size_t>(dims_numel(xs)), 9);
    for (const std::string mode : {"SAME_UPPER", "SAME_LOWER"}) {
        // out = ceil(in / s); total pad = (out - 1) * s + k - in; SAME_UPPER: extra at the end.
        ref::PoolParams p;
        p.kernel = {3, 2};
        p.strides = {2, 2};
        p.dilations = {1, 1};
        p.out = {3, 3};
        const std::int64_t th = 2 * 2 + 3 - 5, tw = 2 * 2 + 2 - 6;
        p.pads_begin = {mode == "SAME_UPPER" ? th / 2 : th - th / 2,
                        mode == "SAME_UPPER" ? tw / 2 : tw - tw / 2};
        p.pads_end = {th - p.pads_begin[0], tw - p.pads_begin[1]};
        const auto want = ref::max_pool_ref<float>(x, xs, p, nullptr);
        const Tensor y = NodeRunner("MaxPool", 12)
                             .input(f32(xs, x))
                             .attr("kernel_shape", std::vector<std::int64_t>{3, 2})
                             .attr("strides", std::vector<std::int64_t>{2, 2})
                             .attr("auto_pad", mode)
                             .run1();
        ASSERT_EQ(y.dims(), (Dims{1, 1, 3, 3})) << mode;
        EXPECT_EQ(values(y), want) << mode;
    }
}

TEST(MaxPool, Uint8) {
    const Dims xs{1, 2, 5, 5};
    std::vector<std::uint8_t> x(50);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::uint8_t>((i * 37) % 251);
    const Case c{xs, {2, 2}, {1, 1}, {}, {}, false};
    const auto want = ref::max_pool_ref<std::uint8_t>(x, xs, params_of(c), nullptr);
    const Tensor y = runner(c, Tensor::from_vector(xs, x)).run1();
    ASSERT_EQ(y.dtype(), DType::kU8);
    const auto* p = y.data<std::uint8_t>();
    EXPECT_EQ(std::vector<std::uint8_t>(p, p + y.numel()), want);
}

TEST(MaxPool, StorageOrderColumnMajorIndices) {
    // 2x3 plane, one window over it all: the max at (h=1, w=2) is 1*3+2 = 5 row-major and
    // 1 + 2*2 = 5 column-major; the max at (h=1, w=0) is 3 row-major, 1 column-major.
    const Tensor x = f32({1, 1, 2, 3}, {0, 1, 2, 9, 4, 5});
    const auto outs = NodeRunner("MaxPool", 12)
                          .input(x)
                          .attr("kernel_shape", std::vector<std::int64_t>{2, 3})
                          .attr("storage_order", std::int64_t{1})
                          .outputs(2)
                          .run();
    EXPECT_EQ(outs[0].data<float>()[0], 9.0f);
    EXPECT_EQ(outs[1].data<std::int64_t>()[0], 1);
}

TEST(MaxPool, RequiresKernelShape) {
    EXPECT_THROW(NodeRunner("MaxPool", 12).input(f32({1, 1, 2, 2}, {1, 2, 3, 4})).run(),
                 ModelError);
}

}  // namespace
}  // namespace aquant::engine
