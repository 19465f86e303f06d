// Data-movement kernels (Slice, Pad, Split, Gather, Transpose, Tile, Expand, Concat, Reshape,
// Squeeze/Unsqueeze) against naive index-mapping oracles, on cases the ONNX node tests do not
// reach: clamped and negative-step slices, negative pads, opset-18 forms, tensors larger than
// one parallel chunk. Data movement is exact, so comparisons are exact.
#include "engine/run_node.h"

#include <gtest/gtest.h>

#include <limits>
#include <numeric>

namespace aquant::engine {
namespace {

using test::attr_int;
using test::attr_ints;
using test::attr_string;
using test::run_node;
using test::tensor_i64;

Tensor iota_f32(const Dims& dims) {
    std::vector<float> v(static_cast<std::size_t>(dims_numel(dims)));
    std::iota(v.begin(), v.end(), 0.0f);
    return Tensor::from_vector<float>(dims, v);
}

std::vector<std::int64_t> unravel(std::int64_t flat, const Dims& dims) {
    std::vector<std::int64_t> idx(dims.size());
    for (std::size_t d = dims.size(); d-- > 0;) {
        idx[d] = flat % dims[d];
        flat /= dims[d];
    }
    return idx;
}

std::int64_t ravel(const std::vector<std::int64_t>& idx, const Dims& dims) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < dims.size(); ++d) {
        flat = flat * dims[d] + idx[d];
    }
    return flat;
}

// Python's slice(start, stop, step).indices(n), written out independently of the kernel.
std::vector<std::int64_t> python_slice(std::int64_t start, std::int64_t stop, std::int64_t step,
                                       std::int64_t n) {
    auto adjust = [&](std::int64_t v, bool is_start) {
        if (v < 0) {
            v = v < -n ? (step < 0 ? -1 : 0) : v + n;  // guards INT64_MIN + n
        } else if (v >= n) {
            v = step < 0 ? n - 1 : n;
        }
        (void)is_start;
        return v;
    };
    const std::int64_t s = adjust(start, true), e = adjust(stop, false);
    std::vector<std::int64_t> out;
    for (std::int64_t i = s; step > 0 ? i < e : i > e; i += step) {
        out.push_back(i);
    }
    return out;
}

struct SliceCase {
    std::vector<std::int64_t> starts, ends, axes, steps;
};

TEST(Slice, MatchesPythonSlicingIncludingClampsAndNegativeSteps) {
    const Dims dims{5, 7, 4};
    const Tensor x = iota_f32(dims);
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    const std::vector<SliceCase> cases = {
        {{1, 0}, {4, 7}, {0, 1}, {1, 2}},
        {{-1}, {kMin}, {1}, {-1}},
        {{kMax}, {-100}, {0}, {-2}},
        {{-3, 2}, {kMax, -1}, {2, 0}, {1, 1}},
        {{6}, {0}, {1}, {-3}},
        {{2}, {2}, {0}, {1}},
        {{100}, {200}, {-1}, {1}},
        {{0, 0, 0}, {5, 7, 4}, {0, 1, 2}, {3, 5, 2}},
    };
    for (const auto& c : cases) {
        const Tensor y =
            run_node("Slice", {x, tensor_i64({(std::int64_t)c.starts.size()}, c.starts),
                               tensor_i64({(std::int64_t)c.ends.size()}, c.ends),
                               tensor_i64({(std::int64_t)c.axes.size()}, c.axes),
                               tensor_i64({(std::int64_t)c.steps.size()}, c.steps)})[0];
        std::vector<std::vector<std::int64_t>> picks(dims.size());
        for (std::size_t d = 0; d < dims.size(); ++d) {
            picks[d] = python_slice(0, dims[d], 1, dims[d]);
        }
        for (std::size_t i = 0; i < c.starts.size(); ++i) {
            const auto a = static_cast<std::size_t>(c.axes[i] < 0 ? c.axes[i] + 3 : c.axes[i]);
            picks[a] = python_slice(c.starts[i], c.ends[i], c.steps[i], dims[a]);
        }
        Dims want_dims;
        for (const auto& p : picks) {
            want_dims.push_back(static_cast<std::int64_t>(p.size()));
        }
        ASSERT_EQ(y.dims(), want_dims) << "starts " << dims_str(c.starts);
        for (std::int64_t i = 0; i < y.numel(); ++i) {
            const auto idx = unravel(i, want_dims);
            std::vector<std::int64_t> src(idx.size());
            for (std::size_t d = 0; d < idx.size(); ++d) {
                src[d] = picks[d][idx[d]];
            }
            ASSERT_EQ(y.get_f64(i), x.get_f64(ravel(src, dims))) << i;
        }
    }
}

