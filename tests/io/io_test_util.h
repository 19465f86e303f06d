// Helpers for io tests: temporary folders, files, and a minimal protobuf wire-format encoder so
// tests can build exact (also malformed) ONNX files without the onnx/protobuf headers, which
// belong to src/io/ only.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <stdlib.h>
#include <string>
#include <unistd.h>

namespace aquant::iotest {

/// A fresh folder under $TMPDIR, removed with everything in it on destruction.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "aquant-io-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = tmpl;
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Protobuf wire format: Pb().i(1, 8).s(2, "x").m(7, Pb()...) builds a message.
class Pb {
public:
    Pb& i(int field, std::uint64_t v) {  // varint (int32/int64/enum/bool)
        tag(field, 0);
        varint(v);
        return *this;
    }

    Pb& s(int field, const std::string& v) {  // bytes/string
        tag(field, 2);
        varint(v.size());
        buf_ += v;
        return *this;
    }

    Pb& m(int field, const Pb& v) { return s(field, v.buf_); }

    Pb& f32(int field, float v) {
        tag(field, 5);
        char b[4];
        std::memcpy(b, &v, 4);
        buf_.append(b, 4);
        return *this;
    }

    Pb& f64(int field, double v) {
        tag(field, 1);
        char b[8];
        std::memcpy(b, &v, 8);
        buf_.append(b, 8);
        return *this;
    }

    Pb& neg(int field, std::int64_t v) { return i(field, static_cast<std::uint64_t>(v)); }

    const std::string& str() const { return buf_; }

private:
    void tag(int field, int wire) { varint((static_cast<std::uint64_t>(field) << 3) | wire); }

    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            buf_ += static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        buf_ += static_cast<char>(v);
    }

    std::string buf_;
};

// onnx.proto field numbers used by the tests.
namespace onnxpb {
// ModelProto
constexpr int kIrVersion = 1, kOpsetImport = 8, kGraph = 7, kProducerName = 2;
// OperatorSetIdProto
constexpr int kOpsetDomain = 1, kOpsetVersion = 2;
// GraphProto
constexpr int kNode = 1, kGraphName = 2, kInitializer = 5, kInput = 11, kOutput = 12,
              kValueInfo = 13;
// NodeProto
constexpr int kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kOpType = 4, kAttribute = 5;
// AttributeProto
constexpr int kAttrName = 1, kAttrI = 3, kAttrT = 5, kAttrG = 6, kAttrType = 20;
// ModelProto, continued
constexpr int kDocString = 6, kMetadataProps = 14, kFunctions = 25;
// GraphProto, continued
constexpr int kSparseInitializer = 15;
// TensorProto
constexpr int kDims = 1, kDataType = 2, kFloatData = 4, kInt32Data = 5, kStringData = 6,
              kInt64Data = 7, kTensorName = 8, kRawData = 9, kDoubleData = 10, kUint64Data = 11,
              kExternalData = 13, kDataLocation = 14;
// StringStringEntryProto
constexpr int kKey = 1, kValue = 2;
// ValueInfoProto / TypeProto / TypeProto.Tensor / TensorShapeProto / Dimension
constexpr int kViName = 1, kViType = 2, kTensorType = 1, kElemType = 1, kShape = 2, kDim = 1,
              kDimValue = 1, kDimParam = 2;
}  // namespace onnxpb

/// ValueInfoProto for a tensor with static dims (dims < 0 become the symbol "N").
inline Pb value_info(const std::string& name, int elem_type, std::initializer_list<long> dims) {
    using namespace onnxpb;
    Pb shape;
    for (long d : dims) {
        shape.m(kDim,
                d >= 0 ? Pb().i(kDimValue, static_cast<std::uint64_t>(d)) : Pb().s(kDimParam, "N"));
    }
    return Pb()
        .s(kViName, name)
        .m(kViType, Pb().m(kTensorType, Pb().i(kElemType, elem_type).m(kShape, shape)));
}

inline Pb node(const std::string& name, const std::string& op,
               std::initializer_list<std::string> inputs,
               std::initializer_list<std::string> outputs) {
    using namespace onnxpb;
    Pb n;
    for (const auto& i : inputs) {
        n.s(kNodeInput, i);
    }
    for (const auto& o : outputs) {
        n.s(kNodeOutput, o);
    }
    return n.s(kNodeName, name).s(kOpType, op);
}

inline Pb model(const Pb& graph, int opset = 13, int ir_version = 7) {
    using namespace onnxpb;
    return Pb()
        .i(kIrVersion, static_cast<std::uint64_t>(ir_version))
        .s(kProducerName, "io_test")
        .m(kGraph, graph)
        .m(kOpsetImport,
           Pb().s(kOpsetDomain, "").i(kOpsetVersion, static_cast<std::uint64_t>(opset)));
}

}  // namespace aquant::iotest
