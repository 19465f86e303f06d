#include "aquant/engine/executor.h"

#include "buffer_pool.h"
#include "float_fusion.h"

#include "aquant/engine/kernel_registry.h"
#include "aquant/ir/diagnostics.h"

#include <algorithm>
#include <queue>
#include <set>

namespace aquant::engine {
namespace {

bool is_default_domain(const std::string& d) {
    return d.empty() || d == "ai.onnx";
}

std::string file_prefix(const ir::Graph& g) {
    return g.source_path.empty() ? std::string() : g.source_path + ": ";
}

template <typename Fn>
void for_each_subgraph(const ir::Node& n, Fn&& fn) {
    for (const ir::Attribute& a : n.attributes) {
        if (a.g) {
            fn(*a.g);
        }
        for (const auto& sg : a.graphs) {
            fn(*sg);
        }
    }
}

// Names a graph reads but does not define (inputs, initializers, node outputs), sub-graphs
// included: the values it takes from enclosing scopes.
void collect_free_names(const ir::Graph& g, std::set<std::string>& out) {
    std::set<std::string> defined;
    for (ir::ValueId v : g.inputs) {
        defined.insert(g.value(v).name);
    }
    for (ir::ValueId v : g.initializers) {
        defined.insert(g.value(v).name);
    }
    for (const ir::Node& n : g.nodes()) {
        if (n.removed) {
            continue;
        }
        for (ir::ValueId v : n.outputs) {
            if (v.valid()) {
                defined.insert(g.value(v).name);
            }
        }
    }
    for (const ir::Node& n : g.nodes()) {
        if (n.removed) {
            continue;
        }
        for (ir::ValueId v : n.inputs) {
            if (v.valid() && !defined.count(g.value(v).name)) {
                out.insert(g.value(v).name);
            }
        }
        for_each_subgraph(n, [&](const ir::Graph& sub) {
            std::set<std::string> inner;
            collect_free_names(sub, inner);
            for (const auto& name : inner) {
                if (!defined.count(name)) {
                    out.insert(name);
                }
            }
        });
    }
    for (ir::ValueId v : g.outputs) {
        if (!defined.count(g.value(v).name)) {
            out.insert(g.value(v).name);
        }
    }
}

void collect_unsupported(const ir::Graph& g, const KernelRegistry& reg,
                         std::vector<std::string>& out) {
    for (const ir::Node& n : g.nodes()) {
        if (n.removed) {
            continue;
        }
        if (!reg.supports(n.op_type, n.domain)) {
            const std::string op =
                is_default_domain(n.domain) ? n.op_type : n.domain + "." + n.op_type;
            out.push_back("'" + n.name + "' (" + op + ")");
        }
        for_each_subgraph(n, [&](const ir::Graph& sub) { collect_unsupported(sub, reg, out); });
    }
}

std::string type_str(const Tensor& t) {
    return std::string(dtype_name(t.dtype())) + dims_str(t.dims());
}

}  // namespace

std::vector<std::string> unsupported_nodes(const ir::Model& model) {
    std::vector<std::string> out;
    collect_unsupported(*model.graph, kernel_registry(), out);
    return out;
}

struct Executor::Impl {
    struct Implicit {
        std::string name;
        ir::ValueId id;  // invalid: defined further out, resolved through this graph's scope
    };

