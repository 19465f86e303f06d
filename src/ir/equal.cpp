#include <cmath>
#include <cstring>

#include "aquant/ir/graph.h"

namespace aquant::ir {
namespace {

bool fail(std::string* why, const std::string& msg) {
    if (why) *why = msg;
    return false;
}

bool graphs_equal(const Graph& a, const Graph& b, std::string* why);

bool floats_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool attrs_equal(const Attribute& a, const Attribute& b, const std::string& where,
                 std::string* why) {
    const std::string w = where + " attribute '" + a.name + "'";
    if (a.name != b.name || a.type != b.type) return fail(why, w + ": name or type differs");
    if (std::memcmp(&a.f, &b.f, sizeof(float)) != 0 || a.i != b.i || a.s != b.s)
        return fail(why, w + ": scalar differs");
    if (a.t.defined() != b.t.defined() || (a.t.defined() && !a.t.same_as(b.t)))
        return fail(why, w + ": tensor differs");
    if (!floats_equal(a.floats, b.floats) || a.ints != b.ints || a.strings != b.strings)
        return fail(why, w + ": list differs");
    if (a.tensors.size() != b.tensors.size()) return fail(why, w + ": tensors differ");
    for (std::size_t i = 0; i < a.tensors.size(); ++i) {
        if (!a.tensors[i].same_as(b.tensors[i])) return fail(why, w + ": tensors differ");
    }
    if (bool(a.g) != bool(b.g)) return fail(why, w + ": graph presence differs");
    if (a.g && !graphs_equal(*a.g, *b.g, why)) return false;
    if (a.graphs.size() != b.graphs.size()) return fail(why, w + ": graphs differ");
    for (std::size_t i = 0; i < a.graphs.size(); ++i) {
        if (!graphs_equal(*a.graphs[i], *b.graphs[i], why)) return false;
    }
    if (a.opaque != b.opaque || a.ref_attr_name != b.ref_attr_name ||
        a.doc_string != b.doc_string)
        return fail(why, w + ": opaque/ref/doc differs");
    return true;
}

std::vector<std::string> names(const Graph& g, const std::vector<ValueId>& ids) {
    std::vector<std::string> out;
    for (ValueId v : ids) out.push_back(v.valid() ? g.value(v).name : std::string());
    return out;
}

bool values_equal(const Graph& a, ValueId va, const Graph& b, ValueId vb, std::string* why) {
    const Value& x = a.value(va);
    const Value& y = b.value(vb);
    const std::string w = "value '" + x.name + "'";
    if (x.name != y.name) return fail(why, w + ": name differs from '" + y.name + "'");
    if (!(x.type == y.type)) return fail(why, w + ": type differs");
    if (x.doc_string != y.doc_string) return fail(why, w + ": doc_string differs");
    if (x.initializer.has_value() != y.initializer.has_value())
        return fail(why, w + ": initializer presence differs");
    if (x.initializer && !x.initializer->same_as(*y.initializer))
        return fail(why, w + ": initializer data differs");
    return true;
}

bool list_equal(const Graph& a, const std::vector<ValueId>& la, const Graph& b,
                const std::vector<ValueId>& lb, const std::string& what, std::string* why) {
    if (names(a, la) != names(b, lb)) return fail(why, "graph '" + a.name + "': " + what + " differ");
    for (std::size_t i = 0; i < la.size(); ++i) {
        if (la[i].valid() && !values_equal(a, la[i], b, lb[i], why)) return false;
    }
    return true;
}

bool graphs_equal(const Graph& a, const Graph& b, std::string* why) {
    if (a.name != b.name || a.doc_string != b.doc_string)
        return fail(why, "graph name/doc differs: '" + a.name + "' vs '" + b.name + "'");
    if (!list_equal(a, a.inputs, b, b.inputs, "inputs", why)) return false;
    if (!list_equal(a, a.outputs, b, b.outputs, "outputs", why)) return false;
    if (!list_equal(a, a.initializers, b, b.initializers, "initializers", why)) return false;
    if (!list_equal(a, a.value_infos, b, b.value_infos, "value_infos", why)) return false;
    if (a.opaque_sparse_initializers != b.opaque_sparse_initializers ||
        a.quantization_annotations != b.quantization_annotations)
        return fail(why, "graph '" + a.name + "': sparse initializers/annotations differ");
    const auto na = a.node_ids();
    const auto nb = b.node_ids();
    if (na.size() != nb.size()) return fail(why, "graph '" + a.name + "': node count differs");
    for (std::size_t i = 0; i < na.size(); ++i) {
        const Node& x = a.node(na[i]);
        const Node& y = b.node(nb[i]);
        const std::string w = "node '" + x.name + "' (" + x.op_type + ")";
        if (x.name != y.name || x.op_type != y.op_type || x.domain != y.domain ||
            x.doc_string != y.doc_string)
            return fail(why, w + ": header differs");
        if (names(a, x.inputs) != names(b, y.inputs)) return fail(why, w + ": inputs differ");
        if (names(a, x.outputs) != names(b, y.outputs)) return fail(why, w + ": outputs differ");
        if (x.attributes.size() != y.attributes.size())
            return fail(why, w + ": attribute count differs");
        for (std::size_t k = 0; k < x.attributes.size(); ++k) {
            if (!attrs_equal(x.attributes[k], y.attributes[k], w, why)) return false;
        }
    }
    return true;
}

}  // namespace

bool models_equal(const Model& a, const Model& b, std::string* why) {
    if (a.ir_version != b.ir_version) return fail(why, "ir_version differs");
    if (a.opset_import != b.opset_import) return fail(why, "opset_import differs");
    if (a.producer_name != b.producer_name || a.producer_version != b.producer_version ||
        a.domain != b.domain || a.model_version != b.model_version || a.doc_string != b.doc_string)
        return fail(why, "model header differs");
    if (a.metadata_props != b.metadata_props) return fail(why, "metadata_props differ");
    if (a.opaque_functions != b.opaque_functions) return fail(why, "functions differ");
    if (a.opaque_training_info != b.opaque_training_info) return fail(why, "training_info differs");
    return graphs_equal(*a.graph, *b.graph, why);
}

}  // namespace aquant::ir
