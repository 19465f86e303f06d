#include "aquant/ir/graph.h"

#include <algorithm>
#include <queue>

#include "aquant/ir/diagnostics.h"

namespace aquant::ir {

bool TypeInfo::has_static_shape() const {
    if (!shape) return false;
    return std::all_of(shape->begin(), shape->end(), [](const Dim& d) { return d.known(); });
}

std::optional<Dims> TypeInfo::static_dims() const {
    if (!has_static_shape()) return std::nullopt;
    Dims d;
    for (const auto& x : *shape) d.push_back(x.value);
    return d;
}

std::string TypeInfo::str() const {
    if (!opaque.empty()) return "(non-tensor)";
    std::string s(dtype_name(elem_type));
    if (!shape) return s + "[?]";
    s += "[";
    for (std::size_t i = 0; i < shape->size(); ++i) {
        if (i) s += ",";
        const Dim& d = (*shape)[i];
        s += d.known() ? std::to_string(d.value) : (d.param.empty() ? "?" : d.param);
    }
    return s + "]";
}

const Attribute* Node::find_attr(const std::string& attr_name) const {
    for (const auto& a : attributes) {
        if (a.name == attr_name) return &a;
    }
    return nullptr;
}

std::int64_t Node::attr_int(const std::string& attr_name, std::int64_t def) const {
    const Attribute* a = find_attr(attr_name);
    return a ? a->i : def;
}

float Node::attr_float(const std::string& attr_name, float def) const {
    const Attribute* a = find_attr(attr_name);
    return a ? a->f : def;
}

std::string Node::attr_string(const std::string& attr_name, const std::string& def) const {
    const Attribute* a = find_attr(attr_name);
    return a ? a->s : def;
}

std::vector<std::int64_t> Node::attr_ints(const std::string& attr_name,
                                          std::vector<std::int64_t> def) const {
    const Attribute* a = find_attr(attr_name);
    return a ? a->ints : def;
}

std::vector<float> Node::attr_floats(const std::string& attr_name, std::vector<float> def) const {
    const Attribute* a = find_attr(attr_name);
    return a ? a->floats : def;
}

std::size_t Node::num_inputs() const {
    std::size_t n = inputs.size();
    while (n > 0 && !inputs[n - 1].valid()) --n;
    return n;
}

std::string node_label(const Graph& g, const Node& n) {
    std::string s = g.source_path.empty() ? std::string() : g.source_path + ": ";
    return s + "node '" + n.name + "' (" + n.op_type + ")";
}

std::vector<NodeId> Graph::node_ids() const {
    std::vector<NodeId> ids;
    ids.reserve(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i].removed) ids.push_back(NodeId{static_cast<std::int32_t>(i)});
    }
    return ids;
}

ValueId Graph::value_named(const std::string& value_name) {
    auto it = by_name_.find(value_name);
    if (it != by_name_.end()) return it->second;
    Value v;
    v.name = value_name;
    return add_value(std::move(v));
}

std::optional<ValueId> Graph::find_value(const std::string& value_name) const {
    auto it = by_name_.find(value_name);
    if (it == by_name_.end()) return std::nullopt;
    return it->second;
}

ValueId Graph::add_value(Value v) {
    if (by_name_.count(v.name)) throw InternalError("duplicate value name '" + v.name + "'");
    ValueId id{static_cast<std::int32_t>(values_.size())};
    by_name_[v.name] = id;
    values_.push_back(std::move(v));
    return id;
}

NodeId Graph::add_node(Node n) {
    NodeId id{static_cast<std::int32_t>(nodes_.size())};
    for (std::size_t s = 0; s < n.outputs.size(); ++s) {
        if (!n.outputs[s].valid()) continue;
        Value& v = value(n.outputs[s]);
        v.producer = id;
        v.producer_slot = static_cast<int>(s);
    }
    nodes_.push_back(std::move(n));
    return id;
}

ValueId Graph::add_initializer(const std::string& value_name, Tensor t) {
    ValueId id = value_named(value_name);
    Value& v = value(id);
    TypeInfo ti;
    ti.elem_type = t.dtype();
    std::vector<Dim> shape;
    for (auto d : t.dims()) shape.push_back(Dim{d, {}});
    ti.shape = shape;
    v.type = ti;
    v.initializer = std::move(t);
    initializers.push_back(id);
    return id;
}

bool Graph::is_graph_input(ValueId v) const {
    return std::find(inputs.begin(), inputs.end(), v) != inputs.end();
}

std::vector<ValueId> Graph::real_inputs() const {
    std::vector<ValueId> out;
    for (ValueId v : inputs) {
        if (!is_initializer(v)) out.push_back(v);
    }
    return out;
}

const Tensor* Graph::constant(ValueId v) const {
    if (!v.valid()) return nullptr;
    const Value& val = value(v);
    if (val.initializer) return &*val.initializer;
    if (!val.producer.valid()) return nullptr;
    const Node& n = node(val.producer);
    if (n.op_type != "Constant" || !(n.domain.empty() || n.domain == "ai.onnx")) return nullptr;
    const Attribute* a = n.find_attr("value");
    if (a && a->type == AttrType::kTensor) return &a->t;
    return nullptr;
}

