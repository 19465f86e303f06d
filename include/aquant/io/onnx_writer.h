#pragma once

#include "aquant/ir/graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace aquant::io {

/// Largest serialized protobuf message (INT_MAX bytes, just under 2 GiB).
constexpr std::uint64_t kProtobufLimitBytes = 2147483647;

struct WriteOptions {
    /// Tensors at least this large go to an external data file `<output>.data` when the whole
    /// model would exceed the protobuf limit (2 GiB), or always when force_external is set.
    std::size_t external_threshold_bytes = 1024;
    bool force_external = false;
    /// fsync the written files (and their folder) before returning.
    bool fsync = false;
};

/// Where each tensor goes when writing. Offsets in the data file are aligned: to 4096 bytes for
/// tensors of 1 MiB or more (page-aligned for mmap), to 64 bytes otherwise.
struct ExternalDataPlan {
    std::vector<bool> external;          // per tensor, in the order given
    std::vector<std::uint64_t> offsets;  // offset in the data file (0 for inline tensors)
    std::uint64_t data_file_bytes = 0;
    std::uint64_t model_bytes_estimate = 0;  // upper estimate of the .onnx size after the plan
};

/// Decides which tensors go external from sizes alone (no data needed, so the > 2 GiB case is
/// testable without allocating): `tensor_bytes` are the raw data sizes of the candidate tensors
/// (initializers and attribute tensors), `other_bytes` the size of everything else. Nothing is
/// external unless `force_external` or the inline model would exceed kProtobufLimitBytes; then
/// every tensor of at least `external_threshold_bytes` is. Throws ModelError when the model is
/// still too large with those tensors external.
ExternalDataPlan plan_external_data(const std::vector<std::uint64_t>& tensor_bytes,
                                    std::uint64_t other_bytes, const WriteOptions& options);

/// The external data file written next to `model_path`: `<model_path>.data`.
std::string external_data_path(const std::string& model_path);

/// Writes atomically (temporary file in the same folder, then rename). Refuses to overwrite
/// `protect_path` (the input model) with ConfigError. Runs ir::verify_graph first (ModelError).
/// INT4/UINT4 tensors are written as raw_data packed two per byte, low nibble first, with
/// data_type 22/21 (ONNX IR 10); libonnx 1.12 tools do not know these types.
void write_model(const ir::Model& model, const std::string& path, const WriteOptions& options = {},
                 const std::string& protect_path = "");
std::string serialize_model(const ir::Model& model);  // throws when over 2 GiB

}  // namespace aquant::io
