#pragma once

#include "aquant/ir/graph.h"

namespace aquant::ir {

/// Structural checks: every node input is produced by a node, a graph input, an initializer or
/// (inside sub-graphs) an outer scope; no cycles; graph outputs exist. Throws ModelError naming
/// the file, node and value. `outer` lists names visible from enclosing graphs.
void verify_graph(const Graph& g, const std::vector<std::string>& outer = {});

}  // namespace aquant::ir
