// Default-domain opset conversion with ONNX 1.12's version converter (onnx::version_conversion),
// which knows opsets up to 17. Used to raise old models (e.g. opset 8) to 13, the first opset
// with per-channel QuantizeLinear/DequantizeLinear; opset 18-21 upgrades are aquant's own
// (pipeline/opset_upgrade.h).
#pragma once

#include <cstdint>

#include "aquant/ir/graph.h"

namespace aquant::io {

/// Replaces `model` with its conversion to default-domain opset `target` (<= 17). No-op when
/// the model is already there. ConfigError for a target above 17; ModelError naming the file and
/// both opsets when the converter fails (it lists the op it cannot adapt). Graph::source_path is
/// kept.
void convert_opset(ir::Model& model, std::int64_t target);

}  // namespace aquant::io