TEST(Slice, Opset1AttributesForm) {
    const Tensor y =
        run_node("Slice", {iota_f32({3, 4})}, 1,
                 {attr_ints("starts", {1}), attr_ints("ends", {3}), attr_ints("axes", {1})})[0];
    EXPECT_EQ(y.dims(), (Dims{3, 2}));
    EXPECT_EQ(y.to_f32(), (std::vector<float>{1, 2, 5, 6, 9, 10}));
}

std::int64_t reflect(std::int64_t i, std::int64_t n) {
    while (i < 0 || i >= n) {
        i = i < 0 ? -i : 2 * (n - 1) - i;
    }
    return i;
}

TEST(Pad, ModesMatchIndexOracleWithNegativePads) {
    const Dims dims{3, 5};
    const Tensor x = iota_f32(dims);

    struct Case {
        std::string mode;
        std::vector<std::int64_t> pads;  // begin0, begin1, end0, end1
    };

    for (const Case& c : std::vector<Case>{{"constant", {1, -1, 2, 3}},
                                           {"reflect", {2, 4, 1, 2}},
                                           {"edge", {0, 3, 2, -2}},
                                           {"constant", {-1, 0, -1, 0}}}) {
        const Tensor y = run_node("Pad", {x, tensor_i64({4}, c.pads), Tensor::scalar<float>(-7)},
                                  13, {attr_string("mode", c.mode)})[0];
        const Dims want{dims[0] + c.pads[0] + c.pads[2], dims[1] + c.pads[1] + c.pads[3]};
        ASSERT_EQ(y.dims(), want) << c.mode;
        for (std::int64_t i = 0; i < y.numel(); ++i) {
            const auto idx = unravel(i, want);
            std::int64_t r = idx[0] - c.pads[0], col = idx[1] - c.pads[1];
            double expect;
            if (c.mode == "constant") {
                const bool in = r >= 0 && r < dims[0] && col >= 0 && col < dims[1];
                expect = in ? x.get_f64(r * dims[1] + col) : -7.0;
            } else if (c.mode == "edge") {
                r = std::clamp<std::int64_t>(r, 0, dims[0] - 1);
                col = std::clamp<std::int64_t>(col, 0, dims[1] - 1);
                expect = x.get_f64(r * dims[1] + col);
            } else {
                expect = x.get_f64(reflect(r, dims[0]) * dims[1] + reflect(col, dims[1]));
            }
            ASSERT_EQ(y.get_f64(i), expect) << c.mode << " at " << i;
        }
    }
}

TEST(Pad, Opset18AxesInputPadsOnlyListedAxes) {
    const Tensor y = run_node(
        "Pad", {iota_f32({2, 2}), tensor_i64({2}, {1, 2}), Tensor(), tensor_i64({1}, {-1})}, 18)[0];
    EXPECT_EQ(y.dims(), (Dims{2, 5}));
    EXPECT_EQ(y.to_f32(), (std::vector<float>{0, 0, 1, 0, 0, 0, 2, 3, 0, 0}));
}

TEST(Pad, Opset2AttributesForm) {
    const Tensor y = run_node("Pad", {iota_f32({1, 2})}, 2,
                              {attr_ints("pads", {0, 1, 0, 0}), test::attr_float("value", 9)})[0];
    EXPECT_EQ(y.to_f32(), (std::vector<float>{9, 0, 1}));
}

TEST(Split, Opset18NumOutputsMakesTheLastPartSmaller) {
    const auto outs = run_node("Split", {iota_f32({7})}, 18, {attr_int("num_outputs", 3)}, 3);
    ASSERT_EQ(outs.size(), 3u);
    EXPECT_EQ(outs[0].to_f32(), (std::vector<float>{0, 1, 2}));
    EXPECT_EQ(outs[1].to_f32(), (std::vector<float>{3, 4, 5}));
    EXPECT_EQ(outs[2].to_f32(), (std::vector<float>{6}));
}

TEST(Split, SizesFromInputAlongInnerAxis) {
    const auto outs = run_node("Split", {iota_f32({2, 5}), tensor_i64({2}, {2, 3})}, 13,
                               {attr_int("axis", -1)}, 2);
    EXPECT_EQ(outs[0].to_f32(), (std::vector<float>{0, 1, 5, 6}));
    EXPECT_EQ(outs[1].dims(), (Dims{2, 3}));
    EXPECT_EQ(outs[1].to_f32(), (std::vector<float>{2, 3, 4, 7, 8, 9}));
}

TEST(Gather, NegativeAndMatrixIndicesOnInnerAxis) {
    const Tensor x = iota_f32({2, 4});
    const Tensor y =
        run_node("Gather", {x, tensor_i64({2, 2}, {-1, 0, 2, 2})}, 13, {attr_int("axis", 1)})[0];
    EXPECT_EQ(y.dims(), (Dims{2, 2, 2}));
    EXPECT_EQ(y.to_f32(), (std::vector<float>{3, 0, 2, 2, 7, 4, 6, 6}));
}

