// ONNX 1.12 shape inference as a source of value types. Private to src/io/.
#pragma once

#include "aquant/ir/graph.h"

#include <onnx/onnx_pb.h>

namespace aquant::io::detail {

/// Highest default-domain opset and IR version libonnx 1.12 knows; newer models skip ONNX
/// inference (its schema registry would not know their operators) and use ir::infer_shapes.
constexpr std::int64_t kOnnxInferMaxOpset = 17;
constexpr std::int64_t kOnnxInferMaxIrVersion = 8;

/// Runs onnx::shape_inference::InferShapes on `mp` (its graph is replaced by the inferred one;
/// the IR was already built from it) and copies inferred types into values of `m` that have
/// none. Nodes are first checked against their schemas, and inference runs in a forked child
/// process, because libonnx 1.12 crashes on some malformed nodes. Never throws: a failure is
/// logged at debug level. Returns the number of values typed, or -1 when not run or failed.
int run_onnx_inference(onnx::ModelProto& mp, ir::Model& m);

}  // namespace aquant::io::detail
