#include "aquant/quant/scheme.h"

#include "quant/quant_test_util.h"

#include "aquant/core/error.h"

#include <gtest/gtest.h>

#include <string>

namespace aquant::quant {
namespace {

using testing::make_scheme;

TEST(Scheme, CodeRangesAndStoragePerBitWidth) {
    for (int bits = 1; bits <= 8; ++bits) {
        const QuantScheme s = make_scheme(bits, true, true);
        const QuantScheme u = make_scheme(bits, false, false);
        EXPECT_EQ(q_min(s), -(1 << (bits - 1))) << bits;
        EXPECT_EQ(q_max(s), (1 << (bits - 1)) - 1) << bits;
        EXPECT_EQ(q_min(u), 0) << bits;
        EXPECT_EQ(q_max(u), (1 << bits) - 1) << bits;
        // 1- to 4-bit codes live in INT4 / UINT4 tensors, restricted to 2^bits levels.
        EXPECT_EQ(storage_dtype(s), bits <= 4 ? DType::kI4 : DType::kI8) << bits;
        EXPECT_EQ(storage_dtype(u), bits <= 4 ? DType::kU4 : DType::kU8) << bits;
        EXPECT_GE(q_min(s), dtype_min(storage_dtype(s)));
        EXPECT_LE(q_max(u), dtype_max(storage_dtype(u)));
    }
    QuantScheme narrow = make_scheme(8, true, true);
    narrow.narrow_range = true;
    EXPECT_EQ(q_min(narrow), -127);
    narrow.bits = 2;  // ternary: {-1, 0, 1}
    EXPECT_EQ(q_min(narrow), -1);
    EXPECT_EQ(q_max(narrow), 1);
    narrow.bits = 3;
    EXPECT_EQ(q_min(narrow), -3);
}

TEST(Scheme, ValidationNamesTheField) {
    auto message = [](const QuantScheme& s) {
        try {
            validate_scheme(s);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(message(make_scheme(9, true, true)), "quant scheme: bits expected in 1..8, got 9");
    EXPECT_EQ(message(make_scheme(0, true, true)), "quant scheme: bits expected in 1..8, got 0");
    QuantScheme u = make_scheme(8, false, true);
    u.narrow_range = true;
    EXPECT_EQ(message(u), "quant scheme: narrow_range needs a signed scheme, got unsigned");
    EXPECT_EQ(message(make_scheme(4, true, true, Granularity::kBlock, 0, 0)),
              "quant scheme: per-block block_size expected >= 1, got 0");
    EXPECT_EQ(message(make_scheme(3, true, false, Granularity::kChannel, 5)), "");
}

TEST(Scheme, ScaleDimsFollowOnnx) {
    const Dims x = {4, 10, 3};
    EXPECT_EQ(scale_dims_for(make_scheme(8, true, true), x), Dims{});
    EXPECT_EQ(scale_dims_for(make_scheme(8, true, true, Granularity::kChannel, 1), x), Dims{10});
    EXPECT_EQ(scale_dims_for(make_scheme(8, true, true, Granularity::kChannel, -1), x), Dims{3});
    EXPECT_EQ(scale_dims_for(make_scheme(8, true, true, Granularity::kBlock, 1, 4), x),
              (Dims{4, 3, 3}));
    EXPECT_EQ(scale_dims_for(make_scheme(8, true, true, Granularity::kBlock, -3, 4), x),
              (Dims{1, 10, 3}));
    EXPECT_THROW(scale_dims_for(make_scheme(8, true, true, Granularity::kChannel, 3), x),
                 ConfigError);
    EXPECT_THROW(scale_dims_for(make_scheme(8, true, true, Granularity::kChannel, 0), {}),
                 ConfigError);
}

TEST(Scheme, NamesAndEquality) {
    EXPECT_EQ(scheme_str(make_scheme(4, true, true, Granularity::kChannel, 0)),
              "int4 sym per-channel(axis=0)");
    EXPECT_EQ(scheme_str(make_scheme(8, false, false)), "uint8 asym per-tensor");
    QuantScheme n = make_scheme(3, true, true, Granularity::kBlock, 1, 32);
    n.narrow_range = true;
    EXPECT_EQ(scheme_str(n), "int3 sym narrow per-block(axis=1,32)");
    // The axis does not matter per tensor, the block size only per block.
    EXPECT_EQ(make_scheme(8, true, true, Granularity::kTensor, 0),
              make_scheme(8, true, true, Granularity::kTensor, 1));
    EXPECT_NE(make_scheme(8, true, true, Granularity::kChannel, 0),
              make_scheme(8, true, true, Granularity::kChannel, 1));
    EXPECT_EQ(make_scheme(8, true, true, Granularity::kChannel, 0, 4),
              make_scheme(8, true, true, Granularity::kChannel, 0, 8));
}

TEST(Scheme, ParamsMismatchExplainsWhatIsWrong) {
    QuantParams p;
    p.scheme = make_scheme(4, true, true, Granularity::kChannel, 0);
    p.scale_dims = {2};
    p.scale = {0.5f, 0.25f};
    p.zero_point = {0, 0};
    EXPECT_FALSE(params_mismatch(p, {2, 7}).has_value());
    EXPECT_EQ(*params_mismatch(p, {3, 7}),
              "scale dims [2], expected [3] for x [3,7] int4 sym per-channel(axis=0)");
    p.zero_point = {0, 1};
    EXPECT_EQ(*params_mismatch(p, {2, 7}),
              "zero_point[1] expected 0 for a symmetric scheme, got 1");
    p.scheme.symmetric = false;
    p.zero_point = {0, 8};
    EXPECT_EQ(*params_mismatch(p, {2, 7}),
              "zero_point[1] expected in [-8, 7] for int4 asym per-channel(axis=0), got 8");
    p.zero_point = {0, 0};
    p.scale = {0.5f, -1.0f};
    EXPECT_EQ(*params_mismatch(p, {2, 7}), "scale[1] expected finite and > 0, got -1");
}

}  // namespace
}  // namespace aquant::quant
