#include "aquant/data/preprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace aquant::data {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

InputSpec spec(std::string name, DType t, Dims dims) {
    return InputSpec{std::move(name), t, dims};
}

Tensor pixels(Dims dims) {
    Tensor t(DType::kU8, std::move(dims));
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    }
    return t;
}

// Reference in double; the adapter computes in float32, so compare within 1e-6 relative
// (float32 has ~6e-8 relative rounding per operation, three operations).
double ref(double raw, double scale, double mean, double std) {
    return (raw * scale - mean) / std;
}

constexpr double kTol = 1e-6;

TEST(Preprocess, ScaleMeanStdSingleChannelIdxImagesToNchw) {
    const Tensor raw = pixels({3, 4, 5});
    Preprocess p{1.0 / 255.0, {0.2860}, {0.3530}, Layout::kNCHW};
    InputAdapter a(spec("input", DType::kF32, {-1, 1, 4, 5}), DType::kU8, raw.dims(), p, "f");
    const Tensor y = a.apply(raw);
    ASSERT_EQ(y.dtype(), DType::kF32);
    ASSERT_EQ(dims_str(y.dims()), "[3,1,4,5]");
    for (std::int64_t i = 0; i < y.numel(); ++i) {
        const double want = ref(raw.data<std::uint8_t>()[i], 1.0 / 255.0, 0.2860, 0.3530);
        ASSERT_NEAR(y.data<float>()[i], want, kTol * std::max(1.0, std::fabs(want))) << i;
    }
}

TEST(Preprocess, ChannelAxisIsInsertedPerLayoutOrFlattened) {
    const Tensor raw = pixels({2, 28, 28});
    Preprocess nchw;
    nchw.layout = Layout::kNCHW;
    InputAdapter a(spec("x", DType::kF32, {-1, 1, 28, 28}), DType::kU8, raw.dims(), {}, "f");
    EXPECT_EQ(dims_str(a.apply(raw).dims()), "[2,1,28,28]");
    InputAdapter b(spec("x", DType::kF32, {-1, 28, 28, 1}), DType::kU8, raw.dims(), {}, "f");
    EXPECT_EQ(dims_str(b.apply(raw).dims()), "[2,28,28,1]");
    InputAdapter c(spec("x", DType::kF32, {1, 784}), DType::kU8, raw.dims(), {}, "f");
    const Tensor flat = c.apply(raw);
    EXPECT_EQ(dims_str(flat.dims()), "[2,784]");
    // Without preprocessing, uint8 pixels feeding a float input keep their values 0..255.
    for (std::int64_t i = 0; i < flat.numel(); ++i) {
        ASSERT_EQ(flat.data<float>()[i], static_cast<float>(raw.data<std::uint8_t>()[i]));
    }
    // Unknown model shape: a given layout still adds the channel axis to [N,H,W] images.
    Preprocess nhwc;
    nhwc.layout = Layout::kNHWC;
    InputAdapter d(InputSpec{"x", DType::kUndefined, std::nullopt}, DType::kU8, raw.dims(), nhwc,
                   "f");
    EXPECT_EQ(dims_str(d.apply(raw).dims()), "[2,28,28,1]");
    EXPECT_EQ(d.apply(raw).dtype(), DType::kU8);
}

TEST(Preprocess, PerChannelMeanStdFollowTheLayout) {
    const std::vector<double> mean = {10.0, 20.0, 30.0}, stdv = {2.0, 4.0, 8.0};
    Preprocess p{0.5, mean, stdv, Layout::kNCHW};
    const Tensor chw = pixels({2, 3, 2, 2});
    InputAdapter a(spec("x", DType::kF32, {-1, 3, 2, 2}), DType::kU8, chw.dims(), p, "f");
    const Tensor y = a.apply(chw);
    for (std::int64_t b = 0; b < 2; ++b) {
        for (std::int64_t c = 0; c < 3; ++c) {
            for (std::int64_t k = 0; k < 4; ++k) {
                const std::int64_t i = (b * 3 + c) * 4 + k;
                const double want = ref(chw.data<std::uint8_t>()[i], 0.5, mean[c], stdv[c]);
                ASSERT_NEAR(y.data<float>()[i], want, kTol * std::fabs(want) + 1e-6) << i;
            }
        }
    }
    p.layout = Layout::kNHWC;
    const Tensor hwc = pixels({2, 2, 2, 3});
    InputAdapter n(spec("x", DType::kF32, {-1, 2, 2, 3}), DType::kU8, hwc.dims(), p, "f");
    const Tensor z = n.apply(hwc);
    for (std::int64_t i = 0; i < z.numel(); ++i) {
        const double want = ref(hwc.data<std::uint8_t>()[i], 0.5, mean[i % 3], stdv[i % 3]);
        ASSERT_NEAR(z.data<float>()[i], want, kTol * std::fabs(want) + 1e-6) << i;
    }
}