void Graph::rebuild_uses() {
    for (auto& v : values_) {
        v.producer = NodeId{};
        v.producer_slot = -1;
        v.consumers.clear();
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const Node& n = nodes_[i];
        if (n.removed) continue;
        NodeId id{static_cast<std::int32_t>(i)};
        for (std::size_t s = 0; s < n.outputs.size(); ++s) {
            if (!n.outputs[s].valid()) continue;
            Value& v = value(n.outputs[s]);
            if (v.producer.valid()) {
                fail_at(*this, n, "output '" + v.name + "' is also produced by node '" +
                                      node(v.producer).name + "'");
            }
            v.producer = id;
            v.producer_slot = static_cast<int>(s);
        }
        for (ValueId in : n.inputs) {
            if (!in.valid()) continue;
            auto& cons = value(in).consumers;
            if (cons.empty() || cons.back() != id) cons.push_back(id);
        }
    }
}

std::vector<NodeId> Graph::topological_order() const {
    const std::size_t n = nodes_.size();
    std::vector<int> indegree(n, 0);
    std::vector<std::vector<std::int32_t>> succ(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (nodes_[i].removed) continue;
        for (ValueId in : nodes_[i].inputs) {
            if (!in.valid()) continue;
            const NodeId p = value(in).producer;
            if (!p.valid() || nodes_[static_cast<std::size_t>(p.index)].removed) continue;
            succ[static_cast<std::size_t>(p.index)].push_back(static_cast<std::int32_t>(i));
            ++indegree[i];
        }
    }
    std::priority_queue<std::int32_t, std::vector<std::int32_t>, std::greater<>> ready;
    std::size_t live = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (nodes_[i].removed) continue;
        ++live;
        if (indegree[i] == 0) ready.push(static_cast<std::int32_t>(i));
    }
    std::vector<NodeId> order;
    order.reserve(live);
    while (!ready.empty()) {
        const std::int32_t i = ready.top();
        ready.pop();
        order.push_back(NodeId{i});
        for (std::int32_t s : succ[static_cast<std::size_t>(i)]) {
            if (--indegree[static_cast<std::size_t>(s)] == 0) ready.push(s);
        }
    }
    if (order.size() != live) {
        for (std::size_t i = 0; i < n; ++i) {
            if (!nodes_[i].removed && indegree[i] > 0) {
                fail_at(*this, nodes_[i], "is part of a cycle in the graph");
            }
        }
    }
    return order;
}

void Graph::compact() {
    const std::vector<NodeId> order = topological_order();
    std::vector<Node> sorted;
    sorted.reserve(order.size());
    for (NodeId id : order) sorted.push_back(std::move(nodes_[static_cast<std::size_t>(id.index)]));
    nodes_ = std::move(sorted);
    rebuild_uses();
}

std::string Graph::make_unique_name(const std::string& base) {
    if (!by_name_.count(base)) return base;
    int& c = name_counters_[base];
    std::string candidate;
    do {
        candidate = base + "_" + std::to_string(++c);
    } while (by_name_.count(candidate));
    return candidate;
}

std::int64_t Model::opset(const std::string& dom) const {
    const bool want_default = dom.empty() || dom == "ai.onnx";
    for (const auto& o : opset_import) {
        const bool is_default = o.domain.empty() || o.domain == "ai.onnx";
        if ((want_default && is_default) || (!want_default && o.domain == dom)) return o.version;
    }
    return 0;
}

void Model::set_opset(const std::string& dom, std::int64_t version) {
    const bool want_default = dom.empty() || dom == "ai.onnx";
    for (auto& o : opset_import) {
        const bool is_default = o.domain.empty() || o.domain == "ai.onnx";
        if ((want_default && is_default) || (!want_default && o.domain == dom)) {
            o.version = version;
            return;
        }
    }
    opset_import.push_back(OpsetImport{dom, version});
}

std::optional<std::string> Model::metadata(const std::string& key) const {
    for (const auto& kv : metadata_props) {
        if (kv.first == key) return kv.second;
    }
    return std::nullopt;
}

void Model::set_metadata(const std::string& key, const std::string& value) {
    for (auto& kv : metadata_props) {
        if (kv.first == key) {
            kv.second = value;
            return;
        }
    }
    metadata_props.emplace_back(key, value);
}

namespace {
void histogram_into(const Graph& g, std::map<std::string, int>& h) {
    for (const Node& n : g.nodes()) {
        if (n.removed) continue;
        const bool dflt = n.domain.empty() || n.domain == "ai.onnx";
        ++h[dflt ? n.op_type : n.domain + "." + n.op_type];
        for (const Attribute& a : n.attributes) {
            if (a.g) histogram_into(*a.g, h);
            for (const auto& sg : a.graphs) histogram_into(*sg, h);
        }
    }
}
}  // namespace

std::map<std::string, int> op_histogram(const Graph& g) {
    std::map<std::string, int> h;
    histogram_into(g, h);
    return h;
}

}  // namespace aquant::ir
