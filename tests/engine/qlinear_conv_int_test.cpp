// QLinearConv and ConvInteger (src/engine/kernels/qconv*.cpp) against the scalar oracle
// src/engine/reference/conv_int_ref.h, exactly: 1-D, 2-D and 3-D, groups, depthwise (with a
// channel multiplier), pointwise, strides, dilations, asymmetric pads, sizes 1 and primes, a
// reduction of 32 * 9 + 17, column blocks spanning images; uint8 / int8 activations, weights
// and outputs; per-tensor and per-channel weight scales and zero points; with and without bias;
// constant (prepacked) and run-time weights; INT4-range weights (unpacked to int8).
#include <gtest/gtest.h>

#include <cmath>

#include "../../src/engine/reference/conv_int_ref.h"
#include "aquant/core/error.h"
#include "aquant/core/parallel.h"
#include "int_test_util.h"

namespace aquant::engine {
namespace {

using inttest::elements;
using inttest::random_ints;
using inttest::Runner;
using inttest::same_ints;
using inttest::tensor;

struct ConvCase {
    Dims x, w;
    std::int64_t group;
    std::vector<std::int64_t> strides, dilations, pads;  // pads: begins then ends
};

const ConvCase kCases[] = {
    {{1, 3, 17}, {5, 3, 3}, 1, {1}, {1}, {1, 1}},                            // 1-D
    {{2, 3, 9, 9}, {8, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}},           // 3x3 same
    {{1, 5, 13, 11}, {7, 5, 3, 2}, 1, {2, 1}, {1, 2}, {1, 0, 0, 1}},         // strides, dilation
    {{2, 16, 7, 7}, {12, 16, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},        // pointwise
    {{1, 32 * 9 + 17, 5, 5}, {19, 32 * 9 + 17, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},
    {{1, 8, 10, 10}, {12, 4, 3, 3}, 2, {1, 1}, {1, 1}, {1, 1, 1, 1}},        // groups
    {{2, 6, 11, 11}, {6, 1, 3, 3}, 6, {2, 2}, {1, 1}, {1, 1, 1, 1}},         // depthwise
    {{1, 4, 9, 9}, {8, 1, 5, 5}, 4, {1, 1}, {1, 1}, {2, 2, 2, 2}},           // depthwise x2
    {{1, 3, 7, 8}, {6, 1, 3, 3}, 3, {1, 2}, {2, 1}, {0, 1, 2, 1}},           // depthwise, odd
    {{1, 2, 5, 6, 7}, {4, 2, 3, 3, 3}, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}},  // 3-D
    {{1, 1, 1, 1}, {1, 1, 1, 1}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}},           // size 1
    {{1, 35, 6, 6}, {17, 35, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}},        // K = 315
    {{3, 8, 5, 5}, {16, 8, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}},          // one block, 3 images
    {{5, 4, 9, 9}, {6, 4, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}},           // blocks cross images
    {{1, 3, 13, 13}, {5, 3, 2, 2}, 1, {3, 3}, {1, 1}, {0, 0, 1, 1}},         // stride > kernel
};

ref::WindowParams window(const ConvCase& c) {
    ref::WindowParams p;
    const std::size_t r = c.x.size() - 2;
    p.strides = c.strides;
    p.dilations = c.dilations;
    p.pads_begin.assign(c.pads.begin(), c.pads.begin() + static_cast<std::ptrdiff_t>(r));
    p.pads_end.assign(c.pads.begin() + static_cast<std::ptrdiff_t>(r), c.pads.end());
    p.group = c.group;
    return p;
}

template <typename T>
std::pair<int, int> range_of() {
    return std::is_same_v<T, std::uint8_t> ? std::make_pair(0, 255) : std::make_pair(-128, 127);
}

struct Variant {
    bool per_channel, bias, const_w;
    int w_lo = 0, w_hi = 0;  // weight value range; 0, 0: the type's range
};

std::string describe(const ConvCase& c, const Variant& v, std::uint32_t seed) {
    return "x " + dims_str(c.x) + " w " + dims_str(c.w) + " group " + std::to_string(c.group) +
           (v.per_channel ? " per-channel" : " per-tensor") + (v.bias ? " bias" : "") +
           (v.const_w ? " const-w" : " runtime-w") + " seed " + std::to_string(seed);
}

template <typename X, typename W, typename Y>
::testing::AssertionResult check_qlinear(const ConvCase& c, const Variant& v, std::uint32_t seed) {
    const auto [xlo, xhi] = range_of<X>();
    const bool narrow = v.w_lo != v.w_hi;
    const int wlo = narrow ? v.w_lo : range_of<W>().first;
    const int whi = narrow ? v.w_hi : range_of<W>().second;
    const auto [ylo, yhi] = range_of<Y>();
    const std::int64_t m = c.w[0];
    const std::int64_t depth = dims_numel(c.w) / m;
    const auto x = random_ints<X>(static_cast<std::size_t>(dims_numel(c.x)), seed, xlo, xhi);
    const auto w = random_ints<W>(static_cast<std::size_t>(dims_numel(c.w)), seed + 1, wlo, whi);
    const auto x_zp = random_ints<X>(1, seed + 2, xlo, xhi)[0];
    const std::size_t nch = v.per_channel ? static_cast<std::size_t>(m) : 1;
    const auto w_zp = narrow ? std::vector<W>(nch, W{0})
                                       : random_ints<W>(nch, seed + 3, wlo, whi);
    const auto y_zp = random_ints<Y>(1, seed + 4, ylo, yhi)[0];
    const float x_scale = 0.02f;
    std::vector<float> w_scale;
    for (std::size_t i = 0; i < nch; ++i) w_scale.push_back(0.004f * (1.0f + 0.25f * (i % 4)));
    // About 40 output steps per standard deviation of the accumulator (~75^2 * sqrt(depth)).
    const float y_scale = static_cast<float>(x_scale * 0.005 * 75.0 * 75.0 *
                                             std::sqrt(static_cast<double>(depth)) / 40.0);
    const auto bias = random_ints<std::int32_t>(static_cast<std::size_t>(m), seed + 5, -30000, 30000);

    std::vector<std::int32_t> w_zp32(w_zp.begin(), w_zp.end());
    ref::IntMulParams<std::int32_t> params;
    if (v.bias) params.bias = bias;
    for (float ws : w_scale) params.multiplier.push_back(ref::requant_multiplier(x_scale, ws, y_scale));
    params.dst_zero_point = y_zp;
    ref::Shape ys;
    const auto want = ref::conv_int_ref<X, W, std::int32_t, Y>(x, c.x, x_zp, w, c.w, w_zp32,
                                                                window(c), params, &ys);
    const Dims ch_dims = v.per_channel ? Dims{m} : Dims{};
    Runner r("QLinearConv");
    r.input(tensor(c.x, x))
        .input(Tensor::scalar(x_scale))
        .input(Tensor::scalar(x_zp))
        .input(tensor(c.w, w), v.const_w)
        .input(tensor(ch_dims, w_scale), v.const_w)
        .input(tensor(ch_dims, w_zp), v.const_w)
        .input(Tensor::scalar(y_scale))
        .input(Tensor::scalar(y_zp));
    if (v.bias) r.input(tensor({m}, bias), v.const_w);
    r.attr_int("group", c.group).attr_ints("strides", c.strides).attr_ints("dilations", c.dilations);
    r.attr_ints("pads", c.pads);
    const Tensor y = r.run1();
    if (y.dims() != Dims(ys)) {
        return ::testing::AssertionFailure() << describe(c, v, seed) << ": dims " << dims_str(y.dims())
                                             << ", expected " << dims_str(Dims(ys));
    }
    return same_ints(elements<Y>(y), want, describe(c, v, seed));
}

TEST(QLinearConvInt, MatchesReferenceOverShapesTypesAndGranularities) {
    std::uint32_t seed = 1000;
    for (const ConvCase& c : kCases) {
        for (int k = 0; k < 8; ++k) {
            const Variant v{(k & 1) != 0, (k & 2) != 0, (k & 4) != 0};
            seed += 10;
            EXPECT_TRUE((check_qlinear<std::uint8_t, std::int8_t, std::uint8_t>(c, v, seed)));
            EXPECT_TRUE((check_qlinear<std::int8_t, std::int8_t, std::int8_t>(c, v, seed)));
            if (k % 3 == 0) {
                EXPECT_TRUE((check_qlinear<std::uint8_t, std::uint8_t, std::int8_t>(c, v, seed)));
                EXPECT_TRUE((check_qlinear<std::int8_t, std::uint8_t, std::uint8_t>(c, v, seed)));
            }
        }
    }
}

TEST(QLinearConvInt, Int4RangeWeightsPerChannel) {
    // INT4 codes reach the kernel unpacked to int8 in [-8, 7] with zero point 0.
    std::uint32_t seed = 5000;
    for (const ConvCase& c : kCases) {
        const Variant v{true, true, true, -8, 7};
        seed += 10;
        EXPECT_TRUE((check_qlinear<std::uint8_t, std::int8_t, std::uint8_t>(c, v, seed)));
        EXPECT_TRUE((check_qlinear<std::int8_t, std::int8_t, std::int8_t>(c, v, seed)));
    }
}

TEST(QLinearConvInt, TiesRoundHalfToEven) {
    // 1x1 conv with w = 1, x_scale = 1, w_scale = 0.5, y_scale = 1: y = rne((x - 10) / 2) + 100.
    const std::vector<std::uint8_t> x{11, 13, 9, 15, 17, 10};
    const Tensor y = Runner("QLinearConv")
                         .input(tensor<std::uint8_t>({1, 1, 1, 6}, x))
                         .input(Tensor::scalar(1.0f))
                         .input(Tensor::scalar<std::uint8_t>(10))
                         .input(tensor<std::int8_t>({1, 1, 1, 1}, {1}), true)
                         .input(Tensor::scalar(0.5f))
                         .input(Tensor::scalar<std::int8_t>(0))
                         .input(Tensor::scalar(1.0f))
                         .input(Tensor::scalar<std::uint8_t>(100))
                         .run1();
    // (x - 10) / 2 = 0.5, 1.5, -0.5, 2.5, 3.5, 0  ->  0, 2, 0, 2, 4, 0
    EXPECT_EQ(elements<std::uint8_t>(y), (std::vector<std::uint8_t>{100, 102, 100, 102, 104, 100}));
}

TEST(QLinearConvInt, ResultsDoNotDependOnThreadCount) {
    const ConvCase c{{2, 16, 20, 20}, {32, 16, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}};
    const auto x = random_ints<std::uint8_t>(static_cast<std::size_t>(dims_numel(c.x)), 1, 0, 255);
    const auto w = random_ints<std::int8_t>(static_cast<std::size_t>(dims_numel(c.w)), 2, -127, 127);
    auto run = [&] {
        return Runner("QLinearConv")
            .input(tensor(c.x, x))
            .input(Tensor::scalar(0.02f))
            .input(Tensor::scalar<std::uint8_t>(128))
            .input(tensor(c.w, w), true)
            .input(Tensor::scalar(0.003f))
            .input(Tensor::scalar<std::int8_t>(0))
            .input(Tensor::scalar(0.5f))
            .input(Tensor::scalar<std::uint8_t>(120))
            .attr_ints("pads", c.pads)
            .run1();
    };
    const int threads = num_threads();
    set_num_threads(1);
    const Tensor a = run();
    set_num_threads(4);
    const Tensor b = run();
    set_num_threads(threads);
    EXPECT_TRUE(a.same_as(b));
}

template <typename X, typename W>
::testing::AssertionResult check_integer(const ConvCase& c, bool per_channel, bool with_zp,
                                         std::uint32_t seed) {
    const auto [xlo, xhi] = range_of<X>();
    const auto [wlo, whi] = range_of<W>();
    const std::int64_t m = c.w[0];
    const auto x = random_ints<X>(static_cast<std::size_t>(dims_numel(c.x)), seed, xlo, xhi);
    const auto w = random_ints<W>(static_cast<std::size_t>(dims_numel(c.w)), seed + 1, wlo, whi);
    const X x_zp = with_zp ? random_ints<X>(1, seed + 2, xlo, xhi)[0] : X{0};
    const std::size_t nch = per_channel ? static_cast<std::size_t>(m) : 1;
    const auto w_zp = with_zp ? random_ints<W>(nch, seed + 3, wlo, whi) : std::vector<W>(nch, 0);
    ref::Shape ys;
    const auto want = ref::conv_int_ref<X, W, std::int32_t, std::int32_t>(
        x, c.x, x_zp, w, c.w, std::vector<std::int32_t>(w_zp.begin(), w_zp.end()), window(c),
        ref::IntMulParams<std::int32_t>{}, &ys);
    Runner r("ConvInteger");
    r.input(tensor(c.x, x)).input(tensor(c.w, w), per_channel);
    if (with_zp) {
        r.input(Tensor::scalar(x_zp)).input(tensor(per_channel ? Dims{m} : Dims{}, w_zp));
    }
    r.attr_int("group", c.group).attr_ints("strides", c.strides).attr_ints("dilations", c.dilations);
    r.attr_ints("pads", c.pads);
    const Tensor y = r.run1();
    if (y.dtype() != DType::kI32) return ::testing::AssertionFailure() << "output is not int32";
    return same_ints(elements<std::int32_t>(y), want,
                     describe(c, Variant{per_channel, false, per_channel}, seed));
}

TEST(ConvIntegerInt, MatchesReference) {
    std::uint32_t seed = 9000;
    for (const ConvCase& c : kCases) {
        seed += 10;
        EXPECT_TRUE((check_integer<std::uint8_t, std::uint8_t>(c, true, true, seed)));
        EXPECT_TRUE((check_integer<std::int8_t, std::int8_t>(c, false, true, seed)));
        EXPECT_TRUE((check_integer<std::uint8_t, std::int8_t>(c, false, false, seed)));
    }
}

TEST(QLinearConvInt, ErrorsNameTheInput) {
    auto base = [] {
        Runner r("QLinearConv");
        r.input(tensor<std::uint8_t>({1, 2, 3, 3}, std::vector<std::uint8_t>(18, 1)))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::uint8_t>(0))
            .input(tensor<std::int8_t>({8, 2, 1, 1}, std::vector<std::int8_t>(16, 1)), true);
        return r;
    };
    try {
        base()
            .input(tensor<float>({3}, {0.1f, 0.1f, 0.1f}))
            .input(Tensor::scalar<std::int8_t>(0))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::uint8_t>(0))
            .run1();
        ADD_FAILURE() << "expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("node 'n0' (QLinearConv)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("input 4 (w_scale): expected 1 or 8 values (1-D), got [3]"),
                  std::string::npos)
            << e.what();
    }
    try {
        base()
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::int8_t>(0))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::uint8_t>(0))
            .input(tensor<float>({8}, std::vector<float>(8, 0.0f)))
            .run1();
        ADD_FAILURE() << "expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("input 8 (B): expected 8 int32 values, got float[8]"),
                  std::string::npos)
            << e.what();
    }
    try {
        base()
            .input(Tensor::scalar(0.0f))
            .input(Tensor::scalar<std::int8_t>(0))
            .input(Tensor::scalar(0.1f))
            .input(Tensor::scalar<std::uint8_t>(0))
            .run1();
        ADD_FAILURE() << "expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("input 4 (w_scale): expected positive finite scales"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace aquant::engine
