#include "aquant/quant/quantize.h"

#include "quant/quant_test_util.h"

#include "aquant/core/error.h"
#include "aquant/core/parallel.h"
#include "aquant/quant/int4_pack.h"
#include "aquant/quant/range.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>

namespace aquant::quant {
namespace {

using testing::describe;
using testing::make_scheme;

QuantParams per_tensor(float scale, std::int32_t zero_point, int bits, bool is_signed) {
    QuantParams p;
    p.scheme = make_scheme(bits, is_signed, zero_point == 0);
    p.scale = {scale};
    p.zero_point = {zero_point};
    return p;
}

struct LayoutCase {
    Dims dims;
    Granularity granularity;
    int axis;
    int block_size;
};

std::vector<LayoutCase> layout_cases() {
    return {
        {{32 * 9 + 17}, Granularity::kTensor, 0, 0}, {{1}, Granularity::kTensor, 0, 0},
        {{3, 5, 7}, Granularity::kTensor, 0, 0},     {{3, 5, 7}, Granularity::kChannel, 0, 0},
        {{3, 5, 7}, Granularity::kChannel, 1, 0},    {{3, 5, 7}, Granularity::kChannel, -1, 0},
        {{4, 33}, Granularity::kChannel, 1, 0},      {{17}, Granularity::kChannel, 0, 0},
        {{32 * 9 + 17}, Granularity::kBlock, 0, 32}, {{3, 37}, Granularity::kBlock, 1, 8},
        {{3, 37}, Granularity::kBlock, -1, 37},      {{10, 4, 3}, Granularity::kBlock, 0, 3},
        {{10, 4, 3}, Granularity::kBlock, 1, 1},     {{5, 9, 2}, Granularity::kBlock, 1, 4},
    };
}

// Random params for `s` on x of shape dims: scales in [0.01, 0.5] (some powers of two, so that
// exact ties occur), zero points anywhere in the code range for affine schemes.
QuantParams random_params(const QuantScheme& s, const Dims& dims, std::uint32_t seed) {
    std::mt19937 rng(seed);
    QuantParams p;
    p.scheme = s;
    p.scale_dims = scale_dims_for(s, dims);
    const auto groups = static_cast<std::size_t>(dims_numel(p.scale_dims));
    std::uniform_real_distribution<float> sd(0.01f, 0.5f);
    std::uniform_int_distribution<int> zd(q_min(s), q_max(s));
    for (std::size_t g = 0; g < groups; ++g) {
        p.scale.push_back(g % 3 == 0 ? std::ldexp(1.0f, -static_cast<int>(g % 5)) : sd(rng));
        p.zero_point.push_back(s.symmetric ? 0 : zd(rng));
    }
    return p;
}

// Values spread over about twice the grid (saturation on both sides), with exact half-step ties
// and a few specials.
std::vector<float> test_values(std::size_t n, float span, std::uint32_t seed) {
    auto x = testing::uniform(n, -span, span, seed);
    std::mt19937 rng(seed + 1);
    std::uniform_int_distribution<int> kd(-300, 300);
    for (std::size_t i = 0; i < n; i += 3)
        x[i] = (static_cast<float>(kd(rng)) + 0.5f) * 0.25f;
    if (n > 4) {
        x[1] = 0.0f;
        x[2] = -0.0f;
        x[4] = 1e30f;
    }
    return x;
}

std::vector<QuantScheme> all_schemes(const LayoutCase& c) {
    std::vector<QuantScheme> out;
    for (int bits = 1; bits <= 8; ++bits) {
        for (bool is_signed : {true, false}) {
            for (bool symmetric : {true, false}) {
                out.push_back(
                    make_scheme(bits, is_signed, symmetric, c.granularity, c.axis, c.block_size));
                if (is_signed && bits >= 2) {
                    out.back().narrow_range = symmetric;
                }
            }
        }
    }
    return out;
}

TEST(QuantizeLinear, OnnxNodeTestPerTensor) {
    // onnx/backend/test/data/node/test_quantizelinear: uint8, scale 2, zero point 128.
    const std::vector<float> x = {0.0f, 2.0f, 3.0f, 1000.0f, -254.0f, -1000.0f};
    const auto q = quantize(x, {6}, per_tensor(2.0f, 128, 8, false));
    EXPECT_EQ(q, (std::vector<std::int32_t>{128, 129, 130, 255, 1, 0}));
}

TEST(QuantizeLinear, OnnxNodeTestAxis) {
    // test_quantizelinear_axis: x [1,3,3,2], per-axis scales on the default axis 1.
    const std::vector<float> x = {-162, 10, -100, 232, -20,  -50,  -76,  0,    0,
                                  252,  32, -44,  245, -485, -960, -270, -375, -470};
    const QuantParams p =
        params_from_onnx({2, 4, 5}, {3}, {84, 24, 196}, {1, 3, 3, 2}, 1, 0, DType::kU8);
    EXPECT_EQ(p.scheme.granularity, Granularity::kChannel);
    const auto q = quantize(x, {1, 3, 3, 2}, p);
    EXPECT_EQ(q, (std::vector<std::int32_t>{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99,
                                            4, 142, 121, 102}));
    // test_dequantizelinear_axis is the inverse on these values.
    EXPECT_EQ(dequantize(q, {1, 3, 3, 2}, p), x);
}

TEST(QuantizeLinear, RoundsHalfToEven) {
    const std::vector<float> x = {2.5f, 3.5f, -2.5f, 0.5f, 1.5f, -0.5f, -1.5f, 4.5f, -3.5f};
    EXPECT_EQ(quantize(x, {9}, per_tensor(1.0f, 0, 8, true)),
              (std::vector<std::int32_t>{2, 4, -2, 0, 2, 0, -2, 4, -4}));
    // The zero point is added after rounding: round(2.5) + 3 = 5, not round(5.5) = 6.
    EXPECT_EQ(quantize(x, {9}, per_tensor(1.0f, 3, 8, true)),
              (std::vector<std::int32_t>{5, 7, 1, 3, 5, 3, 1, 7, -1}));
}

TEST(QuantizeLinear, RoundsHalfToEvenWhateverTheCallersRoundingMode) {
    const std::vector<float> x = {2.5f, -2.5f, 0.5f, 1.4f, -1.6f};
    const QuantParams p = per_tensor(1.0f, 0, 8, true);
    const std::vector<std::int32_t> want = {2, -2, 0, 1, -2};
    for (int mode : {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO}) {
        ASSERT_EQ(std::fesetround(mode), 0);
        std::vector<std::int32_t> ref(x.size());
        quantize_ref(x.data(), {5}, p, ref.data());
        const auto fast = quantize(x, {5}, p);
        const auto fq = fake_quantize(x, {5}, p);
        EXPECT_EQ(std::fegetround(), mode) << "the caller's mode must be restored";
        std::fesetround(FE_TONEAREST);
        EXPECT_EQ(ref, want) << "mode " << mode;
        EXPECT_EQ(fast, want) << "mode " << mode;
        EXPECT_EQ(fq, (std::vector<float>{2, -2, 0, 1, -2})) << "mode " << mode;
    }
}

TEST(QuantizeLinear, DividesByTheScaleInsteadOfMultiplyingByItsInverse) {
    // ONNX Runtime computes x / scale; x * (1 / scale) rounds differently for some pairs. Find
    // such pairs and check we follow the division.
    int found = 0;
    for (float scale : {0.1f, 0.3f, 0.7f, 0.0123f, 1.0f / 3.0f, 0.017f}) {
        const float inv = 1.0f / scale;
        for (int k = -120; k <= 120; ++k) {
            for (int nudge : {-1, 0, 1}) {
                float x = (static_cast<float>(k) + 0.5f) * scale;
                if (nudge != 0)
                    x = std::nextafter(x, nudge * 1e9f);
                const float by_div = std::nearbyint(x / scale);
                const float by_mul = std::nearbyint(x * inv);
                if (by_div == by_mul || std::fabs(by_div) > 127)
                    continue;
                ++found;
                const auto q = quantize(std::vector<float>{x}, {1}, per_tensor(scale, 0, 8, true));
                EXPECT_EQ(q[0], static_cast<std::int32_t>(by_div))
                    << "x=" << x << " scale=" << scale << " x*(1/scale) rounds to " << by_mul;
            }
        }
    }
    EXPECT_GT(found, 0) << "no pair where division and reciprocal multiplication differ";
}

TEST(QuantizeLinear, SaturatesToTheSchemeRange) {
    const std::vector<float> x = {-1e6f,
                                  -9.0f,
                                  -8.6f,
                                  -4.5f,
                                  3.5f,
                                  7.4f,
                                  7.6f,
                                  300.0f,
                                  1e6f,
                                  std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity()};

    struct Case {
        int bits;
        bool is_signed;
        bool narrow;
        int lo, hi;
    };

    for (const Case& c : {Case{8, true, false, -128, 127}, Case{8, false, false, 0, 255},
                          Case{4, true, false, -8, 7}, Case{4, false, false, 0, 15},
                          Case{3, true, false, -4, 3}, Case{2, true, true, -1, 1},
                          Case{8, true, true, -127, 127}, Case{1, false, false, 0, 1}}) {
        QuantParams p = per_tensor(1.0f, 0, c.bits, c.is_signed);
        p.scheme.narrow_range = c.narrow;
        const auto q = quantize(x, {static_cast<std::int64_t>(x.size())}, p);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double want = std::clamp<double>(std::nearbyint(x[i]), c.lo, c.hi);
            EXPECT_EQ(q[i], want) << scheme_str(p.scheme) << " x=" << x[i];
        }
        EXPECT_EQ(q.front(), c.lo);
        EXPECT_EQ(q[8], c.hi);
    }
}

TEST(QuantizeLinear, NanGivesQMin) {
    const std::vector<float> x = {std::numeric_limits<float>::quiet_NaN()};
    EXPECT_EQ(quantize(x, {1}, per_tensor(0.5f, 10, 8, false))[0], 0);
    EXPECT_EQ(quantize(x, {1}, per_tensor(0.5f, 0, 4, true))[0], -8);
    std::vector<std::int32_t> ref(1);
    quantize_ref(x.data(), {1}, per_tensor(0.5f, 0, 4, true), ref.data());
    EXPECT_EQ(ref[0], -8);
}

TEST(QuantizeLinear, ParameterIndexFollowsOnnxLayout) {
    // x[o, d, j] uses scale[d] per channel and scale[o, d / block, j] per block (row-major).
    // Each x is code * its scale, with distinct power-of-two scales, so a wrong group shows.
    const Dims dims = {2, 10, 3};
    for (auto g : {Granularity::kChannel, Granularity::kBlock}) {
        QuantScheme s = make_scheme(8, true, true, g, 1, 4);
        QuantParams p;
        p.scheme = s;
        p.scale_dims = scale_dims_for(s, dims);
        const Dims want_dims = g == Granularity::kChannel ? Dims{10} : Dims{2, 3, 3};
        EXPECT_EQ(p.scale_dims, want_dims);
        const auto groups = static_cast<std::size_t>(dims_numel(p.scale_dims));
        for (std::size_t k = 0; k < groups; ++k)
            p.scale.push_back(std::ldexp(1.0f, int(k % 13) - 6));
        p.zero_point.assign(groups, 0);
        std::vector<float> x(60);
        std::vector<std::int32_t> want(60);
        for (int o = 0; o < 2; ++o) {
            for (int d = 0; d < 10; ++d) {
                for (int j = 0; j < 3; ++j) {
                    const int i = (o * 10 + d) * 3 + j;
                    const int group = g == Granularity::kChannel ? d : (o * 3 + d / 4) * 3 + j;
                    want[i] = (i * 7) % 200 - 100;
                    x[i] = static_cast<float>(want[i]) * p.scale[group];
                }
            }
        }
        EXPECT_EQ(quantize(x, dims, p), want) << scheme_str(s);
        std::vector<std::int32_t> ref(60);
        quantize_ref(x.data(), dims, p, ref.data());
        EXPECT_EQ(ref, want) << scheme_str(s);
    }
}

TEST(QuantizeLinear, FastPathEqualsRefExactly) {
    std::uint32_t seed = 100;
    for (const LayoutCase& c : layout_cases()) {
        for (const QuantScheme& s : all_schemes(c)) {
            ++seed;
            const QuantParams p = random_params(s, c.dims, seed);
            const auto n = static_cast<std::size_t>(dims_numel(c.dims));
            const auto x = test_values(n, 0.6f * static_cast<float>(1 << s.bits) * 0.25f, seed);
            std::vector<std::int32_t> q_ref(n);
            quantize_ref(x.data(), c.dims, p, q_ref.data());
            const auto q = quantize(x, c.dims, p);
            ASSERT_EQ(q, q_ref) << describe(s, c.dims, seed);
            if (q_min(s) >= -128 && q_max(s) <= 127) {
                std::vector<std::int8_t> q8(n);
                quantize(x.data(), c.dims, p, q8.data());
                for (std::size_t i = 0; i < n; ++i)
                    ASSERT_EQ(q8[i], q_ref[i]) << describe(s, c.dims, seed);
            }
            std::vector<float> y_ref(n);
            std::vector<float> y(n);
            dequantize_ref(q_ref.data(), c.dims, p, y_ref.data());
            dequantize(q_ref.data(), c.dims, p, y.data());
            ASSERT_EQ(std::memcmp(y.data(), y_ref.data(), n * sizeof(float)), 0)
                << describe(s, c.dims, seed);
            std::vector<float> f_ref(n);
            std::vector<float> f(n);
            fake_quantize_ref(x.data(), c.dims, p, f_ref.data());
            fake_quantize(x.data(), c.dims, p, f.data());
            ASSERT_EQ(std::memcmp(f.data(), f_ref.data(), n * sizeof(float)), 0)
                << describe(s, c.dims, seed);
            ASSERT_EQ(std::memcmp(f.data(), y_ref.data(), n * sizeof(float)), 0)
                << "fake_quantize != dequantize(quantize) " << describe(s, c.dims, seed);
        }
    }
}

TEST(QuantizeLinear, FastPathIsThreadCountIndependentOnLargeTensors) {
    const Dims dims = {96, 1031};  // 98976 elements: several parallel chunks
    const auto x = testing::gaussian(static_cast<std::size_t>(dims_numel(dims)), 1.0f, 5);
    const int saved = num_threads();
    for (const LayoutCase& c : {LayoutCase{dims, Granularity::kTensor, 0, 0},
                                LayoutCase{dims, Granularity::kChannel, 0, 0},
                                LayoutCase{dims, Granularity::kChannel, 1, 0},
                                LayoutCase{dims, Granularity::kBlock, 1, 32},
                                LayoutCase{dims, Granularity::kBlock, 0, 16}}) {
        const QuantScheme s = make_scheme(4, true, false, c.granularity, c.axis, c.block_size);
        const QuantParams p = random_params(s, dims, 9);
        std::vector<std::int32_t> ref(x.size());
        quantize_ref(x.data(), dims, p, ref.data());
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            EXPECT_EQ(quantize(x, dims, p), ref) << describe(s, dims, 9) << " threads=" << threads;
        }
    }
    set_num_threads(saved);
}

