// Quantizes one layer's weight (and bias) and queues the DequantizeLinear chains. Private to
// src/export/.
#pragma once

#include <vector>

#include "aquant/export/qdq_export.h"
#include "aquant/ir/layers.h"
#include "aquant/ir/patch.h"

namespace aquant::qdq::detail {

struct LayerExportContext {
    ir::Graph& graph;
    ir::GraphPatch& patch;
    const ExportPlan& plan;
    bool int4_as_int8 = false;  // the opset has no INT4: store b <= 4 codes as INT8
    std::vector<Decision>& decisions;
    int int8_requantized = 0;  // INT4 weights given the int8 chain (ExportPlan::int4_int8_compute)
};

/// The record of a layer kept in float.
LayerRecord float_layer_record(const ir::Graph& g, const ir::Layer& layer);

/// Quantizes `layer` at `bits` (2..8) and rewires its weight (and bias) inputs.
LayerRecord export_layer(LayerExportContext& ctx, const ir::Layer& layer, int bits);

}  // namespace aquant::qdq::detail
