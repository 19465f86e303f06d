// The kernel contract. A factory (one per op_type, registered by one line in
// src/engine/kernels/builtin_kernels.inc) validates the node once, reads attributes and constant
// inputs, and returns a Kernel. run() computes outputs from inputs; it allocates its outputs
// through the context (shapes are known only at run time) and fails only for data-dependent
// shape errors, through ctx.fail(), which names the node.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "aquant/ir/graph.h"

namespace aquant::engine {

class Executor;
class BufferPool;

/// Values visible by name from enclosing graphs (If/Loop/Scan bodies).
using OuterScope = std::map<std::string, const Tensor*>;

class KernelContext {
public:
    KernelContext(const ir::Graph& g, const ir::Node& n, std::vector<const Tensor*> inputs,
                  std::vector<Tensor>& outputs, Executor* exec)
        : graph_(g), node_(n), inputs_(std::move(inputs)), outputs_(outputs), exec_(exec) {}

    std::size_t num_inputs() const { return inputs_.size(); }
    bool has_input(std::size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
    const Tensor& input(std::size_t i) const { return *inputs_.at(i); }
    std::size_t num_outputs() const { return outputs_.size(); }
    /// Allocates output i (zero-filled) and returns it.
    Tensor& allocate_output(std::size_t i, DType dtype, Dims dims);
    /// Same without the zero fill: only for an output the kernel writes completely.
    Tensor& allocate_output_uninit(std::size_t i, DType dtype, Dims dims);
    /// Sets output i to an existing tensor (e.g. a reshaped view sharing the input buffer).
    void set_output(std::size_t i, Tensor t) { outputs_.at(i) = std::move(t); }
    Tensor& output(std::size_t i) { return outputs_.at(i); }

    const ir::Node& node() const { return node_; }
    const ir::Graph& graph() const { return graph_; }
    /// The executor running this node (for control-flow kernels that run sub-graphs).
    Executor* executor() const { return exec_; }

    [[noreturn]] void fail(const std::string& what) const;

    /// Values the node's sub-graphs read from enclosing scopes, by name (set by the executor for
    /// nodes that carry sub-graphs; empty otherwise).
    const OuterScope& outer_scope() const;
    void set_outer_scope(const OuterScope* scope) { outer_ = scope; }

    /// Buffers freed earlier in the run, reused by allocate_output (optional).
    void set_buffer_pool(BufferPool* pool) { pool_ = pool; }

private:
    const ir::Graph& graph_;
    const ir::Node& node_;
    std::vector<const Tensor*> inputs_;
    std::vector<Tensor>& outputs_;
    Executor* exec_;
    const OuterScope* outer_ = nullptr;
    BufferPool* pool_ = nullptr;
};

class Kernel {
public:
    virtual ~Kernel() = default;
    virtual void run(KernelContext& ctx) const = 0;
};

using KernelPtr = std::unique_ptr<Kernel>;

/// What a factory sees when it builds a kernel for one node.
struct KernelBuildInfo {
    const ir::Graph& graph;
    const ir::Node& node;
    std::int64_t opset;  // opset of the node's domain in the model
    /// Every opset of the model (control-flow kernels build sub-graph executors with it).
    const std::map<std::string, std::int64_t>* opsets = nullptr;

    /// Constant input i (initializer or Constant node output), or nullptr.
    const Tensor* constant_input(std::size_t i) const {
        return node.has_input(i) ? graph.constant(node.inputs[i]) : nullptr;
    }
    [[noreturn]] void fail(const std::string& what) const;
};

using KernelFactory = std::function<KernelPtr(const KernelBuildInfo&)>;

}  // namespace aquant::engine
