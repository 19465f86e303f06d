#pragma once

#include <cstdint>
#include <string>

#include "aquant/ir/graph.h"

namespace aquant::io {

struct WriteOptions {
    /// Tensors at least this large go to an external data file `<output>.data` when the whole
    /// model would exceed the protobuf limit (2 GiB), or always when force_external is set.
    std::size_t external_threshold_bytes = 1024;
    bool force_external = false;
};

/// Writes atomically (temporary file in the same folder, then rename). Refuses to overwrite
/// `protect_path` (the input model) with ConfigError.
void write_model(const ir::Model& model, const std::string& path, const WriteOptions& options = {},
                 const std::string& protect_path = "");
std::string serialize_model(const ir::Model& model);  // throws when over 2 GiB

}  // namespace aquant::io
