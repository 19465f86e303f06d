// Raises the default-domain opset of a model from 13..20 to at most 21 (what INT4 QDQ needs),
// rewriting the nodes whose signature changed in between:
//   ReduceL1/L2/LogSum/LogSumExp/Max/Mean/Min/Prod/SumSquare (18): `axes` attribute -> input 1
//   Split (18): without a `split` input, `num_outputs` = the number of outputs
//   RoiAlign (16): coordinate_transformation_mode = "output_half_pixel" (the old behaviour)
//   GridSample (20): mode "bilinear" -> "linear", "bicubic" -> "cubic"
//   BatchNormalization (14): more than three outputs cannot be expressed -> ModelError
//   DFT (20), GroupNormalization (21): changed semantics, no rule -> ModelError naming the node
// Every other change between opsets 13 and 21 only adds types, attributes with defaults that
// keep the old behaviour (Pad, Resize, LpPool, AveragePool, Cast, ScatterND, ...) or new ops.
// Sub-graphs are rewritten too. ir_version is raised to what the opset needs (21 -> IR 10).
// Models below opset 13 go through io::convert_opset first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aquant/ir/graph.h"

namespace aquant::pipeline {

struct OpsetUpgrade {
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::vector<std::string> rewrites;  // "'name' (ReduceMean): axes attribute -> input"
};

/// ModelError for a model below opset 13 or a node no rule can upgrade (all such nodes listed
/// at once); ConfigError for a target above 21 or below the model's opset.
OpsetUpgrade upgrade_opset(ir::Model& model, std::int64_t target);

}  // namespace aquant::pipeline
