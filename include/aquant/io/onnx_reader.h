// ONNX ModelProto <-> ir::Model. The only module that includes protobuf or onnx headers.
#pragma once

#include <memory>
#include <string>

#include "aquant/ir/graph.h"

namespace aquant::io {

struct ReadOptions {
    bool load_external_data = true;  // read `location/offset/length` side files into memory
    bool infer_shapes = true;        // fill value types (ONNX inference for opset <= 17, own else)
};

/// Reads a model file. Throws IoError (missing/unreadable file) or ModelError (not an ONNX
/// model, truncated, bad external data, unknown element type, dangling input, cycle), each
/// naming the file and, where it applies, the node or tensor.
std::shared_ptr<ir::Model> read_model(const std::string& path, const ReadOptions& options = {});
/// Same, from bytes already in memory; `path` is used for messages and external data.
std::shared_ptr<ir::Model> read_model_from_bytes(const std::string& bytes, const std::string& path,
                                                 const ReadOptions& options = {});

}  // namespace aquant::io
