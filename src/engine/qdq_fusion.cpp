#include "aquant/engine/qdq_fusion.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "aquant/ir/patch.h"
#include "aquant/quant/int4_pack.h"

namespace aquant::engine {
namespace {

using ir::Graph;
using ir::Node;
using ir::NodeId;
using ir::ValueId;

constexpr const char* kDomain = "ai.aquant";
// Largest relative difference between the bias scale and s_x * s_w[c] that is still taken as
// "the bias is in accumulator units" (exporters compute the product in float or double).
constexpr double kBiasScaleTolerance = 1e-5;

bool is_default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool is_op(const Node& n, const char* op) { return n.op_type == op && is_default_domain(n); }

const Node* producer_of(const Graph& g, ValueId v) {
    if (!v.valid()) return nullptr;
    const NodeId p = g.producer(v);
    return p.valid() ? &g.node(p) : nullptr;
}

bool is_graph_output(const Graph& g, ValueId v) {
    return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

ValueId input_or_invalid(const Node& n, std::size_t i) {
    return n.has_input(i) ? n.inputs[i] : ValueId{};
}

std::string type_str(DType t) { return std::string(dtype_name(t)); }

// Everything needed to write the fused node of one layer.
struct Match {
    NodeId layer, q_y;
    ValueId dq_x_out, dq_w_out, dq_b_out;  // DequantizeLinear outputs (dq_b_out may be invalid)
    ValueId x_q, s_x, z_x, w_q, s_w, z_w, s_y, z_y, bias_q, y_q;
    DType x_type = DType::kUndefined, y_type = DType::kUndefined, w_type = DType::kUndefined;
    bool per_channel = false;
    bool trans_b = false;
};

// Per-tensor QuantizeLinear / DequantizeLinear parameters (inputs 1 and 2 of `n`): a constant
// one-element scale and an optional constant one-element zero point.
std::string per_tensor_params(const Graph& g, const Node& n, const char* what, ValueId* scale,
                              ValueId* zero_point) {
    const Tensor* s = g.constant(input_or_invalid(n, 1));
    if (!s || s->numel() != 1) {
        return std::string(what) + " scale is not a constant scalar";
    }
    *scale = n.inputs[1];
    *zero_point = input_or_invalid(n, 2);
    if (zero_point->valid()) {
        const Tensor* z = g.constant(*zero_point);
        if (!z || z->numel() != 1) return std::string(what) + " zero point is not a constant scalar";
    }
    if (n.attr_int("block_size", 0) != 0) return std::string(what) + " is blocked";
    return "";
}

// The activation side: DequantizeLinear(x_q) feeding input 0.
std::string match_input(const Graph& g, const Node& dq, Match* m) {
    m->dq_x_out = dq.outputs[0];
    m->x_q = dq.inputs[0];
    std::string err = per_tensor_params(g, dq, "input DequantizeLinear", &m->s_x, &m->z_x);
    if (!err.empty()) return err;
    if (m->z_x.valid()) {
        m->x_type = g.constant(m->z_x)->dtype();
    } else if (const auto& t = g.value(m->x_q).type) {
        m->x_type = t->elem_type;
    }
    if (m->x_type != DType::kU8 && m->x_type != DType::kI8) {
        return "input activation type is '" + type_str(m->x_type) + "', expected uint8 or int8";
    }
    return "";
}

// Whether constants a and b are present and equal (the same value, or the same contents).
bool same_constant(const Graph& g, ValueId a, ValueId b) {
    if (a == b) return a.valid();
    const Tensor* ta = g.constant(a);
    const Tensor* tb = g.constant(b);
    return ta && tb && ta->same_as(*tb);
}

// Whether the zero point input `z` of a Q/DQ node is absent or all zeros.
bool zero_or_absent(const Graph& g, ValueId z) {
    if (!z.valid()) return true;
    const Tensor* t = g.constant(z);
    if (!t) return false;
    for (std::int64_t i = 0; i < t->numel(); ++i) {
        if (t->get_f64(i) != 0) return false;
    }
    return true;
}

// INT4 weights requantized to int8 (INT4 -> DequantizeLinear -> QuantizeLinear(int8) ->
// DequantizeLinear, qdq::ExportPlan::int4_int8_compute): when all three use the same scale and
// axis and zero points of 0, the int8 codes equal the INT4 codes, so the inner DequantizeLinear
// stands for the outer one. Returns it, or `dq` itself when the chain is not there.
const Node* int4_source(const Graph& g, const Node* dq) {
    const Node* q = producer_of(g, input_or_invalid(*dq, 0));
    if (!q || !is_op(*q, "QuantizeLinear")) return dq;
    const Node* inner = producer_of(g, input_or_invalid(*q, 0));
    if (!inner || !is_op(*inner, "DequantizeLinear")) return dq;
    const Tensor* w = g.constant(input_or_invalid(*inner, 0));
    if (!w || !dtype_is_4bit(w->dtype())) return dq;
    const ValueId s = input_or_invalid(*dq, 1);
    const bool same = same_constant(g, s, input_or_invalid(*q, 1)) &&
                      same_constant(g, s, input_or_invalid(*inner, 1)) &&
                      zero_or_absent(g, input_or_invalid(*dq, 2)) &&
                      zero_or_absent(g, input_or_invalid(*q, 2)) &&
                      zero_or_absent(g, input_or_invalid(*inner, 2)) &&
                      dq->attr_int("axis", 1) == q->attr_int("axis", 1) &&
                      dq->attr_int("axis", 1) == inner->attr_int("axis", 1) &&
                      dq->attr_int("block_size", 0) == 0 && q->attr_int("block_size", 0) == 0 &&
                      inner->attr_int("block_size", 0) == 0;
    return same ? inner : dq;
}

// The weight side: DequantizeLinear(constant W_q) on input 1, per tensor or per channel along
// `axis` (of a weight of rank `rank`), with `channels` output channels; INT4 codes requantized
// to int8 (int4_source) are taken at their INT4 source.
std::string match_weight(const Graph& g, const Node& layer, std::int64_t axis,
                         std::size_t want_rank, Match* m, std::int64_t* channels) {
    const Node* outer = producer_of(g, input_or_invalid(layer, 1));
    if (!outer || !is_op(*outer, "DequantizeLinear")) return "weight is not a DequantizeLinear output";
    const Node* dq = int4_source(g, outer);
    const Tensor* w = g.constant(input_or_invalid(*dq, 0));
    if (!w) return "weight DequantizeLinear does not read a constant";
    const DType t = w->dtype();
    if (t != DType::kI8 && t != DType::kU8 && t != DType::kI4 && t != DType::kU4) {
        return "weight type is '" + type_str(t) + "', expected int8, uint8, int4 or uint4";
    }
    if (want_rank ? w->rank() != want_rank : (w->rank() < 3 || w->rank() > 5)) {
        return "weight has dims " + dims_str(w->dims()) + ", unsupported rank";
    }
    if (dq->attr_int("block_size", 0) != 0) return "weight is quantized per block";
    const Tensor* s = g.constant(input_or_invalid(*dq, 1));
    if (!s) return "weight scale is not a constant";
    *channels = w->dim(static_cast<std::size_t>(axis));
    if (s->numel() != 1) {
        std::int64_t a = dq->attr_int("axis", 1);
        if (a < 0) a += static_cast<std::int64_t>(w->rank());
        if (s->rank() != 1 || s->numel() != *channels || a != axis) {
            return "weight scale " + dims_str(s->dims()) + " on axis " + std::to_string(a) +
                   " is not per output channel (axis " + std::to_string(axis) + ", " +
                   std::to_string(*channels) + " values)";
        }
        m->per_channel = true;
    }
    m->dq_w_out = outer->outputs[0];
    m->w_q = dq->inputs[0];
    m->w_type = t;
    m->s_w = dq->inputs[1];
    m->z_w = input_or_invalid(*dq, 2);
    if (m->z_w.valid()) {
        const Tensor* z = g.constant(m->z_w);
        if (!z || z->numel() != s->numel()) return "weight zero point is not a constant of the scale's size";
    }
    return "";
}

// The optional int32 bias: DequantizeLinear(constant int32, zero point 0) whose scale is
// s_x * s_w[c].
std::string match_bias(const Graph& g, ValueId b, std::int64_t channels, Match* m) {
    const Node* dq = producer_of(g, b);
    if (!dq || !is_op(*dq, "DequantizeLinear")) return "bias is not a DequantizeLinear output";
    const Tensor* q = g.constant(input_or_invalid(*dq, 0));
    if (!q || q->dtype() != DType::kI32 || q->numel() != channels ||
        (q->rank() != 1 && !(q->rank() == 2 && q->dim(0) == 1))) {
        return "bias DequantizeLinear does not read a constant int32 [" +
               std::to_string(channels) + "]";
    }
    const ValueId zb = input_or_invalid(*dq, 2);
    if (zb.valid() && !g.constant(zb)) return "bias zero point is not a constant";
    if (!zero_or_absent(g, zb)) return "bias zero point is not 0";
    const Tensor* sb = g.constant(input_or_invalid(*dq, 1));
    const Tensor* sx = g.constant(m->s_x);
    const Tensor* sw = g.constant(m->s_w);
    if (!sb || (sb->numel() != 1 && sb->numel() != channels)) return "bias scale is not a constant";
    const std::int64_t n = std::max(sb->numel(), sw->numel());
    for (std::int64_t c = 0; c < n; ++c) {
        const double want = static_cast<double>(static_cast<float>(sx->get_f64(0)) *
                                                static_cast<float>(sw->get_f64(sw->numel() == 1 ? 0 : c)));
        const double got = sb->get_f64(sb->numel() == 1 ? 0 : c);
        if (!(std::abs(got - want) <= kBiasScaleTolerance * std::abs(want))) {
            return "bias scale " + std::to_string(got) + " differs from input scale * weight scale " +
                   std::to_string(want) + " (channel " + std::to_string(c) + ")";
        }
    }
    m->dq_b_out = dq->outputs[0];
    m->bias_q = dq->inputs[0];
    return "";
}

// The output side: the layer's only consumer is a per-tensor QuantizeLinear.
std::string match_output(const Graph& g, const Node& layer, Match* m) {
    const ValueId y = layer.outputs[0];
    for (std::size_t i = 1; i < layer.outputs.size(); ++i) {
        if (layer.outputs[i].valid() && !g.consumers(layer.outputs[i]).empty()) {
            return "a second output is used";
        }
    }
    if (is_graph_output(g, y)) return "the output is a graph output";
    const auto& cons = g.consumers(y);
    if (cons.size() != 1 || !is_op(g.node(cons[0]), "QuantizeLinear")) {
        return "the output feeds " + std::to_string(cons.size()) +
               " node(s), expected one QuantizeLinear";
    }
    const Node& q = g.node(cons[0]);
    std::string err = per_tensor_params(g, q, "output QuantizeLinear", &m->s_y, &m->z_y);
    if (!err.empty()) return err;
    m->y_type = m->z_y.valid() ? g.constant(m->z_y)->dtype()
                               : static_cast<DType>(q.attr_int("output_dtype", 2));
    if (m->y_type != DType::kU8 && m->y_type != DType::kI8) {
        return "output QuantizeLinear type is '" + type_str(m->y_type) + "', expected uint8 or int8";
    }
    m->q_y = cons[0];
    m->y_q = q.outputs[0];
    return "";
}

std::string match_layer(const Graph& g, NodeId id, Match* m) {
    const Node& n = g.node(id);
    m->layer = id;
    const Node* dq_x = producer_of(g, input_or_invalid(n, 0));
    std::string err = match_input(g, *dq_x, m);
    if (!err.empty()) return err;
    std::int64_t channels = 0;
    ValueId bias;
    if (is_op(n, "Conv")) {
        err = match_weight(g, n, 0, 0, m, &channels);
        bias = input_or_invalid(n, 2);
    } else if (is_op(n, "Gemm")) {
        if (n.attr_int("transA", 0) != 0) return "Gemm has transA = 1";
        if (n.attr_float("alpha", 1.0f) != 1.0f) return "Gemm alpha is not 1";
        bias = input_or_invalid(n, 2);
        if (bias.valid() && n.attr_float("beta", 1.0f) != 1.0f) return "Gemm beta is not 1";
        m->trans_b = n.attr_int("transB", 0) != 0;
        err = match_weight(g, n, m->trans_b ? 0 : 1, 2, m, &channels);
    } else {
        err = match_weight(g, n, 1, 2, m, &channels);
    }
    if (!err.empty()) return err;
    if (bias.valid()) {
        err = match_bias(g, bias, channels, m);
        if (!err.empty()) return err;
    }
    return match_output(g, n, m);
}

// A one-element zero of type t (ONNX requires the zero-point inputs of QLinearConv).
Tensor zero_scalar(DType t) { return Tensor(t, {}); }

// 4-bit tensors unpacked to 8-bit, others returned as they are.
std::optional<Tensor> unpacked(const Tensor& t) {
    if (!dtype_is_4bit(t.dtype())) return std::nullopt;
    return quant::unpack_int4_tensor(t);
}

void write_fused(Graph& g, ir::GraphPatch& patch, const Match& m, QdqFusionReport* report) {
    const Node& layer = g.node(m.layer);
    const bool conv = is_op(layer, "Conv");
    ValueId z_x = m.z_x, w_q = m.w_q, z_w = m.z_w, z_y = m.z_y;
    if (!z_x.valid()) z_x = patch.add_initializer(layer.name + "_x_zero_point", zero_scalar(m.x_type));
    if (auto w8 = unpacked(*g.constant(m.w_q))) {
        w_q = patch.add_initializer(g.value(m.w_q).name + "_int8", std::move(*w8));
    }
    const DType w8_type = g.constant(w_q) ? g.constant(w_q)->dtype()
                                          : (m.w_type == DType::kU4 ? DType::kU8 : DType::kI8);
    if (z_w.valid()) {
        if (auto z8 = unpacked(*g.constant(z_w))) {
            z_w = patch.add_initializer(g.value(m.z_w).name + "_int8", std::move(*z8));
        }
    } else {
        z_w = patch.add_initializer(layer.name + "_w_zero_point", zero_scalar(w8_type));
    }
    if (!z_y.valid()) z_y = patch.add_initializer(layer.name + "_y_zero_point", zero_scalar(m.y_type));

    Node f;
    f.name = layer.name;
    f.inputs = {m.x_q, m.s_x, z_x, w_q, m.s_w, z_w, m.s_y, z_y};
    if (m.bias_q.valid()) f.inputs.push_back(m.bias_q);
    f.outputs = {m.y_q};
    if (conv) {
        f.op_type = "QLinearConv";
        for (const auto& a : layer.attributes) {
            if (a.name == "auto_pad" || a.name == "dilations" || a.name == "group" ||
                a.name == "kernel_shape" || a.name == "pads" || a.name == "strides") {
                f.attributes.push_back(a);
            }
        }
    } else {
        f.op_type = "QLinearGemm";
        f.domain = kDomain;
        ir::Attribute t;
        t.name = "transB";
        t.type = ir::AttrType::kInt;
        t.i = m.trans_b ? 1 : 0;
        f.attributes.push_back(t);
    }
    report->fused.push_back({layer.name, layer.op_type,
                             conv ? "QLinearConv" : std::string(kDomain) + ".QLinearGemm",
                             type_str(m.w_type), m.per_channel, m.bias_q.valid()});
    patch.remove_node(m.layer);
    patch.remove_node(m.q_y);
    patch.add_node(std::move(f));
}

// Removes DequantizeLinear / QuantizeLinear / Constant nodes among the producers of `values`
// whose outputs are no longer used, then their own such producers, and so on.
int remove_dead_producers(Graph& g, std::vector<ValueId> values) {
    int removed = 0;
    while (!values.empty()) {
        ir::GraphPatch patch(g);
        std::set<std::int32_t> queued;
        std::vector<ValueId> next;
        for (ValueId v : values) {
            const NodeId id = g.producer(v);
            if (!id.valid() || queued.count(id.index)) continue;
            const Node& n = g.node(id);
            if (!is_op(n, "DequantizeLinear") && !is_op(n, "QuantizeLinear") &&
                !is_op(n, "Constant")) {
                continue;
            }
            const bool used = std::any_of(n.outputs.begin(), n.outputs.end(), [&](ValueId o) {
                return o.valid() && (!g.consumers(o).empty() || is_graph_output(g, o));
            });
            if (used) continue;
            queued.insert(id.index);
            patch.remove_node(id);
            for (ValueId in : n.inputs) {
                if (in.valid()) next.push_back(in);
            }
        }
        if (queued.empty()) break;
        removed += static_cast<int>(queued.size());
        patch.apply();
        values = std::move(next);
    }
    return removed;
}

}  // namespace

std::string QdqFusionReport::summary() const {
    std::map<std::string, int> by_op;
    for (const auto& f : fused) ++by_op[f.fused_op];
    std::string s = std::to_string(fused.size()) + " layer(s) fused";
    if (!by_op.empty()) {
        s += " (";
        bool first = true;
        for (const auto& [op, count] : by_op) {
            s += (first ? "" : ", ") + op + " " + std::to_string(count);
            first = false;
        }
        s += ")";
    }
    return s + ", " + std::to_string(skipped.size()) + " kept in float";
}

QdqFusionReport fuse_qdq(ir::Model& model, const QdqFusionOptions& options) {
    Graph& g = *model.graph;
    g.rebuild_uses();
    QdqFusionReport report;
    std::vector<Match> matches;
    for (NodeId id : g.topological_order()) {
        const Node& n = g.node(id);
        const bool conv = is_op(n, "Conv");
        const bool gemm = is_op(n, "Gemm") || is_op(n, "MatMul");
        if (!(conv && options.conv) && !(gemm && options.gemm)) continue;
        const Node* dq_x = producer_of(g, input_or_invalid(n, 0));
        if (!dq_x || !is_op(*dq_x, "DequantizeLinear") || n.num_inputs() < 2) continue;
        Match m;
        const std::string why = match_layer(g, id, &m);
        if (why.empty()) {
            matches.push_back(m);
        } else {
            report.skipped.push_back({n.name, n.op_type, why});
        }
    }
    if (matches.empty()) return report;
    ir::GraphPatch patch(g);
    std::vector<ValueId> dq_outputs;
    bool any_gemm = false;
    for (const Match& m : matches) {
        any_gemm = any_gemm || !is_op(g.node(m.layer), "Conv");
        write_fused(g, patch, m, &report);
        for (ValueId v : {m.dq_x_out, m.dq_w_out, m.dq_b_out}) {
            if (v.valid()) dq_outputs.push_back(v);
        }
    }
    patch.apply();
    report.removed_nodes = 2 * static_cast<int>(matches.size()) + remove_dead_producers(g, dq_outputs);
    ir::remove_unused_initializers(g);
    if (any_gemm && model.opset(kDomain) == 0) model.set_opset(kDomain, 1);
    return report;
}

}  // namespace aquant::engine
