#include "aquant/quant/int4_pack.h"

#include "aquant/core/error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aquant::quant {
namespace {

TEST(Int4Pack, FirstElementGoesInTheLowNibble) {
    const std::vector<std::int8_t> v = {1, 2, -1, 7, -8};
    std::vector<std::uint8_t> packed(3, 0xAA);
    pack_int4(v.data(), 5, packed.data());
    EXPECT_EQ(packed, (std::vector<std::uint8_t>{0x21, 0x7F, 0x08}));
    const std::vector<std::uint8_t> u = {15, 0, 9};
    std::vector<std::uint8_t> upacked(2, 0xAA);
    pack_uint4(u.data(), 3, upacked.data());
    EXPECT_EQ(upacked, (std::vector<std::uint8_t>{0x0F, 0x09}));
}

TEST(Int4Pack, RoundTripsOddSizes) {
    for (std::int64_t n : {1, 2, 3, 31, 32, 33, 32 * 9 + 17}) {
        std::vector<std::int8_t> v(static_cast<std::size_t>(n));
        std::vector<std::uint8_t> u(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) {
            v[static_cast<std::size_t>(i)] = static_cast<std::int8_t>((i * 5) % 16 - 8);
            u[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 7) % 16);
        }
        std::vector<std::uint8_t> packed(static_cast<std::size_t>(int4_packed_bytes(n)), 0xFF);
        pack_int4(v.data(), n, packed.data());
        if (n % 2) {
            EXPECT_EQ(packed.back() >> 4, 0) << "n=" << n;
        }
        std::vector<std::int8_t> v2(static_cast<std::size_t>(n));
        unpack_int4(packed.data(), n, v2.data());
        EXPECT_EQ(v2, v) << "int4 n=" << n;

        pack_uint4(u.data(), n, packed.data());
        std::vector<std::uint8_t> u2(static_cast<std::size_t>(n));
        unpack_uint4(packed.data(), n, u2.data());
        EXPECT_EQ(u2, u) << "uint4 n=" << n;
    }
}

TEST(Int4Pack, TensorsAgreeWithCoreNibbleReader) {
    const std::int64_t n = 32 * 9 + 17;
    std::vector<std::int8_t> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        v[static_cast<std::size_t>(i)] = static_cast<std::int8_t>((i * 3) % 16 - 8);
    const Tensor bytes = Tensor::from_vector<std::int8_t>({n}, v);
    const Tensor packed = pack_int4_tensor(bytes);
    ASSERT_EQ(packed.dtype(), DType::kI4);
    ASSERT_EQ(packed.size_bytes(), static_cast<std::size_t>((n + 1) / 2));
    for (std::int64_t i = 0; i < n; ++i)
        ASSERT_EQ(packed.get_f64(i), v[static_cast<std::size_t>(i)]) << i;
    EXPECT_TRUE(unpack_int4_tensor(packed).same_as(bytes));
}

TEST(Int4Pack, TensorPackingRejectsOutOfRangeValues) {
    const Tensor bytes = Tensor::from_vector<std::int8_t>({2, 2}, {1, 2, 8, 0});
    try {
        pack_int4_tensor(bytes);
        FAIL() << "expected DataError";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("element 2 of [2,2] is 8"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(pack_int4_tensor(Tensor::from_vector<std::uint8_t>({1}, {16})), DataError);
    EXPECT_THROW(unpack_int4_tensor(bytes), InternalError);
}

}  // namespace
}  // namespace aquant::quant
