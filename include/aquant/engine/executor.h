// Runs an ir::Model with the registered kernels. Construction builds every kernel once and
// throws one ModelError listing every unsupported node. run() executes nodes in topological
// order, frees each intermediate buffer after its last use, and uses parallel_for inside
// kernels (results are identical for any thread count).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "aquant/engine/kernel.h"
#include "aquant/ir/graph.h"

namespace aquant::engine {

/// Values by ValueId index. Entries present when run() starts are taken as given (cached
/// activations): only nodes needed for the wanted values and not already computed are run.
using ValueMap = std::unordered_map<std::int32_t, Tensor>;

/// Called after each node with the node and its outputs (calibration observers, tracing).
using NodeHook = std::function<void(const ir::Node&, const std::vector<Tensor>&)>;

struct RunOptions {
    NodeHook hook;
    bool keep_intermediates = false;  // keep every computed value in the map
    /// The hook may see the fused graph's nodes (FusedConv for Conv + activation, ...; see
    /// set_fusion) instead of the model's: for profiling the plain-run path.
    bool hook_sees_fused = false;
};

/// Figures of the last run() (tests, `aquant bench`).
struct RunStats {
    std::int64_t nodes_run = 0;
    std::int64_t peak_live_values = 0;  // computed values alive at once (feeds not counted)
    std::int64_t peak_live_bytes = 0;
    std::int64_t buffers_reused = 0;  // outputs that got a recycled buffer
};

class Executor {
public:
    explicit Executor(std::shared_ptr<const ir::Model> model);
    /// For sub-graphs: `opsets` from the enclosing model; outer-scope names resolve through
    /// the values passed to run().
    Executor(std::shared_ptr<const ir::Graph> graph, std::map<std::string, std::int64_t> opsets);
    ~Executor();

    const ir::Graph& graph() const { return *graph_; }

    /// Runs with feeds by graph-input name; returns the graph outputs in order.
    std::vector<Tensor> run(const std::map<std::string, Tensor>& feeds);
    /// General form: computes `wanted` (graph outputs when empty) into `values`.
    void run(ValueMap& values, const std::vector<ir::ValueId>& wanted = {},
             const RunOptions& options = {});
    /// Runs a sub-graph with outer-scope values visible by name (If/Loop/Scan kernels).
    std::vector<Tensor> run_with_outer(const std::map<std::string, const Tensor*>& outer,
                                       const std::map<std::string, Tensor>& feeds);

    /// Replaces an initializer (e.g. quantized weights) and rebuilds the kernels that read it.
    void replace_initializer(ir::ValueId id, Tensor t);

    /// Plain runs (no hook, no kept intermediates, nothing fed or wanted inside a fused chain)
    /// of an executor built from a Model use a fused copy of the graph: Conv + BatchNormalization
    /// folded, Conv + activation as one FusedConv (src/engine/float_fusion.h). Same results to
    /// float rounding. On by default for Model executors; off turns every run node-by-node.
    void set_fusion(bool enabled);

    std::int64_t opset(const std::string& domain) const;
    const RunStats& last_run_stats() const;

private:
    struct Impl;
    void run_scoped(ValueMap& values, const std::vector<ir::ValueId>& wanted,
                    const RunOptions& options, const OuterScope* outer);
    void check_feed(ir::ValueId id, const Tensor& t) const;
    bool try_fused(ValueMap& values, const std::vector<ir::ValueId>& wanted,
                   const RunOptions& options, const OuterScope* outer);

    std::shared_ptr<const ir::Graph> graph_;
    std::shared_ptr<const ir::Graph> retired_graph_;  // before replace_initializer's copy
    std::shared_ptr<const ir::Model> model_;
    std::unique_ptr<Impl> impl_;
};

/// Nodes (including inside sub-graphs) whose op the engine cannot run: "'name' (op)" strings.
std::vector<std::string> unsupported_nodes(const ir::Model& model);

}  // namespace aquant::engine