TEST(QuantizeLinear, RequantizingDequantizedCodesIsIdentity) {
    std::uint32_t seed = 7000;
    for (const LayoutCase& c : layout_cases()) {
        for (const QuantScheme& s : all_schemes(c)) {
            ++seed;
            const QuantParams p = random_params(s, c.dims, seed);
            const auto n = static_cast<std::size_t>(dims_numel(c.dims));
            const auto x = test_values(n, 0.3f * static_cast<float>(1 << s.bits), seed);
            const auto q = quantize(x, c.dims, p);
            const auto q2 = quantize(dequantize(q, c.dims, p), c.dims, p);
            ASSERT_EQ(q2, q) << describe(s, c.dims, seed);
        }
    }
}

TEST(QuantizeLinear, PackedInt4TensorsRoundTripInNibbleOrder) {
    std::uint32_t seed = 300;
    for (const LayoutCase& c : layout_cases()) {
        for (int bits : {2, 3, 4}) {
            for (bool is_signed : {true, false}) {
                ++seed;
                const QuantScheme s =
                    make_scheme(bits, is_signed, !is_signed, c.granularity, c.axis, c.block_size);
                const QuantParams p = random_params(s, c.dims, seed);
                const auto n = static_cast<std::size_t>(dims_numel(c.dims));
                const Tensor x = Tensor::from_vector(c.dims, test_values(n, 2.0f, seed));
                const Tensor q = quantize(x, p);
                ASSERT_EQ(q.dtype(), is_signed ? DType::kI4 : DType::kU4);
                ASSERT_EQ(q.size_bytes(), (n + 1) / 2);
                const auto codes = quantize(x.to_f32(), c.dims, p);
                // Tensor::get_f64 (core) reads nibbles independently of int4_pack.
                for (std::size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(q.get_f64(static_cast<std::int64_t>(i)), codes[i])
                        << describe(s, c.dims, seed) << " i=" << i;
                }
                if (n % 2) {
                    EXPECT_EQ(static_cast<const std::uint8_t*>(q.raw())[n / 2] >> 4, 0)
                        << "high nibble of the last byte " << describe(s, c.dims, seed);
                }
                const Tensor y = dequantize(q, p);
                const Tensor q2 = quantize(y, p);
                ASSERT_TRUE(q2.same_as(q)) << describe(s, c.dims, seed);
                const Tensor q8 = quantize(x, p, is_signed ? DType::kI8 : DType::kU8);
                ASSERT_TRUE(unpack_int4_tensor(q).same_as(q8)) << describe(s, c.dims, seed);
            }
        }
    }
}

