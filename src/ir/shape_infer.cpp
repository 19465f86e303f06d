#include "aquant/ir/shape_infer.h"

#include "ir/shape_infer_ctx.h"

#include <exception>
#include <functional>

namespace aquant::ir {
namespace shape {

const TypeInfo* Ctx::type(std::size_t i) const {
    if (!n_.has_input(i)) {
        return nullptr;
    }
    const Value& v = g_.value(n_.inputs[i]);
    if (!v.type || !v.type->opaque.empty()) {
        return nullptr;
    }
    return &*v.type;
}

const Shape* Ctx::shape(std::size_t i) const {
    const TypeInfo* t = type(i);
    return t && t->shape ? &*t->shape : nullptr;
}

std::optional<DType> Ctx::elem(std::size_t i) const {
    const TypeInfo* t = type(i);
    if (!t || t->elem_type == DType::kUndefined) {
        return std::nullopt;
    }
    return t->elem_type;
}

const Tensor* Ctx::constant(std::size_t i) const {
    return n_.has_input(i) ? g_.constant(n_.inputs[i]) : nullptr;
}

std::optional<std::vector<std::int64_t>> Ctx::ints(std::size_t i) const {
    const Tensor* t = constant(i);
    if (!t || t->empty_storage()) {
        return std::nullopt;
    }
    std::vector<std::int64_t> v(static_cast<std::size_t>(t->numel()));
    if (t->dtype() == DType::kI64) {
        for (std::size_t k = 0; k < v.size(); ++k) {
            v[k] = t->data<std::int64_t>()[k];
        }
    } else if (t->dtype() == DType::kI32) {
        for (std::size_t k = 0; k < v.size(); ++k) {
            v[k] = t->data<std::int32_t>()[k];
        }
    } else {
        return std::nullopt;
    }
    return v;
}

std::optional<std::vector<std::int64_t>> Ctx::ints_attr_or_input(const std::string& attr,
                                                                 std::size_t input) const {
    if (const Attribute* a = n_.find_attr(attr)) {
        return a->ints;
    }
    if (has_input(input)) {
        return ints(input);
    }
    return std::nullopt;
}

void Ctx::set(std::size_t slot, DType t, std::optional<Shape> s) {
    if (slot >= out.size()) {
        return;
    }
    TypeInfo ti;
    ti.elem_type = t;
    ti.shape = std::move(s);
    out[slot] = std::move(ti);
}

bool normalize_axis(std::int64_t& axis, std::int64_t rank) {
    if (axis < -rank || axis >= rank) {
        return false;
    }
    if (axis < 0) {
        axis += rank;
    }
    return true;
}

Dim product(const Shape& s, std::size_t begin, std::size_t end) {
    std::int64_t p = 1;
    for (std::size_t i = begin; i < end && i < s.size(); ++i) {
        if (!usable(s[i])) {
            return Dim{};
        }
        p *= s[i].value;
        if (p > kMaxDim) {
            return Dim{};
        }
    }
    return known(p);
}

}  // namespace shape

namespace {

const shape::RuleTable& rules() {
    static const shape::RuleTable table = [] {
        shape::RuleTable t;
        shape::add_elementwise_rules(t);
        shape::add_nn_rules(t);
        shape::add_layout_rules(t);
        return t;
    }();
    return table;
}

bool is_default_domain(const std::string& d) {
    return d.empty() || d == "ai.onnx";
}

using OuterLookup = std::function<const TypeInfo*(const std::string&)>;

int infer_graph(Graph& g, std::int64_t opset, const OuterLookup& outer);

// Sub-graph values that come from an enclosing scope take the enclosing value's type.
int infer_subgraph(Graph& sub, const Graph& parent, std::int64_t opset, const OuterLookup& outer) {
    const OuterLookup lookup = [&](const std::string& name) -> const TypeInfo* {
        if (auto id = parent.find_value(name)) {
            const Value& v = parent.value(*id);
            if (v.type) {
                return &*v.type;
            }
        }
        return outer ? outer(name) : nullptr;
    };
    for (std::size_t i = 0; i < sub.num_values(); ++i) {
        const ValueId id{static_cast<std::int32_t>(i)};
        Value& v = sub.value(id);
        if (v.type || v.producer.valid() || v.initializer || sub.is_graph_input(id)) {
            continue;
        }
        if (const TypeInfo* t = lookup(v.name)) {
            v.type = *t;
        }
    }
    return infer_graph(sub, opset, lookup);
}

int infer_graph(Graph& g, std::int64_t opset, const OuterLookup& outer) {
    int typed = 0;
    for (NodeId id : g.topological_order()) {
        Node& n = g.node(id);
        for (Attribute& a : n.attributes) {
            if (a.g) {
                typed += infer_subgraph(*a.g, g, opset, outer);
            }
            for (auto& sg : a.graphs) {
                typed += infer_subgraph(*sg, g, opset, outer);
            }
        }
        if (!is_default_domain(n.domain)) {
            continue;
        }
        const auto it = rules().find(n.op_type);
        if (it == rules().end()) {
            continue;
        }
        bool pending = false;
        for (ValueId out : n.outputs) {
            pending |= out.valid() && !g.value(out).type;
        }
        if (!pending) {
            continue;
        }
        shape::Ctx ctx(g, n, opset);
        try {
            it->second(ctx);
        } catch (const std::exception&) {
            continue;  // a malformed node: leave its outputs untyped
        }
        for (std::size_t s = 0; s < n.outputs.size(); ++s) {
            if (!n.outputs[s].valid() || !ctx.out[s]) {
                continue;
            }
            Value& v = g.value(n.outputs[s]);
            if (v.type) {
                continue;
            }
            v.type = std::move(*ctx.out[s]);
            ++typed;
        }
    }
    return typed;
}

}  // namespace

int infer_shapes(Graph& g, std::int64_t opset) {
    return infer_graph(g, opset, nullptr);
}

std::optional<std::vector<Dim>> broadcast_shapes(const std::vector<Dim>& a,
                                                 const std::vector<Dim>& b) {
    const std::size_t rank = std::max(a.size(), b.size());
    std::vector<Dim> out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const Dim one = shape::known(1);
        const Dim& x = i + a.size() >= rank ? a[i + a.size() - rank] : one;
        const Dim& y = i + b.size() >= rank ? b[i + b.size() - rank] : one;
        Dim& o = out[i];
        if (x.known() && x.value == 1) {
            o = y;
        } else if (y.known() && y.value == 1) {
            o = x;
        } else if (x.known() && y.known()) {
            if (x.value != y.value) {
                return std::nullopt;
            }
            o = x;
        } else if (x.known()) {
            o = x;
        } else if (y.known()) {
            o = y;
        } else if (!x.param.empty() && x.param == y.param) {
            o = x;
        }  // else: two different or unknown symbols stay unknown
    }
    return out;
}

std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                std::int64_t dilation, std::int64_t pad_begin, std::int64_t pad_end,
                                bool ceil_mode) {
    using shape::kMaxDim;
    using shape::kMaxWindow;
    if (in < 0 || in > kMaxDim || kernel <= 0 || kernel > kMaxWindow || stride <= 0 ||
        stride > kMaxWindow || dilation <= 0 || dilation > kMaxWindow || pad_begin < 0 ||
        pad_begin > kMaxDim || pad_end < 0 || pad_end > kMaxDim) {
        return -1;
    }
    const std::int64_t span = (kernel - 1) * dilation + 1;
    const std::int64_t padded = in + pad_begin + pad_end;
    if (padded < span) {
        return -1;
    }
    std::int64_t out = (padded - span) / stride + 1;
    if (ceil_mode && (padded - span) % stride != 0) {
        ++out;
        // A last window that would start inside the end padding is dropped (ONNX MaxPool-10+).
        if ((out - 1) * stride >= in + pad_begin) {
            --out;
        }
    }
    return out;
}

}  // namespace aquant::ir
