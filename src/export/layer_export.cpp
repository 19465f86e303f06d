#include "export/layer_export.h"

#include <limits>
#include <optional>

#include "aquant/export/layer_rule.h"
#include "aquant/export/weight_quant.h"
#include "aquant/quant/weight.h"
#include "aquant/ir/diagnostics.h"
#include "export/qdq_nodes.h"

namespace aquant::qdq::detail {
namespace {

// The constant float32 bias, if any. Returned by value: queued initializers may reallocate the
// graph's value table, so no reference into it is held across patch edits.
std::optional<Tensor> bias_of(const ir::Graph& g, const ir::Node& n, const WeightLayout& layout) {
    if (layout.bias_input < 0 || !n.has_input(static_cast<std::size_t>(layout.bias_input))) {
        return std::nullopt;
    }
    const Tensor* b = g.constant(n.inputs[static_cast<std::size_t>(layout.bias_input)]);
    if (!b || b->dtype() != DType::kF32) return std::nullopt;
    return *b;
}

Tensor float_weight(const ir::Graph& g, const ir::Node& n, const ir::Layer& layer) {
    if (layer.via_chain) {
        ir::fail_at(g, n, "weight '" + g.value(layer.weight).name +
                              "' reaches the node through shape-only ops; fold constants first");
    }
    const Tensor* w = g.constant(layer.weight);
    if (!w) ir::fail_at(g, n, "weight '" + g.value(layer.weight).name + "' is not a constant");
    if (w->dtype() != DType::kF32) {
        ir::fail_at(g, n, "weight '" + g.value(layer.weight).name + "': type " +
                              std::string(dtype_name(w->dtype())) + ", expected float");
    }
    return *w;
}

// Why the bias stays float, or "" when it can be quantized.
std::string bias_float_reason(const ExportPlan& plan, const ir::Node& n, const Tensor& bias,
                              std::int64_t channels) {
    if (plan.weights.granularity == quant::Granularity::kBlock) return "per-block weight scales";
    if (bias.numel() != channels || bias.rank() > 1) {
        return "bias of shape " + dims_str(bias.dims()) + " is not one value per output channel";
    }
    if (n.op_type == "Gemm" && (n.attr_float("alpha", 1.0f) != 1.0f ||
                                n.attr_float("beta", 1.0f) != 1.0f)) {
        return "Gemm alpha/beta differ from 1";
    }
    return "";
}

struct BiasOutcome {
    bool quantized = false;
    std::int64_t bytes = 0;  // as written
};

BiasOutcome export_bias(LayerExportContext& ctx, ir::NodeId id, const WeightLayout& layout,
                        const Tensor& bias, const quant::QuantParams& wparams,
                        std::int64_t channels) {
    const ir::Node& n = ctx.graph.node(id);
    const std::int64_t float_bytes = 4 * bias.numel();
    if (ctx.plan.act_bits == 0) return {false, float_bytes};
    std::string reason = bias_float_reason(ctx.plan, n, bias, channels);
    QuantizedBias qb;
    const auto in = ctx.plan.activation_params.find(ctx.graph.value(n.inputs[0]).name);
    if (reason.empty() && in == ctx.plan.activation_params.end()) reason = "input not quantized";
    if (reason.empty()) {
        qb = quantize_bias(bias, in->second.scale.at(0), wparams.scale);
        if (!qb.codes.defined()) reason = "input scale x weight scale underflows float32";
    }
    if (!reason.empty()) {
        ctx.decisions.push_back({"bias-float", n.name, "bias kept float: " + reason});
        return {false, float_bytes};
    }
    const auto b_in = static_cast<std::size_t>(layout.bias_input);
    const std::string base = ctx.graph.value(n.inputs[b_in]).name;
    ctx.patch.set_input(id, b_in, add_dequantized_bias(ctx.patch, base, qb.codes, qb.scale));
    const auto groups = static_cast<std::int64_t>(qb.scale.size());
    return {true, 4 * bias.numel() + 8 * groups};  // codes, scales, int32 zero points
}

}  // namespace

LayerRecord float_layer_record(const ir::Graph& g, const ir::Layer& layer) {
    const ir::Node& n = g.node(layer.node);
    LayerRecord r;
    r.name = n.name;
    r.op = n.op_type;
    r.weight = g.value(layer.weight_source).name;
    r.params = layer.params;
    r.storage = "float";
    r.weight_sqnr_db = std::numeric_limits<double>::infinity();
    r.bytes_fp32 = 4 * layer.params;
    if (const Tensor* w = g.constant(layer.weight_source)) {
        const WeightLayout layout = weight_layout(g, n, w->rank());
        if (const auto b = bias_of(g, n, layout)) r.bytes_fp32 += 4 * b->numel();
    }
    r.bytes_stored = r.bytes_fp32;
    r.bytes_packed = r.bytes_fp32;
    return r;
}

LayerRecord export_layer(LayerExportContext& ctx, const ir::Layer& layer, int bits) {
    const ir::Graph& g = ctx.graph;
    const ir::Node& n = g.node(layer.node);
    const Tensor w = float_weight(g, n, layer);
    const WeightLayout layout = weight_layout(g, n, w.rank());
    DType storage = DType::kI8;
    if (bits <= 4 && !ctx.int4_as_int8) storage = DType::kI4;
    if (bits <= 4 && ctx.int4_as_int8) {
        ctx.decisions.push_back({"int4-as-int8", n.name,
                                 std::to_string(bits) + "-bit weights stored as INT8 (max opset " +
                                     std::to_string(ctx.plan.max_opset) + " has no INT4)"});
    }
    const quant::QuantizedWeight qw = quant::quantize_weight(
        w, bits, ctx.plan.weights, {layout.channel_axis, layout.reduction_axis}, storage);
    const std::string wname = g.value(layer.weight).name;
    ir::ValueId wscale;
    ir::ValueId wdq = add_dequantized_constant(ctx.patch, wname, qw.codes, qw.params, &wscale);
    if (dtype_is_4bit(qw.codes.dtype()) && ctx.plan.int4_int8_compute && ctx.plan.act_bits != 0 &&
        qw.params.scheme.granularity != quant::Granularity::kBlock) {
        wdq = add_int8_requantization(ctx.patch, wname, wdq, wscale, qw.params);
        ++ctx.int8_requantized;
    }
    ctx.patch.set_input(layer.node, static_cast<std::size_t>(layer.weight_input), wdq);

    LayerRecord r = float_layer_record(g, layer);
    r.weight_bits = bits;
    r.act_bits = ctx.plan.act_bits;
    r.scheme = quant::scheme_str(qw.params.scheme);
    r.storage = std::string(dtype_name(storage));
    r.weight_sqnr_db = qw.sqnr_db;
    r.bytes_stored = qw.bytes_stored;
    r.bytes_packed = qw.bytes_packed;
    const std::int64_t channels = w.dim(static_cast<std::size_t>(layout.channel_axis));
    if (const auto b = bias_of(g, n, layout)) {
        const BiasOutcome bo = export_bias(ctx, layer.node, layout, *b, qw.params, channels);
        r.bias_quantized = bo.quantized;
        r.bytes_stored += bo.bytes;
        r.bytes_packed += bo.bytes;
    }
    return r;
}

}  // namespace aquant::qdq::detail