TEST(QuantizeLinear, ZeroIsExactForAffineParams) {
    for (int bits = 1; bits <= 8; ++bits) {
        for (bool is_signed : {true, false}) {
            QuantParams p;
            p.scheme = make_scheme(bits, is_signed, false);
            p.scale = {0.0371f};
            for (int z = q_min(p.scheme); z <= q_max(p.scheme); ++z) {
                p.zero_point = {z};
                const auto q = quantize(std::vector<float>{0.0f, -0.0f}, {2}, p);
                EXPECT_EQ(q, (std::vector<std::int32_t>{z, z})) << scheme_str(p.scheme);
                const auto y = dequantize(q, {2}, p);
                EXPECT_EQ(y[0], 0.0f);
            }
        }
    }
}

TEST(QuantizeLinear, TensorOutputTypesMustHoldTheCodes) {
    const Tensor x = Tensor::from_vector<float>({2}, {1.0f, -1.0f});
    QuantParams p = per_tensor(0.1f, 0, 8, true);
    EXPECT_THROW(quantize(x, p, DType::kU8), InternalError);
    EXPECT_THROW(quantize(x, p, DType::kI4), InternalError);
    EXPECT_EQ(quantize(x, p, DType::kI32).get_f64(0), 10);
    p.scheme.bits = 4;
    EXPECT_EQ(quantize(x, p, DType::kI8).get_f64(1), -8);
}

