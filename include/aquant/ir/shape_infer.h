// Own type and shape propagation over the IR, for models ONNX 1.12's inference cannot handle
// (opset 18-21) and for values it left untyped. Rules follow the ONNX operator specs.
#pragma once

#include "aquant/ir/graph.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace aquant::ir {

/// Fills Value::type for values that have none, visiting nodes in topological order and
/// sub-graphs (If/Loop/Scan bodies, which also see the types of outer-scope values). Existing
/// types are never changed and Graph::value_infos is not touched.
///
/// Covered (default domain): elementwise unary ops (Relu, Sigmoid, Clip, Softmax, ...), binary
/// and variadic ops with numpy broadcasting (Add, Mul, Max, Equal, Where, ...),
/// QuantizeLinear/DequantizeLinear/DynamicQuantizeLinear, Conv, ConvTranspose, ConvInteger,
/// QLinearConv, MaxPool/AveragePool/LpPool (explicit pads, auto_pad, strides, dilations,
/// ceil_mode), Global*Pool, Gemm, MatMul, MatMulInteger, QLinearMatMul, BatchNormalization,
/// InstanceNormalization, LayerNormalization, Reshape/Expand/Tile/ConstantOfShape with a constant
/// operand, Flatten, Transpose, Concat, Squeeze, Unsqueeze, Split, Slice, Pad, Gather, Reduce*,
/// ArgMax/ArgMin, Shape, Size, Cast, CastLike, Constant, Identity, Dropout.
/// Unknown ops, untyped inputs and inconsistent shapes leave outputs untyped; a bad model never
/// makes this throw (a cycle does: topological_order throws ModelError naming a node).
/// Returns the number of values typed.
int infer_shapes(Graph& g, std::int64_t opset = 0);

/// Numpy-style broadcast of two shapes (symbolic dims kept when they agree); nullopt when the
/// shapes cannot broadcast.
std::optional<std::vector<Dim>> broadcast_shapes(const std::vector<Dim>& a,
                                                 const std::vector<Dim>& b);

/// Output size of a sliding window along one axis (Conv/pooling), or -1 when `in` is unknown.
/// ceil_mode rounds the division up, as MaxPool/AveragePool with ceil_mode=1.
std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                std::int64_t dilation, std::int64_t pad_begin, std::int64_t pad_end,
                                bool ceil_mode = false);

}  // namespace aquant::ir
