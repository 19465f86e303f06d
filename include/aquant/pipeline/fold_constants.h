// Constant folding: every node whose inputs are all constants (initializers or Constant
// outputs) is run once with the engine's kernels and replaced by initializers named like its
// outputs, so weight chains such as initializer -> Reshape -> MatMul become plain weights.
// Left alone: nodes with sub-graphs, random ops, QuantizeLinear/DequantizeLinear (folding them
// would undo a quantized model), ops without a kernel or whose kernel fails on these inputs,
// nodes producing graph outputs, and results larger than FoldOptions::max_output_bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aquant/ir/graph.h"

namespace aquant::pipeline {

struct FoldOptions {
    std::int64_t max_output_bytes = std::int64_t{64} << 20;
};

struct FoldResult {
    int folded = 0;                    // nodes replaced by initializers
    std::vector<std::string> skipped;  // "'name' (Op): reason" for constant-input nodes kept
};

FoldResult fold_constants(ir::Model& model, const FoldOptions& options = {});

}  // namespace aquant::pipeline
