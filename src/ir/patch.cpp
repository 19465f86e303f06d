#include "aquant/ir/patch.h"

#include <algorithm>

namespace aquant::ir {

ValueId GraphPatch::add_value(const std::string& base_name, std::optional<TypeInfo> type) {
    Value v;
    v.name = g_.make_unique_name(base_name);
    v.type = std::move(type);
    return g_.add_value(std::move(v));
}

ValueId GraphPatch::add_initializer(const std::string& base_name, Tensor t) {
    return g_.add_initializer(g_.make_unique_name(base_name), std::move(t));
}

void GraphPatch::add_node(Node n) { added_.push_back(std::move(n)); }

void GraphPatch::remove_node(NodeId id) { removed_.push_back(id); }

void GraphPatch::replace_uses(ValueId from, ValueId to) { replaced_.emplace_back(from, to); }

void GraphPatch::set_input(NodeId node, std::size_t slot, ValueId v) {
    slot_edits_.push_back({node, slot, v, false});
}

void GraphPatch::set_output(NodeId node, std::size_t slot, ValueId v) {
    slot_edits_.push_back({node, slot, v, true});
}

void GraphPatch::apply() {
    // Replacements rewire the nodes that existed before the patch; added nodes keep their
    // inputs as written (so "insert X after v" is add_node(X(v) -> v2) + replace_uses(v, v2)).
    for (NodeId id : removed_) g_.node(id).removed = true;
    for (const auto& [from, to] : replaced_) {
        for (auto& n : g_.nodes()) {
            if (n.removed) continue;
            for (auto& in : n.inputs) {
                if (in == from) in = to;
            }
        }
        for (auto& out : g_.outputs) {
            if (out == from) out = to;
        }
    }
    for (const SlotEdit& e : slot_edits_) {
        auto& slots = e.output ? g_.node(e.node).outputs : g_.node(e.node).inputs;
        if (e.slot >= slots.size()) slots.resize(e.slot + 1);
        slots[e.slot] = e.value;
    }
    for (auto& n : added_) g_.add_node(std::move(n));
    added_.clear();
    slot_edits_.clear();
    removed_.clear();
    replaced_.clear();
    g_.rebuild_uses();
    g_.compact();
}

void remove_unused_initializers(Graph& g) {
    g.rebuild_uses();
    std::vector<ValueId> kept;
    for (ValueId v : g.initializers) {
        const bool used = !g.consumers(v).empty() ||
                          std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
        if (used) {
            kept.push_back(v);
        } else {
            g.value(v).initializer.reset();
            g.inputs.erase(std::remove(g.inputs.begin(), g.inputs.end(), v), g.inputs.end());
        }
    }
    g.initializers = std::move(kept);
}

}  // namespace aquant::ir