TEST(QuantizeLinear, BadParamsThrowWithTheMismatch) {
    QuantParams p = per_tensor(0.5f, 0, 8, true);
    p.scheme.granularity = Granularity::kChannel;
    p.scheme.axis = 1;
    p.scale_dims = {3};
    p.scale = {1, 1, 1};
    p.zero_point = {0, 0, 0};
    std::vector<float> x(8);
    std::vector<std::int32_t> q(8);
    try {
        quantize(x.data(), {2, 4}, p, q.data());
        FAIL() << "expected InternalError";
    } catch (const InternalError& e) {
        EXPECT_NE(std::string(e.what()).find("scale dims [3], expected [4] for x [2,4]"),
                  std::string::npos)
            << e.what();
    }
    p.scale_dims = {4};
    p.scale = {1, 1, 0, 1};
    p.zero_point = {0, 0, 0, 0};
    EXPECT_THROW(quantize(x.data(), {2, 4}, p, q.data()), InternalError);
}

TEST(QuantizeLinear, EmptyTensors) {
    for (const Dims& dims : {Dims{0}, Dims{3, 0}, Dims{0, 4}}) {
        for (auto g : {Granularity::kTensor, Granularity::kChannel, Granularity::kBlock}) {
            const QuantScheme s = make_scheme(4, true, false, g, 1 % int(dims.size()), 2);
            const QuantParams p = estimate_params(nullptr, dims, s, range_estimator("mmse"));
            EXPECT_FALSE(params_mismatch(p, dims).has_value()) << describe(s, dims, 0);
            EXPECT_TRUE(quantize(std::vector<float>{}, dims, p).empty());
            const Tensor q = quantize(Tensor(DType::kF32, dims), p);
            EXPECT_EQ(q.numel(), 0);
            EXPECT_EQ(dequantize(q, p).numel(), 0);
        }
    }
}