TEST(Preprocess, HwcDataIsTransposedForAnNchwModel) {
    const Tensor hwc = pixels({2, 4, 5, 3});  // [N,H,W,C]
    Preprocess p{1.0, {0.0, 100.0, 200.0}, {}, Layout::kNCHW};
    InputAdapter a(spec("x", DType::kF32, {-1, 3, 4, 5}), DType::kU8, hwc.dims(), p, "f");
    EXPECT_THAT(a.describe(), HasSubstr("transposed to NCHW"));
    const Tensor y = a.apply(hwc);
    ASSERT_EQ(dims_str(y.dims()), "[2,3,4,5]");
    for (std::int64_t b = 0; b < 2; ++b)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t h = 0; h < 4; ++h)
                for (std::int64_t w = 0; w < 5; ++w) {
                    const double in = hwc.data<std::uint8_t>()[((b * 4 + h) * 5 + w) * 3 + c];
                    ASSERT_EQ(y.data<float>()[((b * 3 + c) * 4 + h) * 5 + w],
                              static_cast<float>(in - 100.0 * c))
                        << b << c << h << w;
                }
    // And CHW data for an NHWC model.
    const Tensor chw = pixels({1, 3, 2, 2});
    InputAdapter n(spec("x", DType::kU8, {1, 2, 2, 3}), DType::kU8, chw.dims(),
                   Preprocess{std::nullopt, {}, {}, Layout::kNHWC}, "f");
    const Tensor z = n.apply(chw);
    for (std::int64_t c = 0; c < 3; ++c)
        for (std::int64_t k = 0; k < 4; ++k)
            ASSERT_EQ(z.data<std::uint8_t>()[k * 3 + c], chw.data<std::uint8_t>()[c * 4 + k]);
}

TEST(Preprocess, TypeRule) {
    const Dims d = {4, 2};
    // Same type: unchanged. float64 data for a float input: converted.
    InputAdapter same(spec("ids", DType::kI64, {-1, 2}), DType::kI64, d, {}, "f");
    EXPECT_EQ(same.out_dtype(), DType::kI64);
    InputAdapter narrow(spec("x", DType::kF32, {-1, 2}), DType::kF64, d, {}, "f");
    const Tensor y = narrow.apply(Tensor::from_vector<double>(d, {0.1, -2, 3, 4, 5, 6, 7, 1e10}));
    EXPECT_EQ(y.data<float>()[0], 0.1f);
    EXPECT_EQ(y.data<float>()[7], 1e10f);
    // uint8 data for an int64 input is not silently widened.
    EXPECT_THAT(error_of([&] {
                    InputAdapter(spec("ids", DType::kI64, {-1, 2}), DType::kU8, d, {}, "a.npy");
                }),
                AllOf(HasSubstr("a.npy"), HasSubstr("input 'ids'"),
                      HasSubstr("expected int64[?,2], got uint8[4,2]")));
    // Preprocessing makes float32, which an int64 input cannot take.
    EXPECT_THAT(error_of([&] {
                    InputAdapter(spec("ids", DType::kI64, {-1, 2}), DType::kU8, d,
                                 Preprocess{0.5, {}, {}, std::nullopt}, "a.npy");
                }),
                AllOf(HasSubstr("input 'ids'"), HasSubstr("produces float")));
}

TEST(PreprocessErrors, ShapeMismatchNamesInputExpectedAndGiven) {
    const std::string msg = error_of([] {
        InputAdapter(spec("input", DType::kF32, {-1, 3, 32, 32}), DType::kU8, {10000, 28, 28},
                     Preprocess{1.0 / 255, {0.5}, {0.5}, Layout::kNCHW}, "t10k-images.gz");
    });
    EXPECT_THAT(msg,
                AllOf(HasSubstr("t10k-images.gz"), HasSubstr("input 'input'"),
                      HasSubstr("expected float[?,3,32,32]"), HasSubstr("got uint8[10000,28,28]")));
    EXPECT_THROW(InputAdapter(spec("input", DType::kF32, {-1, 3, 32, 32}), DType::kU8, {10, 28, 28},
                              {}, "f"),
                 DataError);
}

TEST(PreprocessErrors, MeanCountMustMatchChannels) {
    EXPECT_THAT(error_of([] {
                    InputAdapter(spec("x", DType::kF32, {-1, 1, 28, 28}), DType::kU8, {5, 28, 28},
                                 Preprocess{1.0, {0.1, 0.2, 0.3}, {}, Layout::kNCHW}, "f");
                }),
                AllOf(HasSubstr("3 values"), HasSubstr("size 1")));
    EXPECT_THAT(error_of([] {
                    InputAdapter(spec("x", DType::kF32, {-1, 3, 2, 2}), DType::kU8, {5, 3, 2, 2},
                                 Preprocess{1.0, {0.1, 0.2, 0.3}, {1, 2}, Layout::kNCHW}, "f");
                }),
                HasSubstr("--std has 2"));
    EXPECT_THAT(error_of([] {
                    InputAdapter(spec("x", DType::kF32, {-1, 2}), DType::kU8, {5, 2},
                                 Preprocess{1.0, {}, {0.0}, std::nullopt}, "f");
                }),
                HasSubstr("non-zero"));
}

TEST(Preprocess, ModelInputSpecsSkipInitializers) {
    ir::Graph g;
    ir::Value x;
    x.name = "input";
    ir::TypeInfo type;
    type.elem_type = DType::kF32;
    type.shape = std::vector<ir::Dim>{{-1, "N"}, {1, ""}, {28, ""}, {28, ""}};
    x.type = type;
    g.inputs.push_back(g.add_value(x));
    const ir::ValueId w = g.add_initializer("w", Tensor(DType::kF32, {2}));
    g.inputs.push_back(w);
    const auto specs = model_input_specs(g);
    ASSERT_EQ(specs.size(), 1u);
    EXPECT_EQ(specs[0].name, "input");
    EXPECT_EQ(specs[0].str(), "float[?,1,28,28]");
}

TEST(Preprocess, LayoutNames) {
    EXPECT_EQ(layout_from_name("nhwc"), Layout::kNHWC);
    EXPECT_EQ(layout_from_name("NCHW"), Layout::kNCHW);
    EXPECT_FALSE(layout_from_name("CHW").has_value());
}

}  // namespace
}  // namespace aquant::data
