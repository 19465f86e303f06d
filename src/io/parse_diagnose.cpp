// Explains why bytes did not parse as onnx.ModelProto by walking the top-level protobuf wire
// format: a truncated file ends inside a field; a non-protobuf file has an invalid tag early on.
#include "io/proto_convert.h"

#include <cstdint>
#include <string>

namespace aquant::io::detail {
namespace {

struct FieldInfo {
    int number;
    int wire_type;  // 0 varint, 2 length-delimited
    const char* name;
};

// onnx.ModelProto fields (onnx.proto, IR 10).
constexpr FieldInfo kModelFields[] = {
    {1, 0, "ir_version"},     {2, 2, "producer_name"}, {3, 2, "producer_version"},
    {4, 2, "domain"},         {5, 0, "model_version"}, {6, 2, "doc_string"},
    {7, 2, "graph"},          {8, 2, "opset_import"},  {14, 2, "metadata_props"},
    {20, 2, "training_info"}, {25, 2, "functions"},
};

const FieldInfo* model_field(int number) {
    for (const auto& f : kModelFields) {
        if (f.number == number) {
            return &f;
        }
    }
    return nullptr;
}

bool read_varint(const unsigned char* p, std::size_t size, std::size_t& pos, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= size) {
            return false;
        }
        const unsigned char b = p[pos++];
        v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            return true;
        }
    }
    return false;
}

std::string field_label(int number) {
    const FieldInfo* f = model_field(number);
    return "field " + std::to_string(number) + (f ? std::string(" (") + f->name + ")" : "");
}

}  // namespace

std::string diagnose_parse_failure(const char* data, std::size_t size) {
    const auto* p = reinterpret_cast<const unsigned char*>(data);
    std::size_t pos = 0;
    int known = 0;
    while (pos < size) {
        const std::size_t start = pos;
        std::uint64_t tag = 0;
        if (!read_varint(p, size, pos, tag)) {
            return known ? "the data ends inside a field tag at offset " + std::to_string(start) +
                               "; the file looks truncated"
                         : "";
        }
        const int number = static_cast<int>(tag >> 3);
        const int wire = static_cast<int>(tag & 7);
        if (number == 0 || wire == 3 || wire == 4 || wire > 5) {
            return "invalid protobuf field tag at offset " + std::to_string(start);
        }
        const FieldInfo* f = model_field(number);
        if (known == 0 && (!f || f->wire_type != wire)) {
            return "the first field (number " + std::to_string(number) + ", wire type " +
                   std::to_string(wire) + ") is not an onnx.ModelProto field";
        }
        if (f && f->wire_type == wire) {
            ++known;
        }
        std::uint64_t len = 0;
        switch (wire) {
            case 0:
                if (!read_varint(p, size, pos, len)) {
                    return "the data ends inside " + field_label(number) +
                           "; the file looks truncated";
                }
                continue;
            case 1:
                len = 8;
                break;
            case 5:
                len = 4;
                break;
            case 2:
                if (!read_varint(p, size, pos, len)) {
                    return "the data ends inside the length of " + field_label(number) +
                           "; the file looks truncated";
                }
                break;
        }
        if (len > size - pos) {
            return "the data ends inside " + field_label(number) + " at offset " +
                   std::to_string(start) + ", which needs " + std::to_string(len) +
                   " bytes but only " + std::to_string(size - pos) +
                   " remain; the file looks truncated";
        }
        pos += static_cast<std::size_t>(len);
    }
    return "";  // the damage is inside a nested message
}

}  // namespace aquant::io::detail