TEST(ParamTensors, RoundTripThroughParamsFromOnnx) {
    const Dims dims = {3, 10};
    for (DType storage : {DType::kI4, DType::kU4, DType::kI8, DType::kU8}) {
        const bool is_signed = storage == DType::kI4 || storage == DType::kI8;
        const int bits = dtype_is_4bit(storage) ? 4 : 8;
        const QuantScheme s = make_scheme(bits, is_signed, false, Granularity::kBlock, 1, 4);
        const QuantParams p = random_params(s, dims, 77);
        const Tensor scale = scale_tensor(p);
        const Tensor zp = zero_point_tensor(p);
        EXPECT_EQ(zp.dtype(), storage);
        EXPECT_EQ(zp.dims(), (Dims{3, 3}));
        std::vector<std::int32_t> z;
        for (double v : zp.to_f64())
            z.push_back(static_cast<std::int32_t>(v));
        EXPECT_EQ(z, p.zero_point) << dtype_name(storage);
        const QuantParams back =
            params_from_onnx(scale.to_f32(), scale.dims(), z, dims, 1, 4, storage);
        EXPECT_EQ(back.scale, p.scale);
        EXPECT_EQ(back.zero_point, p.zero_point);
        EXPECT_EQ(back.scheme, s);
    }
    QuantParams wide = per_tensor(1.0f, 200, 8, false);
    EXPECT_THROW(zero_point_tensor(wide, DType::kI8), InternalError);
}

