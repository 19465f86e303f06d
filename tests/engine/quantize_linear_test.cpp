// QuantizeLinear / DequantizeLinear vs quantize_ref / dequantize_ref: per tensor, per axis and
// blocked (odd lengths, a last partial block), every supported integer type including packed
// INT4/UINT4, round half to even, saturation. Quantization must match exactly; dequantization
// is one float product per element, so it must match exactly too.
#include <gtest/gtest.h>

#include "../../src/engine/kernels/quant_layout.h"
#include "../../src/engine/reference/quantize_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

struct Layout {
    Dims x;
    std::int64_t axis, block;  // block 0: per axis when scale_dims is 1-D, per tensor when scalar
    Dims scale_dims;
};

const std::vector<Layout> kLayouts = {
    {{2, 3, 5}, 1, 0, {}},
    {{2, 3, 5}, 1, 0, {3}},
    {{4, 7}, 0, 0, {4}},
    {{4, 7}, -1, 0, {7}},
    {{3, 32 * 9 + 17}, 1, 32, {3, 10}},  // last block partial
    {{6, 5, 2}, 0, 4, {2, 5, 2}},
    {{1, 13}, 1, 13, {1, 1}},
};

std::vector<std::int64_t> tensor_ints(const Tensor& t) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(t.numel()));
    for (std::int64_t i = 0; i < t.numel(); ++i) v[static_cast<std::size_t>(i)] = quant_value(t, i);
    return v;
}

// A zero-point tensor of `type` holding `v` (packed for 4-bit types).
Tensor int_tensor(DType type, const Dims& dims, const std::vector<std::int64_t>& v) {
    Tensor t(type, dims);
    auto* raw = static_cast<std::uint8_t*>(t.raw());
    for (std::size_t i = 0; i < v.size(); ++i) {
        switch (type) {
            case DType::kU8: t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v[i]); break;
            case DType::kI8: t.data<std::int8_t>()[i] = static_cast<std::int8_t>(v[i]); break;
            case DType::kU16: t.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(v[i]); break;
            case DType::kI16: t.data<std::int16_t>()[i] = static_cast<std::int16_t>(v[i]); break;
            case DType::kI32: t.data<std::int32_t>()[i] = static_cast<std::int32_t>(v[i]); break;
            default: {  // 4-bit, low nibble first
                const auto nib = static_cast<std::uint8_t>(v[i] & 0x0F);
                raw[i / 2] = i % 2 == 0 ? static_cast<std::uint8_t>((raw[i / 2] & 0xF0) | nib)
                                        : static_cast<std::uint8_t>((raw[i / 2] & 0x0F) | (nib << 4));
            }
        }
    }
    return t;
}

