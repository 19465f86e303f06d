#include "aquant/pipeline/opset_upgrade.h"

#include <algorithm>
#include <set>

#include "aquant/core/error.h"
#include "aquant/export/qdq_export.h"
#include "aquant/ir/patch.h"

namespace aquant::pipeline {
namespace {

constexpr std::int64_t kMinSource = 13;
constexpr std::int64_t kMaxTarget = 21;

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

std::string label(const ir::Node& n) { return "'" + n.name + "' (" + n.op_type + ")"; }

struct UpgradeContext {
    ir::Graph& graph;
    ir::GraphPatch& patch;
    std::vector<std::string>& rewrites;
    std::vector<std::string>& unsupported;
};

using Rewrite = void (*)(UpgradeContext& ctx, ir::NodeId id);

void reduce_axes_to_input(UpgradeContext& ctx, ir::NodeId id) {
    ir::Node& n = ctx.graph.node(id);
    auto it = std::find_if(n.attributes.begin(), n.attributes.end(),
                           [](const ir::Attribute& a) { return a.name == "axes"; });
    if (it == n.attributes.end()) return;  // no axes: reduce all, same at 18
    const std::vector<std::int64_t> axes = it->ints;
    n.attributes.erase(it);
    const auto count = static_cast<std::int64_t>(axes.size());
    const ir::ValueId v = ctx.patch.add_initializer(
        (n.name.empty() ? n.op_type : n.name) + "_axes",
        Tensor::from_vector<std::int64_t>({count}, axes));
    ctx.patch.set_input(id, 1, v);
    ctx.rewrites.push_back(label(n) + ": axes attribute -> input");
}

void split_num_outputs(UpgradeContext& ctx, ir::NodeId id) {
    ir::Node& n = ctx.graph.node(id);
    if (n.has_input(1) || n.find_attr("num_outputs")) return;
    ir::Attribute a;
    a.name = "num_outputs";
    a.type = ir::AttrType::kInt;
    a.i = static_cast<std::int64_t>(n.outputs.size());
    n.attributes.push_back(a);
    ctx.rewrites.push_back(label(n) + ": num_outputs = " + std::to_string(a.i));
}

void roi_align_mode(UpgradeContext& ctx, ir::NodeId id) {
    ir::Node& n = ctx.graph.node(id);
    if (n.find_attr("coordinate_transformation_mode")) return;
    ir::Attribute a;
    a.name = "coordinate_transformation_mode";
    a.type = ir::AttrType::kString;
    a.s = "output_half_pixel";
    n.attributes.push_back(a);
    ctx.rewrites.push_back(label(n) + ": coordinate_transformation_mode = output_half_pixel");
}

void grid_sample_mode(UpgradeContext& ctx, ir::NodeId id) {
    ir::Node& n = ctx.graph.node(id);
    for (ir::Attribute& a : n.attributes) {
        if (a.name != "mode") continue;
        const std::string old = a.s;
        if (a.s == "bilinear") a.s = "linear";
        if (a.s == "bicubic") a.s = "cubic";
        if (a.s != old) ctx.rewrites.push_back(label(n) + ": mode " + old + " -> " + a.s);
    }
}

void batch_norm_outputs(UpgradeContext& ctx, ir::NodeId id) {
    const ir::Node& n = ctx.graph.node(id);
    for (std::size_t i = 3; i < n.outputs.size(); ++i) {
        if (n.outputs[i].valid()) {
            ctx.unsupported.push_back(label(n) + ": saved mean/variance outputs (removed in 14)");
            return;
        }
    }
}

void no_rule(UpgradeContext& ctx, ir::NodeId id) {
    ctx.unsupported.push_back(label(ctx.graph.node(id)) + ": semantics changed, no rewrite rule");
}

struct Rule {
    const char* op_type;
    std::int64_t since;  // the opset whose version of the op changed the signature
    Rewrite rewrite;
    bool check_only = false;  // only reports unsupported nodes; run before any rewrite
};

const Rule kRules[] = {
    {"ReduceL1", 18, reduce_axes_to_input},     {"ReduceL2", 18, reduce_axes_to_input},
    {"ReduceLogSum", 18, reduce_axes_to_input}, {"ReduceLogSumExp", 18, reduce_axes_to_input},
    {"ReduceMax", 18, reduce_axes_to_input},    {"ReduceMean", 18, reduce_axes_to_input},
    {"ReduceMin", 18, reduce_axes_to_input},    {"ReduceProd", 18, reduce_axes_to_input},
    {"ReduceSumSquare", 18, reduce_axes_to_input},
    {"Split", 18, split_num_outputs},           {"RoiAlign", 16, roi_align_mode},
    {"GridSample", 20, grid_sample_mode},       {"BatchNormalization", 14, batch_norm_outputs, true},
    {"DFT", 20, no_rule, true},                 {"GroupNormalization", 21, no_rule, true},
};

// One pass over `g` and its sub-graphs running the rules with check_only == checks.
void upgrade_graph(ir::Graph& g, std::int64_t from, std::int64_t to, bool checks,
                   std::vector<std::string>& rewrites, std::vector<std::string>& unsupported) {
    ir::GraphPatch patch(g);
    UpgradeContext ctx{g, patch, rewrites, unsupported};
    for (ir::NodeId id : g.node_ids()) {
        ir::Node& n = g.node(id);
        for (ir::Attribute& a : n.attributes) {
            if (a.g) upgrade_graph(*a.g, from, to, checks, rewrites, unsupported);
            for (auto& sg : a.graphs) upgrade_graph(*sg, from, to, checks, rewrites, unsupported);
        }
        if (!is_default_domain(n.domain)) continue;
        for (const Rule& r : kRules) {
            if (r.check_only == checks && n.op_type == r.op_type && from < r.since &&
                to >= r.since) {
                r.rewrite(ctx, id);
            }
        }
    }
    if (!checks) patch.apply();
}

}  // namespace

OpsetUpgrade upgrade_opset(ir::Model& model, std::int64_t target) {
    OpsetUpgrade result;
    result.from = model.opset();
    result.to = target;
    const std::string file =
        model.graph->source_path.empty() ? "model" : model.graph->source_path;
    if (target > kMaxTarget || target < result.from) {
        throw ConfigError(file + ": opset upgrade to " + std::to_string(target) +
                          ", expected between the model's opset " + std::to_string(result.from) +
                          " and " + std::to_string(kMaxTarget));
    }
    if (result.from < kMinSource) {
        throw ModelError(file + ": opset upgrade from " + std::to_string(result.from) +
                         ": needs opset >= 13 first (io::convert_opset)");
    }
    if (target == result.from) return result;
    std::vector<std::string> unsupported;
    upgrade_graph(*model.graph, result.from, target, true, result.rewrites, unsupported);
    if (!unsupported.empty()) {
        std::string list;
        for (const auto& u : unsupported) list += "\n  " + u;
        throw ModelError(file + ": cannot upgrade opset " + std::to_string(result.from) + " to " +
                         std::to_string(target) + ":" + list);
    }
    upgrade_graph(*model.graph, result.from, target, false, result.rewrites, unsupported);
    model.set_opset("", target);
    model.ir_version = std::max(model.ir_version, qdq::min_ir_version(target));
    return result;
}

}  // namespace aquant::pipeline