TEST(ParamsFromOnnx, InfersGranularityFromTheScaleShape) {
    const QuantParams t = params_from_onnx({0.5f}, {1}, {3}, {4, 6}, 1, 0, DType::kU8);
    EXPECT_EQ(t.scheme.granularity, Granularity::kTensor);
    EXPECT_TRUE(t.scale_dims.empty());
    EXPECT_FALSE(t.scheme.symmetric);
    const QuantParams c = params_from_onnx({1, 2, 3, 4}, {4}, {}, {3, 4}, -1, 0, DType::kI4);
    EXPECT_EQ(c.scheme.granularity, Granularity::kChannel);
    EXPECT_EQ(c.scheme.bits, 4);
    EXPECT_TRUE(c.scheme.symmetric);
    const QuantParams b =
        params_from_onnx(std::vector<float>(6, 1.0f), {3, 2}, {}, {3, 5}, 1, 3, DType::kI8);
    EXPECT_EQ(b.scheme.granularity, Granularity::kBlock);
    EXPECT_EQ(b.scheme.block_size, 3);
    try {
        params_from_onnx({1, 2, 3}, {3}, {}, {3, 4}, 1, 0, DType::kI8);
        FAIL() << "expected ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("expected [4]"), std::string::npos) << e.what();
    }
    EXPECT_THROW(params_from_onnx({1}, {}, {300}, {3}, 1, 0, DType::kU8), ModelError);
    EXPECT_THROW(params_from_onnx({1}, {}, {0}, {3}, 1, 0, DType::kF32), ModelError);
}

}  // namespace
}  // namespace aquant::quant
