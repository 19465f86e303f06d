#include "float_fusion.h"

#include <cmath>
#include <limits>
#include <string>

#include "aquant/ir/shape_infer.h"

namespace aquant::engine {
namespace {

bool is_onnx(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool has_subgraphs(const ir::Graph& g) {
    for (const ir::Node& n : g.nodes()) {
        if (n.removed) continue;
        for (const ir::Attribute& a : n.attributes) {
            if (a.g || !a.graphs.empty()) return true;
        }
    }
    return false;
}

// The one live node reading v, through one input slot (*slot); null when v is a graph output
// or has any other reader.
ir::Node* sole_reader(ir::Graph& g, ir::ValueId v, std::size_t* slot = nullptr) {
    for (ir::ValueId o : g.outputs) {
        if (o == v) return nullptr;
    }
    const auto& readers = g.consumers(v);
    if (readers.empty()) return nullptr;
    for (ir::NodeId r : readers) {
        if (r != readers[0]) return nullptr;
    }
    ir::Node& n = g.node(readers[0]);
    if (n.removed) return nullptr;
    int uses = 0;
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
        if (n.inputs[i] == v) {
            ++uses;
            if (slot) *slot = i;
        }
    }
    if (uses != 1) return nullptr;
    if (!slot && n.inputs[0] != v) return nullptr;
    return &n;
}

// A constant: an initializer or Constant output, also behind Identity nodes (exporters share
// equal initializers that way).
const Tensor* constant_of(const ir::Graph& g, ir::ValueId v) {
    for (int hops = 0; hops < 8 && v.valid(); ++hops) {
        if (const Tensor* t = g.constant(v)) return t;
        const ir::NodeId p = g.value(v).producer;
        if (!p.valid()) return nullptr;
        const ir::Node& n = g.node(p);
        if (n.removed || n.op_type != "Identity" || !is_onnx(n) || n.inputs.empty()) return nullptr;
        v = n.inputs[0];
    }
    return nullptr;
}

// A constant float tensor of exactly `count` values (count < 0: any).
const Tensor* float_const(const ir::Graph& g, ir::ValueId v, std::int64_t count) {
    const Tensor* t = constant_of(g, v);
    if (!t || t->dtype() != DType::kF32 || (count >= 0 && t->numel() != count)) return nullptr;
    return t;
}

// Exactly one output in use (slot 0).
bool single_output(const ir::Node& n) {
    if (n.outputs.empty() || !n.outputs[0].valid()) return false;
    for (std::size_t i = 1; i < n.outputs.size(); ++i) {
        if (n.outputs[i].valid()) return false;
    }
    return true;
}

bool is_plain_conv(const ir::Graph& g, const ir::Node& n) {
    return n.op_type == "Conv" && is_onnx(n) && n.num_inputs() >= 2 && n.num_inputs() <= 3 &&
           single_output(n);
}

// Conv -> BatchNormalization: W'[m] = W[m] * a[m], B'[m] = B[m] * a[m] + b[m] with the
// BatchNormalization kernel's a = scale / sqrt(var + epsilon), b = B_bn - mean * a.
bool fold_batch_norm(ir::Graph& g, ir::Node& conv, FloatFusion& f) {
    const Tensor* w = float_const(g, conv.inputs[1], -1);
    if (!w || w->rank() < 3) return false;
    const std::int64_t m = w->dim(0);
    const Tensor* cb = nullptr;
    if (conv.has_input(2)) {
        cb = float_const(g, conv.inputs[2], m);
        if (!cb) return false;
    }
    ir::Node* bn = sole_reader(g, conv.outputs[0]);
    if (!bn || bn->op_type != "BatchNormalization" || !is_onnx(*bn) || bn->num_inputs() != 5 ||
        !single_output(*bn) || bn->attr_int("training_mode", 0) != 0 ||
        bn->attr_int("spatial", 1) != 1) {
        return false;
    }
    const Tensor* p[4];
    for (int i = 0; i < 4; ++i) {
        p[i] = float_const(g, bn->inputs[static_cast<std::size_t>(i + 1)], m);
        if (!p[i]) return false;
    }
    const float eps = bn->attr_float("epsilon", 1e-5f);
    const float *scale = p[0]->data<float>(), *beta = p[1]->data<float>();
    const float *mean = p[2]->data<float>(), *var = p[3]->data<float>();
    Tensor nw(DType::kF32, w->dims());
    Tensor nb(DType::kF32, {m});
    const std::int64_t per = w->numel() / m;
    for (std::int64_t c = 0; c < m; ++c) {
        const float a = scale[c] / std::sqrt(var[c] + eps);
        const float b = beta[c] - mean[c] * a;
        for (std::int64_t i = 0; i < per; ++i) {
            nw.data<float>()[c * per + i] = w->data<float>()[c * per + i] * a;
        }
        nb.data<float>()[c] = (cb ? cb->data<float>()[c] : 0.0f) * a + b;
    }
    const ir::ValueId wid = g.add_initializer(g.make_unique_name(conv.name + "_W_bn_folded"), nw);
    const ir::ValueId bid = g.add_initializer(g.make_unique_name(conv.name + "_B_bn_folded"), nb);
    conv.inputs.resize(3);
    conv.inputs[1] = wid;
    conv.inputs[2] = bid;
    f.eliminated[static_cast<std::size_t>(conv.outputs[0].index)] = 1;
    conv.outputs[0] = bn->outputs[0];
    bn->removed = true;
    ++f.folded_bn;
    return true;
}

// Shapes known to be equal: same rank, each dim the same size or the same symbolic name.
bool same_static_shape(const ir::Graph& g, ir::ValueId a, ir::ValueId b) {
    const auto& ta = g.value(a).type;
    const auto& tb = g.value(b).type;
    if (!ta || !tb || !ta->shape || !tb->shape || ta->elem_type != DType::kF32 ||
        tb->elem_type != DType::kF32 || ta->shape->size() != tb->shape->size()) {
        return false;
    }
    for (std::size_t i = 0; i < ta->shape->size(); ++i) {
        const ir::Dim& da = (*ta->shape)[i];
        const ir::Dim& db = (*tb->shape)[i];
        if (da.known() ? da.value != db.value : (da.param.empty() || da.param != db.param)) {
            return false;
        }
    }
    return true;
}

// Conv -> Add(conv, Z) with Z of the Conv output's shape: FusedConv with Z as input 3.
bool fuse_add(ir::Graph& g, ir::Node& conv, FloatFusion& f) {
    std::size_t slot = 0;
    ir::Node* add = sole_reader(g, conv.outputs[0], &slot);
    if (!add || add->op_type != "Add" || !is_onnx(*add) || add->num_inputs() != 2 ||
        !single_output(*add)) {
        return false;
    }
    const ir::ValueId z = add->inputs[1 - slot];
    if (!same_static_shape(g, conv.outputs[0], z) ||
        !same_static_shape(g, conv.outputs[0], add->outputs[0])) {
        return false;
    }
    conv.inputs.resize(4);
    conv.inputs[3] = z;
    conv.op_type = "FusedConv";
    conv.domain = "com.microsoft";
    f.eliminated[static_cast<std::size_t>(conv.outputs[0].index)] = 1;
    conv.outputs[0] = add->outputs[0];
    add->removed = true;
    ++f.fused_add;
    return true;
}

// Conv or FusedConv without activation -> activation: FusedConv with the activation (and its
// parameters) as attributes.
bool fuse_activation(ir::Graph& g, ir::Node& conv, std::int64_t opset, FloatFusion& f) {
    if (conv.op_type == "FusedConv" && conv.find_attr("activation")) return false;
    ir::Node* act = sole_reader(g, conv.outputs[0]);
    if (!act || !is_onnx(*act) || !single_output(*act)) return false;
    const std::string& op = act->op_type;
    std::vector<float> params;
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh") {
        if (act->num_inputs() != 1) return false;
    } else if (op == "LeakyRelu") {
        params = {act->attr_float("alpha", 0.01f)};
    } else if (op == "HardSigmoid") {
        params = {act->attr_float("alpha", 0.2f), act->attr_float("beta", 0.5f)};
    } else if (op == "Clip") {
        float lo = -std::numeric_limits<float>::infinity();
        float hi = std::numeric_limits<float>::infinity();
        if (opset < 11) {
            if (act->find_attr("min")) lo = act->attr_float("min", lo);
            if (act->find_attr("max")) hi = act->attr_float("max", hi);
        } else {
            for (std::size_t i = 1; i < 3; ++i) {
                if (!act->has_input(i)) continue;
                const Tensor* t = float_const(g, act->inputs[i], 1);
                if (!t) return false;
                (i == 1 ? lo : hi) = t->data<float>()[0];
            }
        }
        params = {lo, hi};
    } else {
        return false;
    }
    conv.op_type = "FusedConv";
    conv.domain = "com.microsoft";
    ir::Attribute a;
    a.name = "activation";
    a.type = ir::AttrType::kString;
    a.s = op;
    conv.attributes.push_back(a);
    if (!params.empty()) {
        ir::Attribute pa;
        pa.name = "activation_params";
        pa.type = ir::AttrType::kFloats;
        pa.floats = params;
        conv.attributes.push_back(pa);
    }
    f.eliminated[static_cast<std::size_t>(conv.outputs[0].index)] = 1;
    conv.outputs[0] = act->outputs[0];
    act->removed = true;
    ++f.fused_act;
    return true;
}

}  // namespace

FloatFusion fuse_float(const ir::Graph& original, std::int64_t default_opset) {
    FloatFusion f;
    f.eliminated.assign(original.num_values(), 0);
    if (has_subgraphs(original)) return f;
    auto g = std::make_shared<ir::Graph>(original);
    g->rebuild_uses();
    ir::infer_shapes(*g, default_opset);  // types of the values fuse_add compares
    bool changed = false;
    for (std::size_t i = 0; i < g->num_nodes(); ++i) {
        if (g->nodes()[i].removed || !is_plain_conv(*g, g->nodes()[i])) continue;
        if (fold_batch_norm(*g, g->nodes()[i], f)) {
            g->rebuild_uses();
            changed = true;
        }
        if (fuse_add(*g, g->nodes()[i], f)) {
            g->rebuild_uses();
            changed = true;
        }
        if (fuse_activation(*g, g->nodes()[i], default_opset, f)) {
            g->rebuild_uses();
            changed = true;
        }
    }
    if (changed) f.graph = std::move(g);
    return f;
}

}  // namespace aquant::engine
