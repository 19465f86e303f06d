#include "aquant/core/tensor.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

namespace aquant {
namespace {

TEST(Tensor, AllocatesZeroedAlignedStorage) {
    Tensor t(DType::kF32, {2, 3, 5});
    EXPECT_EQ(t.numel(), 30);
    EXPECT_EQ(t.size_bytes(), 120u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % 64, 0u);
    for (int i = 0; i < 30; ++i) EXPECT_EQ(t.data<float>()[i], 0.0f);
}

TEST(Tensor, Int4IsPackedTwoPerByteLowNibbleFirst) {
    Tensor t(DType::kI4, {5});
    EXPECT_EQ(t.size_bytes(), 3u);
    auto* b = t.data<std::uint8_t>();
    b[0] = 0x7F;  // element 0 = -1 (0xF), element 1 = 7
    b[1] = 0x08;  // element 2 = -8, element 3 = 0
    b[2] = 0x03;  // element 4 = 3
    EXPECT_EQ(t.get_f64(0), -1);
    EXPECT_EQ(t.get_f64(1), 7);
    EXPECT_EQ(t.get_f64(2), -8);
    EXPECT_EQ(t.get_f64(3), 0);
    EXPECT_EQ(t.get_f64(4), 3);
    Tensor u(DType::kU4, {2});
    u.data<std::uint8_t>()[0] = 0xF1;
    EXPECT_EQ(u.get_f64(0), 1);
    EXPECT_EQ(u.get_f64(1), 15);
}

TEST(Tensor, WrongTypeAccessThrows) {
    Tensor t(DType::kI8, {4});
    EXPECT_THROW(t.data<float>(), InternalError);
    EXPECT_NO_THROW(t.data<std::int8_t>());
}

TEST(Tensor, ReshapeSharesBufferCloneDoesNot) {
    Tensor t = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
    Tensor r = t.reshaped({4});
    r.data<float>()[0] = 9;
    EXPECT_EQ(t.data<float>()[0], 9);
    Tensor c = t.clone();
    c.data<float>()[1] = -1;
    EXPECT_EQ(t.data<float>()[1], 2);
    EXPECT_TRUE(t.same_as(t.reshaped({2, 2})));
    EXPECT_FALSE(t.same_as(c));
    EXPECT_THROW(t.reshaped({3}), InternalError);
}

TEST(Half, RoundTripsEveryHalfValue) {
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const auto hh = static_cast<std::uint16_t>(h);
        const float f = half_to_float(hh);
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f)))) << h;
            continue;
        }
        EXPECT_EQ(float_to_half(f), hh) << "half bits " << h;
    }
}

TEST(Half, RoundsHalfToEven) {
    // 1 + 2^-11 lies exactly between 1 and the next half (1 + 2^-10): ties go to even (1.0).
    EXPECT_EQ(half_to_float(float_to_half(1.0f + std::ldexp(1.0f, -11))), 1.0f);
    // 1 + 3*2^-11 lies between 1+2^-10 (odd mantissa) and 1+2^-9: goes up to even.
    EXPECT_EQ(half_to_float(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11))),
              1.0f + std::ldexp(1.0f, -9));
    EXPECT_EQ(half_to_float(float_to_half(65504.0f)), 65504.0f);
    EXPECT_TRUE(std::isinf(half_to_float(float_to_half(70000.0f))));
    // Smallest subnormal 2^-24 and a value just above half of it.
    EXPECT_EQ(half_to_float(float_to_half(std::ldexp(1.0f, -24))), std::ldexp(1.0f, -24));
    EXPECT_EQ(half_to_float(float_to_half(std::ldexp(1.0f, -25))), 0.0f);  // tie -> even (0)
    EXPECT_EQ(half_to_float(float_to_half(std::ldexp(1.5f, -25))), std::ldexp(1.0f, -24));
}

TEST(BFloat16, RoundsToNearestEven) {
    EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f)), 1.0f);
    const float tie = 1.0f + std::ldexp(1.0f, -8);  // halfway between 1 and 1+2^-7
    EXPECT_EQ(bf16_to_float(float_to_bf16(tie)), 1.0f);
    const float above = 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20);
    EXPECT_EQ(bf16_to_float(float_to_bf16(above)), 1.0f + std::ldexp(1.0f, -7));
}

TEST(DType, TableMatchesOnnxCodes) {
    EXPECT_EQ(dtype_name(DType::kI4), "int4");
    EXPECT_EQ(static_cast<int>(DType::kI4), 22);
    EXPECT_EQ(static_cast<int>(DType::kU4), 21);
    EXPECT_EQ(dtype_storage_bytes(DType::kU4, 7), 4u);
    EXPECT_EQ(dtype_storage_bytes(DType::kF16, 3), 6u);
    EXPECT_FALSE(dtype_from_code(99).has_value());
    EXPECT_EQ(dtype_from_name("float32"), DType::kF32);
    EXPECT_THROW(dtype_traits(static_cast<DType>(99)), ModelError);
}

}  // namespace
}  // namespace aquant
