#include "aquant/export/qdq_export.h"

#include <algorithm>
#include <set>

#include "aquant/ir/diagnostics.h"
#include "aquant/ir/layers.h"
#include "aquant/ir/patch.h"
#include "export/layer_export.h"
#include "export/qdq_nodes.h"

namespace aquant::qdq {

quant::QuantScheme activation_scheme() {
    quant::QuantScheme s;
    s.bits = 8;
    s.is_signed = true;
    s.symmetric = false;
    s.granularity = quant::Granularity::kTensor;
    return s;
}

std::int64_t min_ir_version(std::int64_t opset) {
    // ONNX docs/Versioning.md: the IR version each opset release shipped with.
    static const std::pair<std::int64_t, std::int64_t> kTable[] = {
        {21, 10}, {19, 9}, {15, 8}, {12, 7}, {11, 6}, {10, 5}, {9, 4}, {1, 3}};
    for (const auto& [first_opset, ir] : kTable) {
        if (opset >= first_opset) return ir;
    }
    return 3;
}

namespace {

int planned_bits(const ExportPlan& plan, const std::string& node) {
    auto it = plan.weight_bits.find(node);
    return it == plan.weight_bits.end() ? 0 : it->second;
}

std::string model_label(const ir::Graph& g) {
    return g.source_path.empty() ? std::string("model") : g.source_path;
}

void check_plan_names(const ir::Graph& g, const ExportPlan& plan,
                      const std::vector<ir::Layer>& layers) {
    std::set<std::string> names;
    for (const ir::Layer& l : layers) names.insert(g.node(l.node).name);
    for (const auto& [name, bits] : plan.weight_bits) {
        if (!names.count(name)) {
            std::string valid;
            for (const auto& n : names) valid += (valid.empty() ? "'" : ", '") + n + "'";
            throw ConfigError(model_label(g) + ": plan names node '" + name +
                              "', which is not a quantizable layer; layers: " + valid);
        }
        if (bits != 0 && (bits < 2 || bits > 8)) {
            throw ConfigError(model_label(g) + ": node '" + name + "': weight bits " +
                              std::to_string(bits) + ", expected 0 (float) or 2..8");
        }
    }
}

void check_plan_options(const ExportPlan& plan) {
    if (plan.act_bits != 0 && plan.act_bits != 8) {
        throw ConfigError("activation bits " + std::to_string(plan.act_bits) +
                          ", expected 8 or none");
    }
    if (plan.weights.granularity == quant::Granularity::kBlock && plan.weights.block_size < 1) {
        throw ConfigError("block granularity: block size " + std::to_string(plan.weights.block_size) +
                          ", expected >= 1");
    }
    quant::range_estimator(plan.weights.range);  // ConfigError listing the valid names
    quant::validate_range_options(plan.weights.range_options);
}

void check_activation_params(const ir::Graph& g, const ExportPlan& plan,
                             const std::vector<std::string>& tensors) {
    const quant::QuantScheme want = activation_scheme();
    for (const auto& name : tensors) {
        auto it = plan.activation_params.find(name);
        if (it == plan.activation_params.end()) {
            throw ConfigError(model_label(g) + ": no calibrated parameters for activation '" +
                              name + "'");
        }
        if (it->second.scheme != want || it->second.num_groups() != 1) {
            throw ConfigError(model_label(g) + ": activation '" + name + "': parameters " +
                              quant::scheme_str(it->second.scheme) + ", expected " +
                              quant::scheme_str(want));
        }
    }
}

// Whether the opset can hold the plan; sets *int4_as_int8 when INT4 must be stored as INT8.
void check_opset(const ir::Model& model, const ExportPlan& plan, bool needs_int4,
                 bool* int4_as_int8) {
    const ir::Graph& g = *model.graph;
    const std::int64_t opset = model.opset();
    if (opset < 13) {
        throw ModelError(model_label(g) + ": QDQ export needs default-domain opset >= 13 "
                                          "(per-channel DequantizeLinear), got " +
                         std::to_string(opset) + "; convert the model first");
    }
    if (plan.max_opset != 0 && opset > plan.max_opset) {
        throw ConfigError(model_label(g) + ": model opset " + std::to_string(opset) +
                          " is above max opset " + std::to_string(plan.max_opset));
    }
    if (plan.weights.granularity == quant::Granularity::kBlock && opset < 21) {
        throw ConfigError(model_label(g) + ": per-block weight scales need opset 21 "
                                           "(DequantizeLinear block_size), model has opset " +
                          std::to_string(opset));
    }
    *int4_as_int8 = false;
    if (!needs_int4 || opset >= 21) return;
    if (plan.max_opset != 0 && plan.max_opset < 21) {
        *int4_as_int8 = true;
        return;
    }
    throw ConfigError(model_label(g) + ": INT4 weights need opset 21, model has opset " +
                      std::to_string(opset) + "; raise the opset first or set a max opset below 21");
}

}  // namespace

std::vector<std::string> activation_tensors(const ir::Graph& g, const ExportPlan& plan) {
    std::vector<std::string> out;
    if (plan.act_bits == 0) return out;
    auto add = [&](ir::ValueId v) {
        if (!v.valid() || g.constant(v)) return;
        const std::string& name = g.value(v).name;
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    };
    for (const ir::Layer& l : ir::quantizable_layers(g)) {
        const ir::Node& n = g.node(l.node);
        if (planned_bits(plan, n.name) == 0) continue;
        add(n.inputs.empty() ? ir::ValueId{} : n.inputs[0]);
        add(n.outputs.empty() ? ir::ValueId{} : n.outputs[0]);
    }
    return out;
}

ExportResult export_qdq(ir::Model& model, const ExportPlan& plan) {
    ir::Graph& g = *model.graph;
    g.rebuild_uses();
    const std::vector<ir::Layer> layers = ir::quantizable_layers(g);
    check_plan_options(plan);
    check_plan_names(g, plan, layers);
    const std::vector<std::string> tensors = activation_tensors(g, plan);
    check_activation_params(g, plan, tensors);
    bool needs_int4 = false;
    for (const ir::Layer& l : layers) {
        const int b = planned_bits(plan, g.node(l.node).name);
        needs_int4 = needs_int4 || (b != 0 && b <= 4);
    }
    ExportResult result;
    ir::GraphPatch patch(g);
    detail::LayerExportContext lctx{g, patch, plan, false, result.decisions};
    check_opset(model, plan, needs_int4, &lctx.int4_as_int8);
    for (const ir::Layer& l : layers) {
        const int bits = planned_bits(plan, g.node(l.node).name);
        result.layers.push_back(bits == 0 ? detail::float_layer_record(g, l)
                                          : detail::export_layer(lctx, l, bits));
    }
    if (lctx.int8_requantized > 0) {
        result.decisions.push_back(
            {"int4-int8-compute", "",
             std::to_string(lctx.int8_requantized) +
                 " INT4 weights also pass QuantizeLinear(int8) -> DequantizeLinear, which ONNX "
                 "Runtime folds into int8 weights for its integer kernels (stored as INT4; "
                 "--int4-compute float leaves the chain out)"});
    }
    for (const std::string& name : tensors) {
        detail::insert_activation_pair(g, patch, *g.find_value(name),
                                       plan.activation_params.at(name));
        ++result.activation_pairs;
    }
    patch.apply();
    ir::remove_unused_initializers(g);
    model.ir_version = std::max(model.ir_version, min_ir_version(model.opset()));
    return result;
}

}  // namespace aquant::qdq
