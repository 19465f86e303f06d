// Every way a model file can be bad gives one clear error naming the file and, where it
// applies, the node or tensor. Bad files are built here, byte by byte.
#include "io_test_models.h"
#include "io_test_util.h"

#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "aquant/io/tensor_pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aquant::io {
namespace {

using namespace iotest;
using namespace iotest::onnxpb;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Runs read_model and returns the message of the exception of type E it must throw.
template <typename E>
std::string read_error(const std::string& path, ReadOptions opts = {}) {
    try {
        read_model(path, opts);
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type: " << e.what();
        return "";
    }
    ADD_FAILURE() << path << " was read without error";
    return "";
}

// x -> Relu -> y with an extra initializer `w` (TensorProto given) consumed by an Add.
std::string model_with_initializer(const Pb& w) {
    const Pb graph = Pb().m(kNode, node("add", "Add", {"x", "w"}, {"y"}))
                         .s(kGraphName, "g")
                         .m(kInitializer, w)
                         .m(kInput, value_info("x", 1, {4}))
                         .m(kOutput, value_info("y", 1, {4}));
    return model(graph).str();
}

Pb external_tensor(const std::string& location, const std::string& offset,
                   const std::string& length) {
    Pb t = Pb().i(kDims, 4).i(kDataType, 1).s(kTensorName, "w").i(kDataLocation, 1);
    t.m(kExternalData, Pb().s(kKey, "location").s(kValue, location));
    if (!offset.empty()) {
        t.m(kExternalData, Pb().s(kKey, "offset").s(kValue, offset));
    }
    if (!length.empty()) {
        t.m(kExternalData, Pb().s(kKey, "length").s(kValue, length));
    }
    return t;
}

TEST(ReaderErrors, MissingFile) {
    TempDir dir;
    const std::string path = dir.file("absent.onnx");
    EXPECT_THAT(read_error<IoError>(path),
                AllOf(StartsWith(path + ": "), HasSubstr("No such file or directory")));
}

TEST(ReaderErrors, Directory) {
    TempDir dir;
    EXPECT_THAT(read_error<IoError>(dir.path().string()), HasSubstr("is a directory"));
}

TEST(ReaderErrors, EmptyFile) {
    TempDir dir;
    const std::string path = dir.file("empty.onnx");
    write_file(path, "");
    EXPECT_THAT(read_error<ModelError>(path), HasSubstr("not an ONNX model (the file is empty)"));
}

TEST(ReaderErrors, TextFile) {
    TempDir dir;
    const std::string path = dir.file("notes.onnx");
    write_file(path, "This is not an ONNX model.\nJust text.\n");
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": not an ONNX model (protobuf parse failed"),
                      HasSubstr("invalid protobuf field tag at offset 0")));
}

TEST(ReaderErrors, TruncatedModel) {
    TempDir dir;
    const std::string full = serialize_model(*conv_model());
    const std::string path = dir.file("half.onnx");
    write_file(path, full.substr(0, full.size() / 2));
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": not an ONNX model (protobuf parse failed"),
                      HasSubstr("field 7 (graph)"), HasSubstr("looks truncated")));
}

TEST(ReaderErrors, TruncatedRealModel) {
    const std::string real =
        "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx";
    if (!std::filesystem::exists(real)) {
        GTEST_SKIP() << real << " not installed";
    }
    TempDir dir;
    const std::string full = read_file(real);
    const std::string path = dir.file("half.onnx");
    write_file(path, full.substr(0, full.size() / 2));
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": not an ONNX model"), HasSubstr("truncated")));
}

TEST(ReaderErrors, TensorProtoFile) {
    TempDir dir;
    const std::string path = dir.file("input_0.pb");
    write_tensor_pb(weights({2, 3}), "x", path);
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": is not an ONNX ModelProto"),
                      HasSubstr("looks like a serialized TensorProto")));
}

TEST(ReaderErrors, NodeProtoFile) {
    TempDir dir;
    const std::string path = dir.file("node.onnx");
    write_file(path, node("n", "Relu", {"x"}, {"y"}).str());
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": is not an ONNX ModelProto"), HasSubstr("no graph")));
}

TEST(ReaderErrors, MissingExternalDataFile) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    write_file(path, model_with_initializer(external_tensor("weights.bin", "0", "16")));
    EXPECT_THAT(read_error<IoError>(path),
                AllOf(StartsWith(path + ": initializer 'w': "), HasSubstr("'weights.bin'"),
                      HasSubstr("No such file or directory")));
}

TEST(ReaderErrors, ExternalDataBeyondEndOfFile) {
    TempDir dir;
    write_file(dir.file("weights.bin"), std::string(20, '\0'));
    const std::string path = dir.file("m.onnx");
    write_file(path, model_with_initializer(external_tensor("weights.bin", "8", "16")));
    EXPECT_THAT(
        read_error<ModelError>(path),
        AllOf(StartsWith(path + ": initializer 'w': "),
              HasSubstr("offset 8 + length 16 is beyond the end of 'weights.bin' (20 bytes)")));
}

TEST(ReaderErrors, ExternalDataLengthDisagreesWithShape) {
    TempDir dir;
    write_file(dir.file("weights.bin"), std::string(64, '\0'));
    const std::string path = dir.file("m.onnx");
    write_file(path, model_with_initializer(external_tensor("weights.bin", "0", "12")));
    EXPECT_THAT(read_error<ModelError>(path),
                HasSubstr("external data length 12 does not match 16 bytes of float[4]"));
}