    std::map<std::string, std::int64_t> opsets;
    std::shared_ptr<ir::Graph> own;  // private copy made by replace_initializer
    std::vector<ir::NodeId> order;
    std::vector<KernelPtr> kernels;                // by node index
    std::vector<std::vector<Implicit>> implicit;   // by node index
    std::vector<std::vector<ir::NodeId>> readers;  // by value index (explicit + implicit)
    std::vector<std::int32_t> all_uses;            // by value index, every node counted
    std::size_t live_nodes = 0;
    BufferPool pool;
    RunStats stats;
    // Fast path of plain runs (float_fusion.h): built on first use, dropped when an
    // initializer is replaced. Top-level executors only.
    bool fusion = false;
    bool fused_built = false;
    std::unique_ptr<Executor> fused;
    std::vector<char> eliminated;  // by value index: not computed by `fused`
};

namespace {

std::int64_t opset_of(const std::map<std::string, std::int64_t>& opsets, const std::string& d) {
    auto it = opsets.find(is_default_domain(d) ? std::string() : d);
    return it == opsets.end() ? 0 : it->second;
}

KernelPtr build_kernel(const ir::Graph& g, const ir::Node& n,
                       const std::map<std::string, std::int64_t>& opsets) {
    const KernelFactory* f = kernel_registry().find(n.op_type, n.domain);
    if (!f) {
        ir::fail_at(g, n, "no kernel for this op");
    }
    KernelBuildInfo info{g, n, opset_of(opsets, n.domain), &opsets};
    KernelPtr k = (*f)(info);
    if (!k) {
        throw InternalError(ir::node_label(g, n) + ": kernel factory returned null");
    }
    return k;
}

// Kahn's algorithm over explicit and implicit (sub-graph) inputs, smallest node index first, so
// a graph stored in topological order runs in storage order (as ir::Graph::topological_order,
// which does not see implicit inputs).
std::vector<ir::NodeId> run_order(const ir::Graph& g,
                                  const std::vector<std::vector<ir::NodeId>>& readers) {
    const std::size_t n = g.num_nodes();
    std::vector<int> indegree(n, 0);
    std::size_t live = 0;
    for (std::size_t v = 0; v < readers.size(); ++v) {
        const ir::NodeId p = g.value(ir::ValueId{static_cast<std::int32_t>(v)}).producer;
        if (!p.valid() || g.node(p).removed) {
            continue;
        }
        for (ir::NodeId r : readers[v]) {
            ++indegree[static_cast<std::size_t>(r.index)];
        }
    }
    std::priority_queue<std::int32_t, std::vector<std::int32_t>, std::greater<>> ready;
    for (std::size_t i = 0; i < n; ++i) {
        if (g.nodes()[i].removed) {
            continue;
        }
        ++live;
        if (indegree[i] == 0) {
            ready.push(static_cast<std::int32_t>(i));
        }
    }
    std::vector<ir::NodeId> order;
    order.reserve(live);
    while (!ready.empty()) {
        const std::int32_t i = ready.top();
        ready.pop();
        order.push_back(ir::NodeId{i});
        for (ir::ValueId out : g.nodes()[static_cast<std::size_t>(i)].outputs) {
            if (!out.valid()) {
                continue;
            }
            for (ir::NodeId r : readers[static_cast<std::size_t>(out.index)]) {
                if (--indegree[static_cast<std::size_t>(r.index)] == 0) {
                    ready.push(r.index);
                }
            }
        }
    }
    if (order.size() != live) {
        for (std::size_t i = 0; i < n; ++i) {
            if (!g.nodes()[i].removed && indegree[i] > 0) {
                ir::fail_at(g, g.nodes()[i], "is part of a cycle in the graph");
            }
        }
    }
    return order;
}

}  // namespace

Executor::Executor(std::shared_ptr<const ir::Model> model)
    : Executor(model->graph, [&] {
          std::map<std::string, std::int64_t> o;
          for (const auto& imp : model->opset_import) {
              o[is_default_domain(imp.domain) ? std::string() : imp.domain] = imp.version;
          }
          return o;
      }()) {
    model_ = std::move(model);
    impl_->fusion = true;
}

Executor::Executor(std::shared_ptr<const ir::Graph> graph,
                   std::map<std::string, std::int64_t> opsets)
    : graph_(std::move(graph)), impl_(std::make_unique<Impl>()) {
    const ir::Graph& g = *graph_;
    Impl& m = *impl_;
    m.opsets = std::move(opsets);

    std::vector<std::string> unsupported;
    collect_unsupported(g, kernel_registry(), unsupported);
    if (!unsupported.empty()) {
        std::string list;
        for (const auto& u : unsupported) {
            list += (list.empty() ? "" : ", ") + u;
        }
        throw ModelError(file_prefix(g) + std::to_string(unsupported.size()) +
                         " node(s) use ops the engine cannot run: " + list);
    }

    const std::size_t num_nodes = g.num_nodes();
    m.implicit.assign(num_nodes, {});
    m.readers.assign(g.num_values(), {});
    m.all_uses.assign(g.num_values(), 0);
    for (std::size_t i = 0; i < num_nodes; ++i) {
        const ir::Node& n = g.nodes()[i];
        if (n.removed) {
            continue;
        }
        ++m.live_nodes;
        const ir::NodeId id{static_cast<std::int32_t>(i)};
        auto add_reader = [&](ir::ValueId v) {
            auto& r = m.readers[static_cast<std::size_t>(v.index)];
            if (r.empty() || r.back() != id) {
                r.push_back(id);
            }
            ++m.all_uses[static_cast<std::size_t>(v.index)];
        };
        for (ir::ValueId v : n.inputs) {
            if (v.valid()) {
                add_reader(v);
            }
        }
        std::set<std::string> free_names;
        for_each_subgraph(n, [&](const ir::Graph& sub) { collect_free_names(sub, free_names); });
        for (const auto& name : free_names) {
            auto v = g.find_value(name);
            const bool here = v && (g.value(*v).producer.valid() || g.value(*v).initializer ||
                                    g.is_graph_input(*v));
            m.implicit[i].push_back({name, here ? *v : ir::ValueId{}});
            if (here) {
                add_reader(*v);
            }
        }
    }
    m.order = run_order(g, m.readers);
    m.kernels.resize(num_nodes);
    for (ir::NodeId id : m.order) {
        m.kernels[static_cast<std::size_t>(id.index)] = build_kernel(g, g.node(id), m.opsets);
    }
}

Executor::~Executor() = default;

std::int64_t Executor::opset(const std::string& domain) const {
    return opset_of(impl_->opsets, domain);
}

const RunStats& Executor::last_run_stats() const {
    return impl_->stats;
}

void Executor::replace_initializer(ir::ValueId id, Tensor t) {
    Impl& m = *impl_;
    if (!id.valid() || static_cast<std::size_t>(id.index) >= graph_->num_values() ||
        !graph_->is_initializer(id)) {
        throw InternalError("replace_initializer: value " + std::to_string(id.index) +
                            " is not an initializer");
    }
    if (!m.own) {
        // Kernels built so far keep referring to the original graph, which model_/callers keep
        // alive; rebuilt kernels refer to the copy.
        m.own = std::make_shared<ir::Graph>(*graph_);
        retired_graph_ = graph_;
        graph_ = m.own;
    }
    m.own->value(id).initializer = std::move(t);
    m.fused.reset();
    m.fused_built = false;
    const ir::Graph& g = *graph_;
    for (ir::NodeId r : m.readers[static_cast<std::size_t>(id.index)]) {
        m.kernels[static_cast<std::size_t>(r.index)] = build_kernel(g, g.node(r), m.opsets);
    }
}

std::vector<Tensor> Executor::run(const std::map<std::string, Tensor>& feeds) {
    return run_with_outer({}, feeds);
}

std::vector<Tensor> Executor::run_with_outer(const OuterScope& outer,
                                             const std::map<std::string, Tensor>& feeds) {
    const ir::Graph& g = *graph_;
    ValueMap values;
    for (const auto& [name, t] : feeds) {
        auto id = g.find_value(name);
        if (!id || !g.is_graph_input(*id)) {
            std::string names;
            for (ir::ValueId v : g.real_inputs()) {
                names += (names.empty() ? "'" : ", '") + g.value(v).name + "'";
            }
            throw DataError(file_prefix(g) + "'" + name + "' is not an input of the model; " +
                            "inputs: " + names);
        }
        values[id->index] = t;
    }
    run_scoped(values, {}, {}, &outer);
    std::vector<Tensor> out;
    out.reserve(g.outputs.size());
    for (ir::ValueId v : g.outputs) {
        out.push_back(values.at(v.index));
    }
    return out;
}

void Executor::run(ValueMap& values, const std::vector<ir::ValueId>& wanted,
                   const RunOptions& options) {
    run_scoped(values, wanted, options, nullptr);
}

void Executor::check_feed(ir::ValueId id, const Tensor& t) const {
    const ir::Graph& g = *graph_;
    const ir::Value& v = g.value(id);
    if (!t.defined()) {
        throw DataError(file_prefix(g) + "input '" + v.name + "': the tensor is empty");
    }
    if (!v.type || !v.type->opaque.empty()) {
        return;
    }
    const ir::TypeInfo& ti = *v.type;
    auto mismatch = [&](const std::string& what) {
        throw DataError(file_prefix(g) + "input '" + v.name + "': " + what + ", expected " +
                        ti.str() + ", got " + type_str(t));
    };
    if (ti.elem_type != DType::kUndefined && ti.elem_type != t.dtype()) {
        mismatch("wrong element type");
    }
    if (!ti.shape) {
        return;
    }
    if (ti.shape->size() != t.rank()) {
        mismatch("wrong rank");
    }
    for (std::size_t d = 0; d < t.rank(); ++d) {
        const ir::Dim& dim = (*ti.shape)[d];
        if (dim.known() && dim.value != t.dim(d)) {
            mismatch("dimension " + std::to_string(d) + " differs");
        }
    }
}

void Executor::set_fusion(bool enabled) {
    Impl& m = *impl_;
    m.fusion = enabled;
    m.fused.reset();
    m.fused_built = false;
}

bool Executor::try_fused(ValueMap& values, const std::vector<ir::ValueId>& wanted,
                         const RunOptions& options, const OuterScope* outer) {
    Impl& m = *impl_;
    if (!m.fusion || (options.hook && !options.hook_sees_fused) || options.keep_intermediates ||
        (outer && !outer->empty())) {
        return false;
    }
    if (!m.fused_built) {
        m.fused_built = true;
        FloatFusion f = fuse_float(*graph_, opset_of(m.opsets, ""));
        if (f.graph) {
            auto opsets = m.opsets;
            opsets.emplace("com.microsoft", 1);
            m.fused = std::make_unique<Executor>(std::move(f.graph), std::move(opsets));
            m.eliminated = std::move(f.eliminated);
        }
    }
    if (!m.fused) {
        return false;
    }
    auto gone = [&](std::int32_t v) {
        return v >= 0 && static_cast<std::size_t>(v) < m.eliminated.size() &&
               m.eliminated[static_cast<std::size_t>(v)];
    };
    for (const auto& kv : values) {
        if (gone(kv.first)) {
            return false;
        }
    }
    for (ir::ValueId v : wanted) {
        if (gone(v.index)) {
            return false;
        }
    }
    RunOptions fused_options;
    fused_options.hook = options.hook;
    m.fused->run(values, wanted, fused_options);
    m.stats = m.fused->last_run_stats();
    return true;
}

void Executor::run_scoped(ValueMap& values, const std::vector<ir::ValueId>& wanted_in,
                          const RunOptions& options, const OuterScope* outer) {
    if (try_fused(values, wanted_in, options, outer)) {
        return;
    }
    const ir::Graph& g = *graph_;
    Impl& m = *impl_;
    m.stats = RunStats{};
    const std::vector<ir::ValueId>& wanted = wanted_in.empty() ? g.outputs : wanted_in;
    const std::size_t num_values = g.num_values();

    for (ir::ValueId in : g.inputs) {
        auto it = values.find(in.index);
        if (it != values.end()) {
            check_feed(in, it->second);
        }
    }

    auto from_outer = [&](const std::string& name) -> const Tensor* {
        if (!outer) {
            return nullptr;
        }
        auto it = outer->find(name);
        return it == outer->end() ? nullptr : it->second;
    };
    auto lookup = [&](ir::ValueId v) -> const Tensor* {
        auto it = values.find(v.index);
        if (it != values.end()) {
            return &it->second;
        }
        const ir::Value& val = g.value(v);
        if (val.initializer) {
            return &*val.initializer;
        }
        return from_outer(val.name);
    };

    // Nodes needed for `wanted`, walking back from it and stopping at values already present.
    std::vector<char> needed(g.num_nodes(), 0);
    std::vector<char> seen(num_values, 0);
    std::vector<ir::ValueId> stack(wanted.begin(), wanted.end());
    std::size_t num_needed = 0;
    while (!stack.empty()) {
        const ir::ValueId v = stack.back();
        stack.pop_back();
        if (!v.valid() || seen[static_cast<std::size_t>(v.index)]) {
            continue;
        }
        seen[static_cast<std::size_t>(v.index)] = 1;
        if (values.count(v.index)) {
            continue;
        }
        const ir::Value& val = g.value(v);
        const ir::NodeId p = val.producer;
        if (p.valid() && !g.node(p).removed) {
            if (needed[static_cast<std::size_t>(p.index)]) {
                continue;
            }
            needed[static_cast<std::size_t>(p.index)] = 1;
            ++num_needed;
            const ir::Node& n = g.node(p);
            for (ir::ValueId in : n.inputs) {
                stack.push_back(in);
            }
            for (const auto& imp : m.implicit[static_cast<std::size_t>(p.index)]) {
                if (imp.id.valid()) {
                    stack.push_back(imp.id);
                }
            }
            continue;
        }
        if (val.initializer) {
            continue;
        }
        if (g.is_graph_input(v)) {
            throw DataError(file_prefix(g) + "missing input '" + val.name + "'" +
                            (val.type ? " of type " + val.type->str() : std::string()));
        }
        if (!from_outer(val.name)) {
            throw ModelError(file_prefix(g) + "value '" + val.name +
                             "' is not produced by any node, graph input or initializer");
        }
    }

    // Remaining reads of each value by the nodes that will run.
    std::vector<std::int32_t> remaining;
    if (num_needed == m.live_nodes) {
        remaining = m.all_uses;
    } else {
        remaining.assign(num_values, 0);
        for (std::size_t i = 0; i < g.num_nodes(); ++i) {
            if (!needed[i]) {
                continue;
            }
            for (ir::ValueId in : g.nodes()[i].inputs) {
                if (in.valid()) {
                    ++remaining[static_cast<std::size_t>(in.index)];
                }
            }
            for (const auto& imp : m.implicit[i]) {
                if (imp.id.valid()) {
                    ++remaining[static_cast<std::size_t>(imp.id.index)];
                }
            }
        }
    }
    // Values that are never freed: given by the caller, or wanted.
    std::vector<char> keep(num_values, 0);
    for (const auto& kv : values) {
        if (kv.first >= 0 && static_cast<std::size_t>(kv.first) < num_values) {
            keep[static_cast<std::size_t>(kv.first)] = 1;
        }
    }
    for (ir::ValueId v : wanted) {
        if (v.valid()) {
            keep[static_cast<std::size_t>(v.index)] = 1;
        }
    }

    std::int64_t live_values = 0, live_bytes = 0;
    auto release = [&](ir::ValueId v) {
        if (keep[static_cast<std::size_t>(v.index)] || options.keep_intermediates) {
            return;
        }
        auto it = values.find(v.index);
        if (it == values.end()) {
            return;
        }
        live_bytes -= static_cast<std::int64_t>(it->second.size_bytes());
        --live_values;
        m.pool.give(std::move(it->second));
        values.erase(it);
    };

    const std::int64_t reused_before = m.pool.reused();
    std::vector<const Tensor*> inputs;
    std::vector<Tensor> outputs;
    OuterScope scope;
    for (ir::NodeId id : m.order) {
        const std::size_t ni = static_cast<std::size_t>(id.index);
        if (!needed[ni]) {
            continue;
        }
        const ir::Node& n = g.node(id);
        inputs.assign(n.inputs.size(), nullptr);
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
            if (!n.inputs[i].valid()) {
                continue;
            }
            inputs[i] = lookup(n.inputs[i]);
            if (!inputs[i]) {
                throw InternalError(ir::node_label(g, n) + ": input '" + g.value(n.inputs[i]).name +
                                    "' has not been computed");
            }
        }
        outputs.assign(n.outputs.size(), Tensor());
        KernelContext ctx(g, n, inputs, outputs, this);
        ctx.set_buffer_pool(&m.pool);
        if (!m.implicit[ni].empty()) {
            scope.clear();
            for (const auto& imp : m.implicit[ni]) {
                const Tensor* t = imp.id.valid() ? lookup(imp.id) : from_outer(imp.name);
                if (t) {
                    scope[imp.name] = t;
                }
            }
            ctx.set_outer_scope(&scope);
        }
        m.kernels[ni]->run(ctx);
        ++m.stats.nodes_run;

        for (std::size_t s = 0; s < n.outputs.size(); ++s) {
            const ir::ValueId out = n.outputs[s];
            if (!out.valid()) {
                continue;
            }
            if (!outputs[s].defined()) {
                throw InternalError(ir::node_label(g, n) + ": kernel did not produce output " +
                                    std::to_string(s));
            }
            if (values.count(out.index)) {
                continue;  // given by the caller
            }
            values[out.index] = outputs[s];
            ++live_values;
            live_bytes += static_cast<std::int64_t>(outputs[s].size_bytes());
        }
        m.stats.peak_live_values = std::max(m.stats.peak_live_values, live_values);
        m.stats.peak_live_bytes = std::max(m.stats.peak_live_bytes, live_bytes);

        for (ir::ValueId in : n.inputs) {
            if (in.valid() && --remaining[static_cast<std::size_t>(in.index)] == 0) {
                release(in);
            }
        }
        for (const auto& imp : m.implicit[ni]) {
            if (imp.id.valid() && --remaining[static_cast<std::size_t>(imp.id.index)] == 0) {
                release(imp.id);
            }
        }
        if (options.hook) {
            options.hook(n, outputs);
        }
        outputs.clear();
        for (ir::ValueId out : n.outputs) {
            if (out.valid() && remaining[static_cast<std::size_t>(out.index)] == 0) {
                release(out);
            }
        }
    }
    m.stats.buffers_reused = m.pool.reused() - reused_before;

    for (ir::ValueId v : wanted) {
        if (!v.valid() || values.count(v.index)) {
            continue;
        }
        const Tensor* t = lookup(v);
        if (!t) {
            throw InternalError(file_prefix(g) + "value '" + g.value(v).name +
                                "' was not computed");
        }
        values[v.index] = *t;
    }
}

}  // namespace aquant::engine
