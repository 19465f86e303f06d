// Every node-level error goes through here, so messages read
//   <file>: node '<name>' (<op>): <what>
#pragma once

#include <string>

#include "aquant/core/error.h"
#include "aquant/ir/graph.h"

namespace aquant::ir {

std::string node_label(const Graph& g, const Node& n);  // "<file>: node 'x' (Conv)"

[[noreturn]] inline void fail_at(const Graph& g, const Node& n, const std::string& what) {
    throw ModelError(node_label(g, n) + ": " + what);
}

}  // namespace aquant::ir