TEST(ReaderErrors, ExternalDataOutsideModelFolder) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    write_file(path, model_with_initializer(external_tensor("../secret.bin", "", "")));
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": initializer 'w': "),
                      HasSubstr("'../secret.bin' points outside the model's folder")));
    write_file(path, model_with_initializer(external_tensor("/etc/passwd", "", "")));
    EXPECT_THAT(read_error<ModelError>(path), HasSubstr("is an absolute path"));
}

TEST(ReaderErrors, ExternalDataReadsWithoutOffsetAndLength) {
    TempDir dir;
    const float w[4] = {1.5f, -2.0f, 0.25f, 8.0f};
    write_file(dir.file("w.bin"), std::string(reinterpret_cast<const char*>(w), sizeof(w)));
    const std::string path = dir.file("m.onnx");
    write_file(path, model_with_initializer(external_tensor("w.bin", "", "")));
    const auto m = read_model(path);
    const Tensor* t = m->graph->constant(*m->graph->find_value("w"));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->to_f32(), std::vector<float>(w, w + 4));
}

TEST(ReaderErrors, DanglingNodeInput) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb graph = Pb().m(kNode, node("relu1", "Relu", {"x"}, {"a"}))
                         .m(kNode, node("add1", "Add", {"a", "ghost"}, {"y"}))
                         .m(kInput, value_info("x", 1, {4}))
                         .m(kOutput, value_info("y", 1, {4}));
    write_file(path, model(graph).str());
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": node 'add1' (Add): "), HasSubstr("input 1 'ghost'"),
                      HasSubstr("not produced by any node")));
}

TEST(ReaderErrors, Cycle) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb graph = Pb().m(kNode, node("first", "Add", {"x", "b"}, {"a"}))
                         .m(kNode, node("second", "Relu", {"a"}, {"b"}))
                         .m(kNode, node("last", "Relu", {"a"}, {"y"}))
                         .m(kInput, value_info("x", 1, {4}))
                         .m(kOutput, value_info("y", 1, {4}));
    write_file(path, model(graph).str());
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": node 'first' (Add)"), HasSubstr("cycle")));
}

TEST(ReaderErrors, TwoProducersOfOneValue) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb graph = Pb().m(kNode, node("p1", "Relu", {"x"}, {"y"}))
                         .m(kNode, node("p2", "Sigmoid", {"x"}, {"y"}))
                         .m(kInput, value_info("x", 1, {4}))
                         .m(kOutput, value_info("y", 1, {4}));
    write_file(path, model(graph).str());
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": node 'p2' (Sigmoid)"),
                      HasSubstr("'y' is also produced by node 'p1'")));
}

TEST(ReaderErrors, UnknownElementType) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb w = Pb().i(kDims, 4).i(kDataType, 99).s(kTensorName, "w").s(kRawData, "0123");
    write_file(path, model_with_initializer(w));
    EXPECT_THAT(read_error<ModelError>(path), AllOf(StartsWith(path + ": initializer 'w': "),
                                                    HasSubstr("unknown element type 99")));
}

TEST(ReaderErrors, UnknownElementTypeInValueInfo) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb graph = Pb().m(kNode, node("relu", "Relu", {"x"}, {"y"}))
                         .m(kInput, value_info("x", 42, {4}))
                         .m(kOutput, value_info("y", 1, {4}));
    write_file(path, model(graph).str());
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": value 'x': "), HasSubstr("unknown element type 42")));
}

TEST(ReaderErrors, RawDataSizeMismatch) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb w = Pb().i(kDims, 4).i(kDataType, 1).s(kTensorName, "w").s(kRawData, "0123456");
    write_file(path, model_with_initializer(w));
    EXPECT_THAT(read_error<ModelError>(path),
                AllOf(StartsWith(path + ": initializer 'w': "),
                      HasSubstr("raw_data has 7 bytes, expected 16 for float[4]")));
}

TEST(ReaderErrors, TypedDataCountMismatch) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    const Pb w = Pb().i(kDims, 4).i(kDataType, 1).s(kTensorName, "w").f32(kFloatData, 1.0f);
    write_file(path, model_with_initializer(w));
    EXPECT_THAT(read_error<ModelError>(path),
                HasSubstr("float_data has 1 values, expected 4 for float[4]"));
}

TEST(ReaderErrors, HugeDimsWithoutDataDoNotAllocate) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    // 2^20 x 2^20 floats (4 TiB) with one value: must fail on the count, not allocate.
    const Pb w = Pb().i(kDims, 1 << 20)
                     .i(kDims, 1 << 20)
                     .i(kDataType, 1)
                     .s(kTensorName, "w")
                     .f32(kFloatData, 1.0f);
    write_file(path, model_with_initializer(w));
    EXPECT_THAT(read_error<ModelError>(path), HasSubstr("float_data has 1 values"));
}

TEST(ReaderErrors, MessagesAreSingleLine) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    write_file(path, "This is not an ONNX model.\n");
    const std::string msg = read_error<ModelError>(path);
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

}  // namespace
}  // namespace aquant::io
