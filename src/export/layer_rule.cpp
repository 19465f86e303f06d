#include "aquant/export/layer_rule.h"

#include <string>

#include "aquant/ir/diagnostics.h"

namespace aquant::qdq {
namespace {

struct Rule {
    const char* op_type;
    std::size_t min_rank;
    WeightLayout (*layout)(const ir::Node& n, int rank);
};

const Rule kRules[] = {
    {"Conv", 3, [](const ir::Node&, int) { return WeightLayout{0, 1, 2}; }},
    {"ConvTranspose", 3, [](const ir::Node&, int) { return WeightLayout{1, 0, 2}; }},
    {"Gemm", 2,
     [](const ir::Node& n, int) {
         return n.attr_int("transB", 0) != 0 ? WeightLayout{0, 1, 2} : WeightLayout{1, 0, 2};
     }},
    {"MatMul", 2, [](const ir::Node&, int rank) { return WeightLayout{rank - 1, rank - 2, -1}; }},
};

}  // namespace

WeightLayout weight_layout(const ir::Graph& g, const ir::Node& node, std::size_t weight_rank) {
    for (const Rule& r : kRules) {
        if (node.op_type != r.op_type) continue;
        if (weight_rank < r.min_rank) {
            ir::fail_at(g, node,
                        "weight rank " + std::to_string(weight_rank) + ", expected at least " +
                            std::to_string(r.min_rank));
        }
        return r.layout(node, static_cast<int>(weight_rank));
    }
    ir::fail_at(g, node, "no QDQ weight rule for this op");
}

}  // namespace aquant::qdq
