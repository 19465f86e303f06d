// AveragePool vs average_pool_ref (count_include_pad on and off, ceil_mode, strides, pads,
// dilations, 1-D/2-D/3-D) and the global pools vs plain means/maxima.
// Tolerance 1e-6 * max(1, max|ref|): sums of at most a few dozen terms.
#include <gtest/gtest.h>

#include "../../src/engine/reference/pool_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

struct Case {
    Dims x;
    std::vector<std::int64_t> kernel, strides, dilations, pads;
    bool ceil_mode, include_pad;
};

TEST(AveragePool, MatchesReference) {
    const std::vector<Case> cases = {
        {{1, 1, 4, 4}, {2, 2}, {2, 2}, {}, {}, false, false},
        {{2, 3, 14, 14}, {3, 3}, {1, 1}, {}, {1, 1, 1, 1}, false, false},
        {{2, 3, 14, 14}, {3, 3}, {1, 1}, {}, {1, 1, 1, 1}, false, true},
        {{1, 2, 7, 9}, {3, 2}, {2, 2}, {}, {1, 0, 1, 1}, true, true},
        {{1, 2, 7, 9}, {3, 2}, {2, 2}, {}, {1, 0, 1, 1}, true, false},
        {{1, 1, 6, 6}, {3, 3}, {3, 3}, {}, {}, true, true},
        {{1, 1, 9, 8}, {2, 3}, {1, 2}, {2, 2}, {1, 2, 1, 2}, false, true},
        {{3, 2, 20}, {5}, {3}, {}, {2, 2}, true, false},
        {{1, 2, 5, 4, 6}, {2, 2, 3}, {2, 1, 2}, {}, {1, 0, 1, 0, 1, 1}, false, true},
    };
    std::uint32_t seed = 600;
    for (const auto& c : cases) {
        const std::size_t r = c.kernel.size();
        const auto x = random_floats(static_cast<std::size_t>(dims_numel(c.x)), ++seed);
        ref::PoolParams p;
        p.kernel = c.kernel;
        p.strides = c.strides;
        p.dilations = c.dilations.empty() ? std::vector<std::int64_t>(r, 1) : c.dilations;
        p.pads_begin.assign(r, 0);
        p.pads_end.assign(r, 0);
        if (!c.pads.empty()) {
            p.pads_begin.assign(c.pads.begin(), c.pads.begin() + static_cast<std::ptrdiff_t>(r));
            p.pads_end.assign(c.pads.begin() + static_cast<std::ptrdiff_t>(r), c.pads.end());
        }
        p.count_include_pad = c.include_pad;
        for (std::size_t i = 0; i < r; ++i) {
            const std::int64_t span = c.x[2 + i] + p.pads_begin[i] + p.pads_end[i] -
                                      ((p.kernel[i] - 1) * p.dilations[i] + 1);
            std::int64_t out = (c.ceil_mode ? (span + p.strides[i] - 1) / p.strides[i]
                                            : span / p.strides[i]) + 1;
            if (c.ceil_mode && (out - 1) * p.strides[i] >= c.x[2 + i] + p.pads_begin[i]) --out;
            p.out.push_back(out);
        }
        const auto want = ref::average_pool_ref(x, c.x, p);
        NodeRunner run("AveragePool", 19);
        run.input(f32(c.x, x)).attr("kernel_shape", c.kernel).attr("strides", c.strides);
        if (!c.dilations.empty()) run.attr("dilations", c.dilations);
        if (!c.pads.empty()) run.attr("pads", c.pads);
        run.attr("ceil_mode", std::int64_t{c.ceil_mode});
        run.attr("count_include_pad", std::int64_t{c.include_pad});
        const Tensor y = run.run1();
        const std::string what = "x " + dims_str(c.x) + " kernel " + dims_str(c.kernel) +
                                 " pads " + dims_str(c.pads) + " ceil " +
                                 std::to_string(c.ceil_mode) + " include_pad " +
                                 std::to_string(c.include_pad) + " seed " + std::to_string(seed);
        Dims want_dims{c.x[0], c.x[1]};
        want_dims.insert(want_dims.end(), p.out.begin(), p.out.end());
        ASSERT_EQ(y.dims(), want_dims) << what;
        EXPECT_TRUE(near_rel(values(y), want, 1e-6, what));
    }
}

TEST(GlobalPool, AverageAndMaxPerPlane) {
    for (const Dims& xs : {Dims{2, 3, 5, 7}, Dims{1, 4, 9}, Dims{1, 2, 3, 2, 5}, Dims{3, 1, 1, 1}}) {
        const auto x = random_floats(static_cast<std::size_t>(dims_numel(xs)), 77);
        const std::int64_t planes = xs[0] * xs[1], inner = dims_numel(xs) / planes;
        std::vector<float> mean(static_cast<std::size_t>(planes)), mx(mean.size());
        for (std::int64_t p = 0; p < planes; ++p) {
            double s = 0;
            float m = x[static_cast<std::size_t>(p * inner)];
            for (std::int64_t j = 0; j < inner; ++j) {
                s += x[static_cast<std::size_t>(p * inner + j)];
                m = std::max(m, x[static_cast<std::size_t>(p * inner + j)]);
            }
            mean[static_cast<std::size_t>(p)] = static_cast<float>(s / static_cast<double>(inner));
            mx[static_cast<std::size_t>(p)] = m;
        }
        Dims want_dims = xs;
        for (std::size_t i = 2; i < want_dims.size(); ++i) want_dims[i] = 1;
        const Tensor avg = NodeRunner("GlobalAveragePool").input(f32(xs, x)).run1();
        const Tensor max = NodeRunner("GlobalMaxPool").input(f32(xs, x)).run1();
        ASSERT_EQ(avg.dims(), want_dims);
        ASSERT_EQ(max.dims(), want_dims);
        EXPECT_TRUE(near_rel(values(avg), mean, 1e-6, "GlobalAveragePool " + dims_str(xs)));
        EXPECT_EQ(values(max), mx) << dims_str(xs);
    }
}

}  // namespace
}  // namespace aquant::engine
