#include "aquant/pipeline/fold_constants.h"

#include <set>

#include "aquant/core/log.h"
#include "aquant/engine/kernel_registry.h"
#include "aquant/ir/patch.h"

namespace aquant::pipeline {
namespace {

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

bool never_folded(const ir::Node& n) {
    static const std::set<std::string> kOps = {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "RandomNormal",
        "RandomUniform",  "RandomNormalLike", "RandomUniformLike",     "Multinomial",
        "Bernoulli"};
    if (kOps.count(n.op_type)) return true;
    for (const ir::Attribute& a : n.attributes) {
        if (a.g || !a.graphs.empty()) return true;
    }
    return false;
}

bool all_inputs_constant(const ir::Graph& g, const ir::Node& n) {
    for (ir::ValueId v : n.inputs) {
        if (v.valid() && !g.constant(v)) return false;
    }
    return true;
}

bool writes_graph_output(const ir::Graph& g, const ir::Node& n) {
    for (ir::ValueId v : n.outputs) {
        for (ir::ValueId o : g.outputs) {
            if (v.valid() && v == o) return true;
        }
    }
    return false;
}

std::string label(const ir::Node& n) { return "'" + n.name + "' (" + n.op_type + ")"; }

// Runs one node on its constant inputs; empty on failure (with the reason in *why).
std::vector<Tensor> run_node(const ir::Graph& g, const ir::Node& n,
                             const std::map<std::string, std::int64_t>& opsets,
                             std::string* why) {
    const engine::KernelFactory* factory = engine::kernel_registry().find(n.op_type, n.domain);
    if (!factory) {
        *why = "no kernel";
        return {};
    }
    std::vector<const Tensor*> inputs;
    for (ir::ValueId v : n.inputs) inputs.push_back(v.valid() ? g.constant(v) : nullptr);
    std::vector<Tensor> outputs(n.outputs.size());
    try {
        auto it = opsets.find(is_default_domain(n.domain) ? std::string() : n.domain);
        engine::KernelBuildInfo info{g, n, it == opsets.end() ? 0 : it->second, &opsets};
        engine::KernelPtr kernel = (*factory)(info);
        engine::KernelContext ctx(g, n, inputs, outputs, nullptr);
        kernel->run(ctx);
    } catch (const Error& e) {
        *why = e.what();
        return {};
    }
    return outputs;
}

}  // namespace

FoldResult fold_constants(ir::Model& model, const FoldOptions& options) {
    ir::Graph& g = *model.graph;
    g.rebuild_uses();
    std::map<std::string, std::int64_t> opsets;
    for (const auto& o : model.opset_import) {
        opsets[is_default_domain(o.domain) ? std::string() : o.domain] = o.version;
    }
    FoldResult result;
    ir::GraphPatch patch(g);
    std::vector<std::pair<ir::ValueId, Tensor>> folded;
    for (ir::NodeId id : g.topological_order()) {
        const ir::Node& n = g.node(id);
        if (!all_inputs_constant(g, n) || never_folded(n)) continue;
        if (writes_graph_output(g, n)) {
            result.skipped.push_back(label(n) + ": writes a graph output");
            continue;
        }
        std::string why;
        std::vector<Tensor> outs = run_node(g, n, opsets, &why);
        std::int64_t bytes = 0;
        for (const Tensor& t : outs) bytes += static_cast<std::int64_t>(t.size_bytes());
        if (!outs.empty() && bytes > options.max_output_bytes) {
            why = "result of " + std::to_string(bytes) + " bytes is above the folding limit";
            outs.clear();
        }
        if (outs.empty()) {
            result.skipped.push_back(label(n) + ": " + why);
            continue;
        }
        for (std::size_t i = 0; i < outs.size(); ++i) {
            if (!n.outputs[i].valid()) continue;
            // Visible to later nodes as a constant right away; listed as an initializer below.
            g.value(n.outputs[i]).initializer = outs[i];
            folded.emplace_back(n.outputs[i], outs[i]);
        }
        patch.remove_node(id);
        ++result.folded;
    }
    if (result.folded == 0) return result;
    patch.apply();
    for (auto& [v, t] : folded) g.add_initializer(g.value(v).name, std::move(t));
    ir::remove_unused_initializers(g);
    logger().debug("fold constants: {} nodes folded, {} kept", result.folded,
                   result.skipped.size());
    return result;
}

}  // namespace aquant::pipeline
