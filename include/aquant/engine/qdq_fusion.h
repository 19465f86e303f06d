// The QDQ -> integer-kernel graph pass. A QDQ model (ONNX "tensor-oriented" quantization, as
// aquant's exporter and ONNX Runtime's quantizer write it) computes every quantized layer in
// float between DequantizeLinear and QuantizeLinear nodes:
//
//   x_q                     -> DequantizeLinear(s_x, z_x)       -> input 0 of the layer
//   W_q (constant)          -> DequantizeLinear(s_w, z_w, axis) -> input 1
//   bias_q (constant int32) -> DequantizeLinear(s_b)            -> input 2 (optional)
//   layer (Conv / Gemm / MatMul) -> y -> QuantizeLinear(s_y, z_y) -> y_q -> DequantizeLinear -> ...
//
// fuse_qdq() replaces DequantizeLinear(x) + the layer + QuantizeLinear(y) by one integer node
// that reads x_q and writes y_q:
//   Conv         -> ONNX QLinearConv (opset 10 semantics; a model ONNX Runtime also runs)
//   Gemm, MatMul -> ai.aquant QLinearGemm (src/engine/kernels/qlinear_gemm.cpp; domain
//                   "ai.aquant" version 1 is added to the opset imports)
// The integer node accumulates (x_q - z_x) * (W_q - z_w[c]) in int32, adds the int32 bias and
// requantizes as ONNX Runtime does: y_q = saturate(round_half_even(float(acc) * M[c]) + z_y),
// M[c] = (s_x * s_w[c]) / s_y in float32. Against the float QDQ graph this differs only by float
// rounding of the sum before QuantizeLinear: outputs agree exactly on almost every element and
// are at most one quantization step apart (tests/engine/qdq_fusion_int_test.cpp measures it).
//
// A layer is fused when: x_q is uint8 / int8 with per-tensor s_x, z_x; W_q is a constant
// int8 / uint8 / int4 / uint4 initializer (4-bit codes, incl. 2- and 3-bit ones stored as INT4,
// are unpacked to 8-bit at fusion time) with per-tensor or per-output-channel s_w, z_w (no
// block_size); the bias, if any, is a constant int32 DequantizeLinear with zero point 0 and
// scale s_x * s_w[c] (relative difference <= 1e-5); the layer's only consumer is one
// QuantizeLinear with per-tensor uint8 / int8 parameters, and its output is not a graph output;
// Gemm has transA = 0, alpha = beta = 1 and a 1-D bias; MatMul has a 2-D weight. Constant
// scales and zero points are required throughout. Any other Conv / Gemm / MatMul whose input is a
// DequantizeLinear output stays in float and is listed in the report with the reason.
// DequantizeLinear nodes left without consumers are removed, then unused initializers.
// Only the main graph is rewritten (not If / Loop bodies).
#pragma once

#include <string>
#include <vector>

#include "aquant/ir/graph.h"

namespace aquant::engine {

struct QdqFusionOptions {
    bool conv = true;  // Conv -> QLinearConv
    bool gemm = true;  // Gemm / MatMul -> ai.aquant.QLinearGemm
};

struct QdqFusionReport {
    struct Fused {
        std::string node;     // name of the float layer replaced
        std::string op_type;  // its op ("Conv", "Gemm", "MatMul")
        std::string fused_op;  // "QLinearConv" or "ai.aquant.QLinearGemm"
        std::string weight_type;  // stored weight type before unpacking ("int8", "int4", ...)
        bool per_channel = false;
        bool bias = false;
    };
    struct Skipped {
        std::string node;
        std::string op_type;
        std::string reason;  // "the output feeds 2 nodes, expected one QuantizeLinear"
    };
    std::vector<Fused> fused;
    std::vector<Skipped> skipped;
    int removed_nodes = 0;  // float layers, QuantizeLinear and dead DequantizeLinear nodes

    std::string summary() const;  // "3 layers fused (QLinearConv 2, QLinearGemm 1), 1 kept in float"
};

/// Rewrites model.graph in place (see the file comment). Deterministic: layers are visited in
/// topological order.
QdqFusionReport fuse_qdq(ir::Model& model, const QdqFusionOptions& options = {});

}  // namespace aquant::engine
