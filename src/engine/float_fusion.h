// Float graph fusions for the executor's fast path (plain runs: no hook, no intermediates kept),
// the ones ONNX Runtime's basic optimisations apply to the CNNs here:
//  - Conv + BatchNormalization (inference form, constant parameters and Conv weights): the
//    normalisation folded into the Conv's weights and bias;
//  - Conv (+ folded BatchNormalization) [+ Add of a tensor Z of the Conv output's shape, shapes
//    from ir::infer_shapes] [+ Relu / Clip (constant bounds) / LeakyRelu / Sigmoid / Tanh /
//    HardSigmoid]: one com.microsoft FusedConv, y = act(conv + Z).
// The fused graph keeps every value id of the original; the values inside a fused chain are
// no longer computed (`eliminated`), so a run that feeds or wants one of them takes the unfused
// graph. Results match the unfused graph to float rounding (folded weights round differently).
// Graphs with sub-graphs (If/Loop/Scan) are left alone: their bodies may read any value by name.
#pragma once

#include <memory>
#include <vector>

#include "aquant/ir/graph.h"

namespace aquant::engine {

struct FloatFusion {
    std::shared_ptr<ir::Graph> graph;  // null when nothing was fused
    std::vector<char> eliminated;      // by value index of the original graph
    int folded_bn = 0;                 // BatchNormalization nodes folded into a Conv
    int fused_add = 0;                 // Adds fused into a Conv as its Z input
    int fused_act = 0;                 // activations fused into a Conv
};

FloatFusion fuse_float(const ir::Graph& g, std::int64_t default_opset);

}  // namespace aquant::engine
