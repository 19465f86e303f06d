// ONNX ModelProto <-> ir::Model. The only module that includes protobuf or onnx headers.
//
// Reads IR 3-10, any opset (the ONNX 1.12 checker is never run, so opsets 18-21 load), every
// element type up to INT4/UINT4 (21/22) and float8, from raw_data or the typed fields. Kept
// intact: sub-graphs (If/Loop/Scan), symbolic dims, value_info, doc strings, metadata_props;
// functions, training_info, sparse initializers and non-tensor types as opaque serialized bytes.
// Not kept (not representable in the IR): names and doc strings of tensors inside attributes,
// TensorShapeProto.Dimension.denotation, and protobuf fields newer than ONNX 1.12 (IR 10 node
// metadata_props, overload, ...), which are dropped with one warning per model.
#pragma once

#include "aquant/ir/graph.h"

#include <memory>
#include <string>

namespace aquant::io {

struct ReadOptions {
    /// Read `location/offset/length` side files into memory. When false, tensors with external
    /// data get no initializer, only their type (for inspection); write_model refuses such a
    /// model because verify_graph finds the missing data.
    bool load_external_data = true;
    /// Fill Value::type of values that have none: ONNX 1.12 shape inference for default-domain
    /// opset <= 17 and IR <= 8 (a failure there is logged at debug level, never fatal), then
    /// ir::infer_shapes for whatever is still untyped (the only source for opset 18-21).
    /// Inferred types are not added to Graph::value_infos, so writing adds no value_info.
    bool infer_shapes = true;
};

/// Reads a model file. Throws IoError (missing/unreadable model or external data file) or
/// ModelError (not an ONNX model, truncated, another protobuf message, bad external data,
/// unknown element type, dangling input, cycle), each naming the file and, where it applies,
/// the node or tensor. The .onnx itself may be up to 2 GiB; larger weights use external data.
/// Sets Graph::source_path of the main graph and every sub-graph to `path`.
std::shared_ptr<ir::Model> read_model(const std::string& path, const ReadOptions& options = {});
/// Same, from bytes already in memory; `path` is used for messages and external data.
std::shared_ptr<ir::Model> read_model_from_bytes(const std::string& bytes, const std::string& path,
                                                 const ReadOptions& options = {});

}  // namespace aquant::io
