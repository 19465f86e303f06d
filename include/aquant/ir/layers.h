// Quantizable layers: nodes whose weight is a constant (directly, or through a chain of
// shape-only ops such as Reshape/Transpose/Identity applied to a constant).
#pragma once

#include <string>
#include <vector>

#include "aquant/ir/graph.h"

namespace aquant::ir {

struct Layer {
    NodeId node;
    int weight_input = 1;     // which input of the node holds the weight
    ValueId weight;           // the value feeding the node (may be a Reshape output)
    ValueId weight_source;    // the constant at the start of the chain
    std::int64_t params = 0;  // weight elements
    int channel_axis = 0;     // output-channel axis of the weight as the node sees it
    int reduction_axis = 1;   // its input (reduction) axis; negative counts from the back
    bool via_chain = false;   // weight reaches the node through shape-only ops
};

/// Conv, ConvTranspose, Gemm, MatMul (constant B, or constant A), in topological order.
std::vector<Layer> quantizable_layers(const Graph& g);

}  // namespace aquant::ir
