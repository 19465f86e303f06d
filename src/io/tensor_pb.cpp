#include "aquant/io/tensor_pb.h"

#include "io/atomic_file.h"
#include "io/proto_convert.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace aquant::io {

Tensor read_tensor_pb(const std::string& path, std::string* name) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw IoError(path + ": cannot open tensor file: " + std::strerror(errno));
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    onnx::TensorProto tp;
    if (bytes.size() > static_cast<std::size_t>(INT_MAX) ||
        !tp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw DataError(path + ": not a serialized ONNX TensorProto (protobuf parse failed)");
    }
    // onnx SequenceProto/OptionalProto (test data of sequence ops) parse as a TensorProto with
    // the deprecated `segment` field set, or with no data_type when empty.
    if (tp.data_type() == 0 || tp.has_segment()) {
        throw DataError(
            path + ": not a serialized ONNX TensorProto (" +
            (tp.has_segment() ? "it looks like a SequenceProto or OptionalProto" : "no data_type") +
            "); only tensors are supported");
    }
    detail::ExternalData ext(path, std::filesystem::path(path).parent_path(), true);
    std::optional<Tensor> t;
    try {
        t = detail::tensor_from_proto(tp, ext, path + ": tensor '" + tp.name() + "'");
    } catch (const ModelError& e) {
        throw DataError(e.what());
    }
    if (name) {
        *name = tp.name();
    }
    return std::move(*t);
}

void write_tensor_pb(const Tensor& t, const std::string& name, const std::string& path) {
    onnx::TensorProto tp;
    detail::tensor_to_proto(t, &tp, /*with_data=*/true);
    if (!name.empty()) {
        tp.set_name(name);
    }
    detail::AtomicFile file(path);
    const std::string bytes = tp.SerializeAsString();
    file.write(bytes.data(), bytes.size());
    file.commit(false);
}

}  // namespace aquant::io
