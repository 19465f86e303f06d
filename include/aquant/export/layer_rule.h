// Where the weight of a quantizable layer keeps its output channels, along which axis blocks
// run (the reduction axis), and which input holds the bias: one row per op type.
//   Conv           W [M, C/g, kH, kW]   channel axis 0, blocks along 1, bias input 2
//   ConvTranspose  W [C, M/g, kH, kW]   channel axis 1, blocks along 0, bias input 2
//   Gemm transB=1  B [N, K]             channel axis 0, blocks along 1, bias input 2 (C)
//   Gemm transB=0  B [K, N]             channel axis 1, blocks along 0, bias input 2 (C)
//   MatMul         B [..., K, N]        channel axis rank-1, blocks along rank-2, no bias
#pragma once

#include <cstddef>

#include "aquant/ir/graph.h"

namespace aquant::qdq {

struct WeightLayout {
    int channel_axis = 0;    // in [0, rank)
    int reduction_axis = 1;  // in [0, rank)
    int bias_input = -1;     // -1: the op has no bias input
};

/// The layout of `node`'s weight of rank `weight_rank`. ModelError naming the node for an op
/// without a rule or a weight of too small a rank.
WeightLayout weight_layout(const ir::Graph& g, const ir::Node& node, std::size_t weight_rank);

}  // namespace aquant::qdq
