// Every element type reads from raw_data and from its typed field (float_data, int32_data, ...)
// into the same Tensor bytes, and survives a write/read round trip.
#include "io_test_models.h"
#include "io_test_util.h"

#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "aquant/io/tensor_pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace aquant::io {
namespace {

using namespace iotest;
using namespace iotest::onnxpb;

// Reads a model whose graph is `y = Identity(w)` with initializer w given as a TensorProto.
Tensor read_initializer(const Pb& w) {
    const Pb graph = Pb().m(kNode, node("id", "Identity", {"w"}, {"y"}))
                         .m(kInitializer, w)
                         .m(kOutput, Pb().s(kViName, "y"));
    ReadOptions opts;
    opts.infer_shapes = false;
    const auto m = read_model_from_bytes(model(graph).str(), "mem.onnx", opts);
    const Tensor* t = m->graph->constant(*m->graph->find_value("w"));
    if (!t) {
        throw std::runtime_error("no initializer w");
    }
    // The written form (raw_data) reads back to the same bytes.
    const auto back = read_model_from_bytes(serialize_model(*m), "mem.onnx", opts);
    EXPECT_TRUE(back->graph->constant(*back->graph->find_value("w"))->same_as(*t));
    return *t;
}

Pb tensor(int data_type, std::initializer_list<std::uint64_t> dims) {
    Pb t;
    for (auto d : dims) {
        t.i(kDims, d);
    }
    return t.i(kDataType, static_cast<std::uint64_t>(data_type)).s(kTensorName, "w");
}

template <typename T>
std::vector<T> values(const Tensor& t) {
    const T* p = static_cast<const T*>(t.raw());
    return std::vector<T>(p, p + t.numel());
}

TEST(ElementTypes, FloatFromFloatDataAndRawData) {
    const Tensor a = read_initializer(
        tensor(1, {3}).f32(kFloatData, 1.5f).f32(kFloatData, -2.0f).f32(kFloatData, 0.0f));
    EXPECT_EQ(a.dtype(), DType::kF32);
    EXPECT_EQ(a.to_f32(), (std::vector<float>{1.5f, -2.0f, 0.0f}));
    const float raw[3] = {1.5f, -2.0f, 0.0f};
    const Tensor b = read_initializer(
        tensor(1, {3}).s(kRawData, std::string(reinterpret_cast<const char*>(raw), 12)));
    EXPECT_TRUE(a.same_as(b));
}

TEST(ElementTypes, HalfAndBfloat16FromInt32Data) {
    const Tensor h = read_initializer(tensor(10, {2}).i(kInt32Data, 0x3C00).i(kInt32Data, 0xC000));
    EXPECT_EQ(h.dtype(), DType::kF16);
    EXPECT_EQ(h.to_f64(), (std::vector<double>{1.0, -2.0}));
    const Tensor b = read_initializer(tensor(16, {2}).i(kInt32Data, 0x3F80).i(kInt32Data, 0x4040));
    EXPECT_EQ(b.dtype(), DType::kBF16);
    EXPECT_EQ(b.to_f64(), (std::vector<double>{1.0, 3.0}));
}

TEST(ElementTypes, SmallIntegersAndBoolFromInt32Data) {
    EXPECT_EQ(read_initializer(tensor(3, {2}).neg(kInt32Data, -3).i(kInt32Data, 127)).to_f64(),
              (std::vector<double>{-3, 127}));
    EXPECT_EQ(read_initializer(tensor(2, {1}).i(kInt32Data, 255)).to_f64(),
              std::vector<double>{255});
    EXPECT_EQ(read_initializer(tensor(5, {1}).neg(kInt32Data, -300)).to_f64(),
              std::vector<double>{-300});
    EXPECT_EQ(read_initializer(tensor(4, {1}).i(kInt32Data, 65535)).to_f64(),
              std::vector<double>{65535});
    EXPECT_EQ(read_initializer(tensor(6, {1}).neg(kInt32Data, -70000)).to_f64(),
              std::vector<double>{-70000});
    const Tensor b =
        read_initializer(tensor(9, {3}).i(kInt32Data, 1).i(kInt32Data, 0).i(kInt32Data, 1));
    EXPECT_EQ(b.dtype(), DType::kBool);
    EXPECT_EQ(values<std::uint8_t>(b), (std::vector<std::uint8_t>{1, 0, 1}));
}

TEST(ElementTypes, Int4AndUint4FromPackedOrUnpackedInt32Data) {
    // int4 [1, 2, -1]: packed bytes 0x21, 0x0F (ONNX IR 10), or one entry per element.
    const Tensor packed = read_initializer(tensor(22, {3}).i(kInt32Data, 0x21).i(kInt32Data, 0x0F));
    const Tensor unpacked =
        read_initializer(tensor(22, {3}).i(kInt32Data, 1).i(kInt32Data, 2).neg(kInt32Data, -1));
    EXPECT_EQ(packed.dtype(), DType::kI4);
    EXPECT_EQ(packed.to_f64(), (std::vector<double>{1, 2, -1}));
    EXPECT_TRUE(packed.same_as(unpacked));
    const Tensor u = read_initializer(tensor(21, {4}).i(kInt32Data, 0xF0).i(kInt32Data, 0x39));
    EXPECT_EQ(u.dtype(), DType::kU4);
    EXPECT_EQ(u.to_f64(), (std::vector<double>{0, 15, 9, 3}));
    // raw_data: ceil(n/2) bytes.
    const Tensor r = read_initializer(tensor(22, {3}).s(kRawData, std::string("\x21\x0F", 2)));
    EXPECT_TRUE(r.same_as(packed));
}

TEST(ElementTypes, Float8KeepsBitPatterns) {
    for (int code : {17, 18, 19, 20}) {
        const Tensor t =
            read_initializer(tensor(code, {2}).i(kInt32Data, 0x38).i(kInt32Data, 0xC1));
        EXPECT_EQ(static_cast<int>(t.dtype()), code);
        EXPECT_EQ(values<std::uint8_t>(t), (std::vector<std::uint8_t>{0x38, 0xC1}));
    }
}

TEST(ElementTypes, WideIntegersAndDoubles) {
    EXPECT_EQ(values<std::int64_t>(
                  read_initializer(tensor(7, {2}).neg(kInt64Data, -5).i(kInt64Data, 1ull << 40))),
              (std::vector<std::int64_t>{-5, std::int64_t{1} << 40}));
    EXPECT_EQ(values<std::uint32_t>(read_initializer(tensor(12, {1}).i(kUint64Data, 4000000000u))),
              std::vector<std::uint32_t>{4000000000u});
    EXPECT_EQ(
        values<std::uint64_t>(read_initializer(tensor(13, {1}).i(kUint64Data, (1ull << 63) + 5))),
        std::vector<std::uint64_t>{(1ull << 63) + 5});
    EXPECT_EQ(
        read_initializer(tensor(11, {2}).f64(kDoubleData, 0.1).f64(kDoubleData, -1e300)).to_f64(),
        (std::vector<double>{0.1, -1e300}));
}

TEST(ElementTypes, ComplexUsesTwoValuesPerElement) {
    const Tensor c = read_initializer(tensor(14, {2})
                                          .f32(kFloatData, 1)
                                          .f32(kFloatData, 2)
                                          .f32(kFloatData, 3)
                                          .f32(kFloatData, 4));
    EXPECT_EQ(c.dtype(), DType::kC64);
    EXPECT_EQ(values<float>(c.reshaped({2})), (std::vector<float>{1, 2}));  // first element
    EXPECT_EQ(c.size_bytes(), 16u);
    const Tensor z = read_initializer(tensor(15, {1}).f64(kDoubleData, 1).f64(kDoubleData, -1));
    EXPECT_EQ(z.size_bytes(), 16u);
}

TEST(ElementTypes, Strings) {
    const Tensor s = read_initializer(tensor(8, {2}).s(kStringData, "a").s(kStringData, "bc"));
    EXPECT_EQ(s.strings(), (std::vector<std::string>{"a", "bc"}));
}

TEST(ElementTypes, EmptyTensorNeedsNoData) {
    const Tensor e = read_initializer(tensor(1, {0, 3}));
    EXPECT_EQ(e.numel(), 0);
    EXPECT_EQ(e.dims(), (Dims{0, 3}));
}

TEST(TensorPb, RoundTripKeepsNameTypeAndBytes) {
    TempDir dir;
    Tensor i4(DType::kI4, {5});
    i4.data<std::uint8_t>()[0] = 0x8F;
    i4.data<std::uint8_t>()[1] = 0x17;
    i4.data<std::uint8_t>()[2] = 0x06;
    for (const Tensor& t : {weights({2, 3, 4}), i4, Tensor::scalar<std::int64_t>(-9)}) {
        write_tensor_pb(t, "input", dir.file("t.pb"));
        std::string name;
        const Tensor back = read_tensor_pb(dir.file("t.pb"), &name);
        EXPECT_EQ(name, "input");
        EXPECT_TRUE(back.same_as(t)) << dtype_name(t.dtype());
    }
    Tensor s(DType::kString, {3});
    s.strings() = {"x", "", "yz"};
    write_tensor_pb(s, "", dir.file("s.pb"));
    EXPECT_EQ(read_tensor_pb(dir.file("s.pb")).strings(), s.strings());
}

TEST(TensorPb, Errors) {
    TempDir dir;
    EXPECT_THROW(read_tensor_pb(dir.file("absent.pb")), IoError);
    write_file(dir.file("model.pb"), serialize_model(*conv_model()));
    try {
        read_tensor_pb(dir.file("model.pb"));
        FAIL() << "a model read as a tensor";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("not a serialized ONNX TensorProto"));
    }
}

}  // namespace
}  // namespace aquant::io
