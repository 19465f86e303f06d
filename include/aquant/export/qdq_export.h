// Applies a per-layer plan to a float model as QDQ (QuantizeLinear/DequantizeLinear) in the IR,
// the "tensor-oriented" format ONNX Runtime's quantizer writes and fuses into integer kernels:
// - Activations: 8-bit per tensor, int8 asymmetric (ONNX Runtime's quantize_static default for
//   the QDQ format: activation_type=QInt8 with ActivationSymmetric=False). One
//   QuantizeLinear -> DequantizeLinear pair per quantized tensor, on the activation input
//   (input 0) and the output (output 0) of each quantized layer, shared when a tensor feeds
//   several layers; every reader of the tensor then reads the DequantizeLinear output. A graph
//   output keeps its name (the producer writes to a renamed value that the pair reads).
// - Weights: quant/weight.h; stored codes -> DequantizeLinear -> the layer (no QuantizeLinear).
//   INT8 at opset >= 13; INT4 (b <= 4) needs opset 21, else with max_opset set below 21 it is
//   stored as INT8 and recorded as a decision. Per-block scales need opset 21. INT4 weights of
//   layers with quantized activations get a QuantizeLinear(int8) -> DequantizeLinear after their
//   DequantizeLinear (ExportPlan::int4_int8_compute), for ONNX Runtime's integer kernels.
// - Bias (Conv, ConvTranspose, Gemm with alpha = beta = 1): int32 codes -> DequantizeLinear with
//   scale s_in * s_w, when the layer's input is quantized and the weight is per tensor or per
//   channel; otherwise the bias stays float (recorded for block scales and Gemm alpha/beta).
// Layers missing from the plan, or planned at 0 bits, stay float. The caller folds constants
// (no weight may reach a layer through Reshape/Transpose) and raises the opset beforehand.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aquant/ir/graph.h"
#include "aquant/quant/range.h"
#include "aquant/quant/scheme.h"
#include "aquant/quant/weight.h"

namespace aquant::qdq {

struct ExportPlan {
    std::map<std::string, int> weight_bits;  // node name -> weight bits (2..8; 0 = keep float)
    int act_bits = 8;                        // 8, or 0 = weight-only (no activation QDQ)
    /// How every weight is quantized (quant/weight.h: the same as the sensitivity estimators).
    quant::WeightQuantConfig weights;
    /// Per activation tensor name (activation_tensors()), int8 asymmetric per-tensor params.
    std::map<std::string, quant::QuantParams> activation_params;
    /// 0: no limit. Below 21: INT4 weights are stored as INT8 (recorded).
    int max_opset = 0;
    /// INT4 weights (per tensor or per channel) of layers with quantized activations are written
    /// as INT4 -> DequantizeLinear -> QuantizeLinear(int8) -> DequantizeLinear: the stored codes
    /// stay INT4, and ONNX Runtime, which has no integer kernel for 4-bit weights, folds the
    /// chain into int8 weights and runs the layer with its integer kernels (QLinearConv, QGemm,
    /// QLinearMatMul) instead of in float. The chain is exact (INT4 codes fit int8). false: the
    /// INT4 DequantizeLinear alone.
    bool int4_int8_compute = true;
    /// How activation_params were calibrated ("mmse", ...): recorded in the plan, not used.
    std::string activation_range;
};

/// The scheme of every activation tensor: int8, asymmetric, per tensor.
quant::QuantScheme activation_scheme();

/// Something done other than what the plan asked for, or a format choice worth reporting.
struct Decision {
    std::string kind;  // "int4-as-int8", "bias-float", "opset-upgrade", ...
    std::string node;  // node name, or "" for the whole model
    std::string what;  // one line
};

struct LayerRecord {
    std::string name;    // node name
    std::string op;
    std::string weight;  // initializer name of the float weight
    std::int64_t params = 0;
    int weight_bits = 0;  // 0: float
    int act_bits = 0;     // 0: input/output activations not quantized
    std::string scheme;   // quant::scheme_str, "" for float
    std::string storage;  // "int8", "int4", "float"
    double weight_sqnr_db = 0;  // +inf for float layers
    std::int64_t bytes_fp32 = 0;    // weight (and bias) as float32
    std::int64_t bytes_stored = 0;  // as written: codes, scales, zero points, bias
    std::int64_t bytes_packed = 0;  // the same with codes packed at the true bit-width
    bool bias_quantized = false;
};

struct ExportResult {
    std::vector<LayerRecord> layers;  // every quantizable layer, topological order
    std::vector<Decision> decisions;
    int activation_pairs = 0;  // QuantizeLinear/DequantizeLinear pairs inserted
};

/// Activation tensors export_qdq will quantize (act_bits > 0): inputs and outputs of the
/// planned layers, each once, in topological order. Calibrate exactly these.
std::vector<std::string> activation_tensors(const ir::Graph& g, const ExportPlan& plan);

/// Rewrites `model` in place. Throws ConfigError for a bad plan (unknown node, bits outside
/// 2..8, act_bits not 0/8, block size, range name, missing activation params, an opset the plan
/// cannot be written at) and ModelError naming the node for a layer the rules cannot handle.
/// Raises ir_version to what the opset needs.
ExportResult export_qdq(ir::Model& model, const ExportPlan& plan);

/// Smallest IR version for a default-domain opset (ONNX versioning table: 13 -> 7, 15 -> 8,
/// 19 -> 9, 21 -> 10).
std::int64_t min_ir_version(std::int64_t opset);

}  // namespace aquant::qdq
