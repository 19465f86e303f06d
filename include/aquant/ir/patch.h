// Graph edits are recorded in a GraphPatch and applied at once, so passes never hand-edit
// producer/consumer lists.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aquant/ir/graph.h"

namespace aquant::ir {

class GraphPatch {
public:
    explicit GraphPatch(Graph& g) : g_(g) {}

    /// A new value (name made unique against the graph).
    ValueId add_value(const std::string& base_name, std::optional<TypeInfo> type = std::nullopt);
    ValueId add_initializer(const std::string& base_name, Tensor t);
    /// Queues a node; its inputs/outputs may be new or existing values.
    void add_node(Node n);
    void remove_node(NodeId id);
    /// Every use of `from` by a node that existed before this patch, and by graph outputs,
    /// becomes `to`. Nodes added through this patch keep their inputs as written.
    void replace_uses(ValueId from, ValueId to);
    /// Input / output `slot` of one existing node becomes `v` (applied after replace_uses, so
    /// an explicit edit wins). Used to rewire a single consumer, or to rename what a node
    /// produces (the old output value is left without a producer).
    void set_input(NodeId node, std::size_t slot, ValueId v);
    void set_output(NodeId node, std::size_t slot, ValueId v);

    /// Applies all edits, rebuilds uses and re-sorts topologically.
    void apply();

private:
    Graph& g_;
    std::vector<Node> added_;
    std::vector<NodeId> removed_;
    std::vector<std::pair<ValueId, ValueId>> replaced_;
    struct SlotEdit {
        NodeId node;
        std::size_t slot;
        ValueId value;
        bool output;
    };
    std::vector<SlotEdit> slot_edits_;
};

/// Drops initializers and values nothing uses any more (keeps graph inputs/outputs).
void remove_unused_initializers(Graph& g);

}  // namespace aquant::ir