TEST(QuantizeLinear, MatchesReferenceForEveryTypeAndLayout) {
    std::uint32_t seed = 3000;
    for (DType type : {DType::kU8, DType::kI8, DType::kU16, DType::kI16, DType::kI32, DType::kU4,
                       DType::kI4}) {
        std::int64_t lo, hi;
        ASSERT_TRUE(quant_range(type, &lo, &hi));
        for (const auto& l : kLayouts) {
            ++seed;
            const std::int64_t ns = dims_numel(l.scale_dims);
            const auto x = random_floats(static_cast<std::size_t>(dims_numel(l.x)), seed, -3, 3);
            // Scales small enough that some values saturate on the narrow types.
            const auto scale = random_floats(static_cast<std::size_t>(ns), seed + 1, 0.01f, 0.2f);
            std::vector<std::int64_t> zp(static_cast<std::size_t>(ns));
            for (std::size_t i = 0; i < zp.size(); ++i) {
                // int32 has no zero point in ONNX (it must be 0).
                zp[i] = type == DType::kI32 ? 0
                                            : lo + static_cast<std::int64_t>((i * 7 + 3) % 5) *
                                                       ((hi - lo) / 8) +
                                                  (hi - lo) / 4;
            }
            const auto want = ref::quantize_ref(x, l.x, scale, l.scale_dims, zp, l.axis < 0 ? l.axis + static_cast<std::int64_t>(l.x.size()) : l.axis, l.block, lo, hi);
            const Tensor q = NodeRunner("QuantizeLinear", 21)
                                 .input(f32(l.x, x))
                                 .input(f32(l.scale_dims, scale), true)
                                 .input(int_tensor(type, l.scale_dims, zp), true)
                                 .attr("axis", l.axis)
                                 .attr("block_size", l.block)
                                 .run1();
            const std::string what = std::string(dtype_name(type)) + " x " + dims_str(l.x) +
                                     " axis " + std::to_string(l.axis) + " block " +
                                     std::to_string(l.block) + " scale " +
                                     dims_str(l.scale_dims) + " seed " + std::to_string(seed);
            ASSERT_EQ(q.dtype(), type) << what;
            ASSERT_EQ(q.dims(), l.x) << what;
            const auto got = tensor_ints(q);
            EXPECT_EQ(got, want) << what;
            bool saturated = false;
            for (auto v : got) saturated |= v == lo || v == hi;
            if (type == DType::kI4 || type == DType::kU4) {
                EXPECT_TRUE(saturated) << what;
            }

            // Dequantize the reference integers back.
            const auto want_dq = ref::dequantize_ref(want, l.x, scale, l.scale_dims, zp, l.axis < 0 ? l.axis + static_cast<std::int64_t>(l.x.size()) : l.axis, l.block);
            const Tensor dq = NodeRunner("DequantizeLinear", 21)
                                  .input(int_tensor(type, l.x, want))
                                  .input(f32(l.scale_dims, scale), true)
                                  .input(int_tensor(type, l.scale_dims, zp), true)
                                  .attr("axis", l.axis)
                                  .attr("block_size", l.block)
                                  .run1();
            EXPECT_EQ(values(dq), want_dq) << what;
        }
    }
}

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturates) {
    // x / scale = -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 300, -300 with scale 1 and zero point 0.
    const std::vector<float> x{-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 300.0f, -300.0f};
    const Tensor q = NodeRunner("QuantizeLinear", 13)
                         .input(f32({8}, x))
                         .input(f32({}, {1.0f}), true)
                         .input(Tensor::scalar<std::int8_t>(0), true)
                         .run1();
    EXPECT_EQ(tensor_ints(q), (std::vector<std::int64_t>{-2, -2, 0, 0, 2, 2, 127, -128}));
    // No zero point: uint8 output.
    const Tensor u = NodeRunner("QuantizeLinear", 13)
                         .input(f32({3}, {-1.0f, 2.5f, 1000.0f}))
                         .input(f32({}, {0.5f}), true)
                         .run1();
    EXPECT_EQ(u.dtype(), DType::kU8);
    EXPECT_EQ(tensor_ints(u), (std::vector<std::int64_t>{0, 5, 255}));
}

TEST(QuantizeLinear, Int4PacksLowNibbleFirst) {
    const Tensor q = NodeRunner("QuantizeLinear", 21)
                         .input(f32({3}, {1.0f, -2.0f, 7.0f}))
                         .input(f32({}, {1.0f}), true)
                         .attr("output_dtype", std::int64_t{22})  // INT4
                         .run1();
    ASSERT_EQ(q.dtype(), DType::kI4);
    ASSERT_EQ(q.size_bytes(), 2u);
    const auto* bytes = static_cast<const std::uint8_t*>(q.raw());
    EXPECT_EQ(bytes[0], 0xE1);  // -2 = 0xE in the high nibble, 1 in the low one
    EXPECT_EQ(bytes[1] & 0x0F, 0x07);
}

TEST(DequantizeLinear, Int32WithPerAxisScale) {
    const Tensor y = NodeRunner("DequantizeLinear", 13)
                         .input(Tensor::from_vector<std::int32_t>({2, 2}, {100000, -3, 7, 0}))
                         .input(f32({2}, {0.5f, 0.25f}), true)
                         .attr("axis", std::int64_t{1})
                         .run1();
    EXPECT_EQ(values(y), (std::vector<float>{50000.0f, -0.75f, 3.5f, 0.0f}));
}

TEST(QuantizeLinear, RejectsMismatchedScale) {
    EXPECT_THROW(NodeRunner("QuantizeLinear", 13)
                     .input(f32({2, 3}, std::vector<float>(6)))
                     .input(f32({2}, {1.0f, 1.0f}), true)
                     .attr("axis", std::int64_t{1})
                     .run(),
                 ModelError);
}

}  // namespace
}  // namespace aquant::engine
