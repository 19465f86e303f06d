#include <set>

#include "aquant/core/log.h"
#include "aquant/export/bn_fold.h"
#include "aquant/io/version_convert.h"
#include "aquant/pipeline/fold_constants.h"
#include "aquant/pipeline/opset_upgrade.h"
#include "quantize_steps.h"

namespace aquant::pipeline::detail {
namespace {

constexpr std::int64_t kQdqMinOpset = 13;  // per-channel QuantizeLinear/DequantizeLinear
constexpr std::int64_t kInt4Opset = 21;    // INT4 tensors, DequantizeLinear block_size

// Plans, reports and errors name layers by node name, so every node needs a distinct one.
int name_unnamed_nodes(ir::Graph& g) {
    std::set<std::string> used;
    for (const ir::Node& n : g.nodes()) used.insert(n.name);
    int named = 0;
    for (ir::Node& n : g.nodes()) {
        if (n.removed || !n.name.empty()) continue;
        int k = 0;
        std::string candidate;
        do {
            candidate = n.op_type + "_" + std::to_string(k++);
        } while (used.count(candidate));
        n.name = candidate;
        used.insert(candidate);
        ++named;
    }
    return named;
}

}  // namespace

void prepare_float_model(ir::Model& model, std::vector<qdq::Decision>& decisions) {
    const std::int64_t opset = model.opset();
    if (opset < kQdqMinOpset) {
        io::convert_opset(model, kQdqMinOpset);
        decisions.push_back({"opset-convert", "",
                             "opset " + std::to_string(opset) + " converted to " +
                                 std::to_string(kQdqMinOpset) +
                                 " (per-channel QDQ) by ONNX 1.12's version converter"});
    }
    if (const int named = name_unnamed_nodes(*model.graph)) {
        decisions.push_back({"node-names", "", std::to_string(named) + " unnamed nodes named <op>_<k>"});
    }
    const FoldResult folded = fold_constants(model);
    const qdq::BnFoldResult bn = qdq::fold_batch_norms(*model.graph);
    logger().info("prepare: {} constant nodes folded, {} BatchNormalization folded into Conv",
                  folded.folded, bn.folded);
    for (const std::string& k : bn.kept) {
        logger().debug("prepare: BatchNormalization {} kept", k);
    }
}

void raise_opset_for_plan(ir::Model& model, const qdq::ExportPlan& plan,
                          std::vector<qdq::Decision>& decisions) {
    bool int4 = false;
    for (const auto& [name, bits] : plan.weight_bits) int4 = int4 || (bits > 0 && bits <= 4);
    const bool block = plan.weights.granularity == quant::Granularity::kBlock;
    const bool limited = plan.max_opset != 0 && plan.max_opset < kInt4Opset;
    if (!(int4 || block) || model.opset() >= kInt4Opset) return;
    if (block && limited) {
        throw ConfigError("--granularity block needs opset 21 (DequantizeLinear block_size), "
                          "but --max-opset is " +
                          std::to_string(plan.max_opset));
    }
    if (limited) return;  // INT4 stored as INT8: export records it per layer
    const OpsetUpgrade up = upgrade_opset(model, kInt4Opset);
    std::string what = "opset " + std::to_string(up.from) + " raised to " +
                       std::to_string(up.to) + (int4 ? " for INT4 weights" : " for block scales");
    if (!up.rewrites.empty()) what += "; " + std::to_string(up.rewrites.size()) + " nodes rewritten";
    decisions.push_back({"opset-upgrade", "", what});
    for (const std::string& r : up.rewrites) decisions.push_back({"opset-rewrite", "", r});
}

}  // namespace aquant::pipeline::detail