TEST(Gather, OutOfRangeIndexNamesTheNode) {
    try {
        run_node("Gather", {iota_f32({3}), tensor_i64({1}, {3})});
        FAIL() << "expected an error";
    } catch (const ModelError& e) {
        EXPECT_TRUE(test::contains(
            e.what(), "node 'n' (Gather): index 3 is out of range for axis 0 of size 3"));
    }
}

TEST(Transpose, LargeRandomPermutationMatchesOracle) {
    const Dims dims{3, 41, 5, 67};  // > one parallel chunk
    const Tensor x = iota_f32(dims);
    const std::vector<std::int64_t> perm{2, 0, 3, 1};
    const Tensor y = run_node("Transpose", {x}, 13, {attr_ints("perm", perm)})[0];
    const Dims out{5, 3, 67, 41};
    ASSERT_EQ(y.dims(), out);
    for (std::int64_t i = 0; i < y.numel(); ++i) {
        const auto idx = unravel(i, out);
        std::vector<std::int64_t> src(4);
        for (std::size_t k = 0; k < 4; ++k) {
            src[static_cast<std::size_t>(perm[k])] = idx[k];
        }
        ASSERT_EQ(y.get_f64(i), x.get_f64(ravel(src, dims))) << i;
    }
}

TEST(Tile, RepeatsEveryAxis) {
    const Dims dims{2, 3};
    const Tensor x = iota_f32(dims);
    const Tensor y = run_node("Tile", {x, tensor_i64({2}, {3, 2})})[0];
    const Dims out{6, 6};
    ASSERT_EQ(y.dims(), out);
    for (std::int64_t i = 0; i < y.numel(); ++i) {
        const auto idx = unravel(i, out);
        EXPECT_EQ(y.get_f64(i), x.get_f64(ravel({idx[0] % 2, idx[1] % 3}, dims)));
    }
}

TEST(Expand, BroadcastsBothWays) {
    // x [3,1] to shape [2,1,4]: the output is the broadcast of both, [2,3,4].
    const Tensor y = run_node("Expand", {iota_f32({3, 1}), tensor_i64({3}, {2, 1, 4})})[0];
    ASSERT_EQ(y.dims(), (Dims{2, 3, 4}));
    for (std::int64_t i = 0; i < y.numel(); ++i) {
        EXPECT_EQ(y.get_f64(i), (i / 4) % 3);
    }
}

TEST(Concat, AcceptsEmptyInputs) {
    const Tensor y = run_node("Concat", {iota_f32({2, 0}), iota_f32({2, 2}), iota_f32({2, 1})}, 13,
                              {attr_int("axis", 1)})[0];
    EXPECT_EQ(y.dims(), (Dims{2, 3}));
    EXPECT_EQ(y.to_f32(), (std::vector<float>{0, 1, 0, 2, 3, 1}));
}

TEST(Reshape, ZeroCopiesUnlessAllowzeroAndMinusOneIsInferred) {
    const Tensor x = iota_f32({2, 3, 4});
    EXPECT_EQ(run_node("Reshape", {x, tensor_i64({3}, {0, -1, 2})})[0].dims(), (Dims{2, 6, 2}));
    const Tensor empty = iota_f32({0, 3});
    EXPECT_EQ(
        run_node("Reshape", {empty, tensor_i64({2}, {3, 0})}, 14, {attr_int("allowzero", 1)})[0]
            .dims(),
        (Dims{3, 0}));
    try {
        run_node("Reshape", {x, tensor_i64({2}, {-1, -1})});
        FAIL() << "expected an error";
    } catch (const ModelError& e) {
        EXPECT_TRUE(test::contains(e.what(), "has more than one -1"));
    }
}

TEST(Squeeze, InputAxesAndDefaultAllOnes) {
    const Tensor x = iota_f32({1, 3, 1, 2});
    EXPECT_EQ(run_node("Squeeze", {x})[0].dims(), (Dims{3, 2}));
    EXPECT_EQ(run_node("Squeeze", {x, tensor_i64({1}, {-2})})[0].dims(), (Dims{1, 3, 2}));
    EXPECT_EQ(run_node("Unsqueeze", {iota_f32({3}), tensor_i64({2}, {-1, 0})})[0].dims(),
              (Dims{1, 3, 1}));
    EXPECT_EQ(run_node("Unsqueeze", {iota_f32({3})}, 11, {attr_ints("axes", {1})})[0].dims(),
              (Dims{3, 1}));
}

}  // namespace
}  // namespace aquant::engine
