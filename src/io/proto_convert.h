// Conversions between onnx protobuf messages and the IR. Private to src/io/: the only place,
// with its .cpp files, that includes protobuf or onnx headers.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/ir/graph.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace aquant::io::detail {

/// Where tensor data outside the protobuf lives, and whether to load it.
class ExternalData {
public:
    /// `model_path` is used in messages; `base_dir` is the folder `location` is relative to.
    ExternalData(std::string model_path, std::filesystem::path base_dir, bool load)
        : model_path_(std::move(model_path)), base_dir_(std::move(base_dir)), load_(load) {}

    const std::string& model_path() const { return model_path_; }

    bool load() const { return load_; }

    /// Checks that the file exists (IoError naming it otherwise) and holds `length` bytes at
    /// `offset` (ModelError otherwise); returns its path.
    std::filesystem::path check(const std::string& what, const std::string& location,
                                std::uint64_t offset, std::uint64_t length);
    /// Reads `length` bytes at `offset` of `location` into `dst`. `what` names the tensor.
    void read(const std::string& what, const std::string& location, std::uint64_t offset,
              std::uint64_t length, void* dst);
    /// Resolves `location` inside the model folder; throws ModelError naming `what` when it is
    /// absolute or escapes the folder.
    std::filesystem::path resolve(const std::string& what, const std::string& location) const;

private:
    std::string model_path_;
    std::filesystem::path base_dir_;
    bool load_;
    std::map<std::string, std::uint64_t> file_sizes_;  // by resolved path
};

/// `what` prefixes every message, e.g. "m.onnx: initializer 'w'". Throws ModelError.
/// Returns nullopt only for external data that was not loaded (ExternalData::load() false).
std::optional<Tensor> tensor_from_proto(const onnx::TensorProto& tp, ExternalData& ext,
                                        const std::string& what);
/// Element type and dims of a TensorProto, validated (element type known, dims >= 0).
ir::TypeInfo tensor_proto_type(const onnx::TensorProto& tp, const std::string& what);
/// Writes dims, data_type and (when `with_data`) the data: raw_data for numeric types (INT4/UINT4
/// packed two per byte, low nibble first, as stored in Tensor), string_data for strings.
void tensor_to_proto(const Tensor& t, onnx::TensorProto* tp, bool with_data = true);

/// Throws ModelError naming `what` for an unknown tensor element type.
ir::TypeInfo type_from_proto(const onnx::TypeProto& tp, const std::string& what);
void type_to_proto(const ir::TypeInfo& ti, onnx::TypeProto* tp);

/// Wire-format scan of a buffer that failed to parse as ModelProto: a short reason such as
/// "the data ends inside field 7 (graph) ...", or "" when nothing specific was found.
std::string diagnose_parse_failure(const char* data, std::size_t size);

}  // namespace aquant::io::detail
