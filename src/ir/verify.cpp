#include "aquant/ir/verify.h"

#include <set>

#include "aquant/ir/diagnostics.h"

namespace aquant::ir {

void verify_graph(const Graph& g, const std::vector<std::string>& outer) {
    std::set<std::string> outer_names(outer.begin(), outer.end());
    for (NodeId id : g.node_ids()) {
        const Node& n = g.node(id);
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
            const ValueId in = n.inputs[i];
            if (!in.valid()) continue;
            const Value& v = g.value(in);
            const bool defined = v.producer.valid() || v.initializer || g.is_graph_input(in) ||
                                 outer_names.count(v.name);
            if (!defined) {
                fail_at(g, n, "input " + std::to_string(i) + " '" + v.name +
                                  "' is not produced by any node, graph input or initializer");
            }
        }
    }
    (void)g.topological_order();  // throws on a cycle
    for (ValueId out : g.outputs) {
        const Value& v = g.value(out);
        if (!v.producer.valid() && !v.initializer && !g.is_graph_input(out) &&
            !outer_names.count(v.name)) {
            throw ModelError((g.source_path.empty() ? "" : g.source_path + ": ") +
                             "graph output '" + v.name + "' is not produced by any node");
        }
    }
    // Sub-graphs see every name of this graph.
    std::vector<std::string> visible(outer.begin(), outer.end());
    for (std::size_t i = 0; i < g.num_values(); ++i) {
        visible.push_back(g.value(ValueId{static_cast<std::int32_t>(i)}).name);
    }
    for (NodeId id : g.node_ids()) {
        for (const Attribute& a : g.node(id).attributes) {
            if (a.g) verify_graph(*a.g, visible);
            for (const auto& sg : a.graphs) verify_graph(*sg, visible);
        }
    }
}

}  // namespace aquant::ir
