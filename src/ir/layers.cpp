#include "aquant/ir/layers.h"

#include <set>

namespace aquant::ir {
namespace {

bool is_default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Follows shape-only ops back to a constant; returns the constant value or an invalid id.
ValueId constant_source(const Graph& g, ValueId v, bool* via_chain) {
    static const std::set<std::string> kShapeOnly = {"Reshape", "Transpose", "Identity",
                                                     "Squeeze", "Unsqueeze", "Flatten"};
    for (int depth = 0; depth < 8 && v.valid(); ++depth) {
        if (g.constant(v)) return v;
        const NodeId p = g.producer(v);
        if (!p.valid()) return ValueId{};
        const Node& n = g.node(p);
        if (!is_default_domain(n) || !kShapeOnly.count(n.op_type)) return ValueId{};
        for (std::size_t i = 1; i < n.inputs.size(); ++i) {
            if (n.inputs[i].valid() && !g.constant(n.inputs[i])) return ValueId{};
        }
        *via_chain = true;
        v = n.inputs.empty() ? ValueId{} : n.inputs[0];
    }
    return ValueId{};
}

}  // namespace

std::vector<Layer> quantizable_layers(const Graph& g) {
    std::vector<Layer> layers;
    for (NodeId id : g.topological_order()) {
        const Node& n = g.node(id);
        if (!is_default_domain(n)) continue;
        int w = -1;
        int axis = 0;
        int reduction = 1;
        if (n.op_type == "Conv") {
            w = 1;
        } else if (n.op_type == "ConvTranspose") {
            w = 1;
            axis = 1;
            reduction = 0;
        } else if (n.op_type == "Gemm") {
            w = 1;
            axis = n.attr_int("transB", 0) ? 0 : 1;
            reduction = 1 - axis;
        } else if (n.op_type == "MatMul") {
            w = 1;
            axis = -1;  // last axis of B
            reduction = -2;
        } else {
            continue;
        }
        if (!n.has_input(static_cast<std::size_t>(w))) continue;
        Layer l;
        l.node = id;
        l.weight_input = w;
        l.weight = n.inputs[static_cast<std::size_t>(w)];
        l.weight_source = constant_source(g, l.weight, &l.via_chain);
        if (!l.weight_source.valid()) continue;
        const Tensor* t = g.constant(l.weight_source);
        if (!t || !dtype_traits(t->dtype()).is_float) continue;
        l.params = t->numel();
        l.channel_axis = axis;
        l.reduction_axis = reduction;
        layers.push_back(l);
    }
    return layers;
}

}  // namespace aquant::ir
