// BatchNormalization folded into the preceding Conv (inference form, ONNX BatchNormalization
// with training_mode 0):
//   y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta
//   f_c = gamma_c / sqrt(var_c + eps)
//   W'[c, ...] = W[c, ...] * f_c,   b'_c = (b_c - mean_c) * f_c + beta_c   (b = 0 without bias)
// computed in double and rounded once to float32. A BatchNormalization is folded when its input
// is the only use of a Conv's output (not a graph output), the Conv's weight, bias and every
// BN parameter are constants of float32 type with one value per output channel, and the BN has
// a single output. Others are left in the graph (they run in float).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "aquant/ir/graph.h"

namespace aquant::qdq {

struct FoldedConv {
    Tensor weight;  // float32, dims of the Conv weight
    Tensor bias;    // float32 [M]
};

/// The math alone: `bias` may be null (treated as zeros). InternalError when the parameter
/// lengths do not match the weight's output channels (axis 0).
FoldedConv fold_bn_params(const Tensor& weight, const Tensor* bias, const Tensor& gamma,
                          const Tensor& beta, const Tensor& mean, const Tensor& var, float epsilon);

struct BnFoldResult {
    int folded = 0;
    /// BatchNormalization nodes left in place, as "'name': reason".
    std::vector<std::string> kept;
};

/// Folds every foldable Conv -> BatchNormalization pair of `g` (sub-graphs are not visited). The
/// Conv takes over the BN's output value, so downstream names and graph outputs do not change.
/// Weights used only by that Conv are replaced in place (same initializer name); shared ones get
/// a new initializer.
BnFoldResult fold_batch_norms(ir::Graph& g);

}  // namespace aquant::qdq
