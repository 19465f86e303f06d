#include "aquant/export/bn_fold.h"

#include <algorithm>
#include <cmath>

#include "aquant/ir/patch.h"

namespace aquant::qdq {

FoldedConv fold_bn_params(const Tensor& weight, const Tensor* bias, const Tensor& gamma,
                          const Tensor& beta, const Tensor& mean, const Tensor& var,
                          float epsilon) {
    const std::int64_t m = weight.rank() == 0 ? 0 : weight.dim(0);
    for (const Tensor* t : {&gamma, &beta, &mean, &var, bias}) {
        if (t && t->numel() != m) {
            throw InternalError("fold_bn_params: parameter of " + dims_str(t->dims()) +
                                " for weight " + dims_str(weight.dims()));
        }
    }
    const std::vector<double> w = weight.to_f64();
    const std::vector<double> g = gamma.to_f64(), be = beta.to_f64(), mu = mean.to_f64(),
                              v = var.to_f64();
    const std::vector<double> b = bias ? bias->to_f64() : std::vector<double>(m, 0.0);
    const std::int64_t per_channel = m == 0 ? 0 : weight.numel() / m;
    FoldedConv out{Tensor(DType::kF32, weight.dims()), Tensor(DType::kF32, {m})};
    float* wo = out.weight.data<float>();
    float* bo = out.bias.data<float>();
    for (std::int64_t c = 0; c < m; ++c) {
        const double f = g[c] / std::sqrt(v[c] + static_cast<double>(epsilon));
        for (std::int64_t i = 0; i < per_channel; ++i) {
            const std::int64_t k = c * per_channel + i;
            wo[k] = static_cast<float>(w[k] * f);
        }
        bo[c] = static_cast<float>((b[c] - mu[c]) * f + be[c]);
    }
    return out;
}

namespace {

bool is_default_domain(const ir::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool is_graph_output(const ir::Graph& g, ir::ValueId v) {
    return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

// A constant, also when it reaches the node through Identity nodes (exporters alias equal
// initializers that way, e.g. PyTorch's deduplicated BN parameters).
const Tensor* constant_of(const ir::Graph& g, ir::ValueId v) {
    for (int depth = 0; depth < 8 && v.valid(); ++depth) {
        if (const Tensor* t = g.constant(v)) return t;
        const ir::NodeId p = g.producer(v);
        if (!p.valid() || g.node(p).op_type != "Identity" || !is_default_domain(g.node(p))) break;
        v = g.node(p).inputs.empty() ? ir::ValueId{} : g.node(p).inputs[0];
    }
    return nullptr;
}

const Tensor* float_constant(const ir::Graph& g, const ir::Node& n, std::size_t i,
                             std::int64_t numel) {
    if (!n.has_input(i)) return nullptr;
    const Tensor* t = constant_of(g, n.inputs[i]);
    if (!t || t->dtype() != DType::kF32) return nullptr;
    if (numel >= 0 && t->numel() != numel) return nullptr;
    return t;
}

// A constant this Conv may overwrite in place: an initializer nothing else reads.
bool owned_initializer(const ir::Graph& g, ir::ValueId v) {
    return g.is_initializer(v) && g.consumers(v).size() == 1 && !g.is_graph_input(v) &&
           !is_graph_output(g, v);
}

std::optional<ir::NodeId> reject(std::string* reason, std::string why) {
    *reason = std::move(why);
    return std::nullopt;
}

struct Candidate {
    ir::NodeId conv;
    ir::NodeId bn;
};

// The Conv feeding this BN when the pair can be folded; otherwise a reason.
std::optional<ir::NodeId> foldable_conv(const ir::Graph& g, const ir::Node& bn,
                                        std::string* reason) {
    if (bn.attr_int("training_mode", 0) != 0) return reject(reason, "training_mode is 1");
    for (std::size_t i = 1; i < bn.outputs.size(); ++i) {
        if (bn.outputs[i].valid()) return reject(reason, "has running-statistics outputs");
    }
    const ir::ValueId x = bn.inputs.empty() ? ir::ValueId{} : bn.inputs[0];
    const ir::NodeId p = x.valid() ? g.producer(x) : ir::NodeId{};
    if (!p.valid() || g.node(p).op_type != "Conv" || !is_default_domain(g.node(p))) {
        return reject(reason, "input is not produced by a Conv");
    }
    const ir::Node& conv = g.node(p);
    if (g.consumers(x).size() != 1 || is_graph_output(g, x)) {
        return reject(reason, "the Conv output has other uses");
    }
    const Tensor* w = float_constant(g, conv, 1, -1);
    if (!w || w->rank() < 3) return reject(reason, "the Conv weight is not a float constant");
    const std::int64_t m = w->dim(0);
    if (conv.has_input(2) && !float_constant(g, conv, 2, m)) {
        return reject(reason, "the Conv bias is not a float constant");
    }
    for (std::size_t i = 1; i <= 4; ++i) {
        if (!float_constant(g, bn, i, m)) {
            return reject(reason, "input " + std::to_string(i) + " is not a float constant of " +
                                      std::to_string(m) + " values");
        }
    }
    return p;
}

void fold_pair(ir::Graph& g, ir::GraphPatch& patch, ir::NodeId conv_id, ir::NodeId bn_id) {
    const ir::Node& conv = g.node(conv_id);
    const ir::Node& bn = g.node(bn_id);
    const Tensor* bias = conv.has_input(2) ? constant_of(g, conv.inputs[2]) : nullptr;
    FoldedConv f = fold_bn_params(*constant_of(g, conv.inputs[1]), bias,
                                  *constant_of(g, bn.inputs[1]), *constant_of(g, bn.inputs[2]),
                                  *constant_of(g, bn.inputs[3]), *constant_of(g, bn.inputs[4]),
                                  bn.attr_float("epsilon", 1e-5f));
    const ir::ValueId w = conv.inputs[1];
    if (owned_initializer(g, w)) {
        g.value(w).initializer = f.weight;
    } else {
        patch.set_input(conv_id, 1, patch.add_initializer(g.value(w).name + "_bnfold", f.weight));
    }
    if (bias && owned_initializer(g, conv.inputs[2])) {
        g.value(conv.inputs[2]).initializer = f.bias;
    } else {
        const std::string base = conv.name.empty() ? g.value(w).name : conv.name;
        patch.set_input(conv_id, 2, patch.add_initializer(base + "_bias_bnfold", f.bias));
    }
    patch.set_output(conv_id, 0, bn.outputs[0]);
    patch.remove_node(bn_id);
}

// Identity nodes that only fed folded BN parameters.
void remove_dead_identities(ir::Graph& g) {
    ir::GraphPatch patch(g);
    bool any = false;
    for (ir::NodeId id : g.node_ids()) {
        const ir::Node& n = g.node(id);
        if (n.op_type != "Identity" || n.outputs.empty() || !n.outputs[0].valid()) continue;
        if (g.consumers(n.outputs[0]).empty() && !is_graph_output(g, n.outputs[0])) {
            patch.remove_node(id);
            any = true;
        }
    }
    if (any) patch.apply();
}

}  // namespace

BnFoldResult fold_batch_norms(ir::Graph& g) {
    g.rebuild_uses();
    BnFoldResult result;
    std::vector<Candidate> pairs;
    for (ir::NodeId id : g.node_ids()) {
        const ir::Node& n = g.node(id);
        if (n.op_type != "BatchNormalization" || !is_default_domain(n)) continue;
        std::string reason;
        if (auto conv = foldable_conv(g, n, &reason)) {
            pairs.push_back({*conv, id});
        } else {
            result.kept.push_back("'" + n.name + "': " + reason);
        }
    }
    if (pairs.empty()) return result;
    std::vector<ir::ValueId> orphaned;
    ir::GraphPatch patch(g);
    for (const Candidate& c : pairs) {
        orphaned.push_back(g.node(c.conv).outputs[0]);
        fold_pair(g, patch, c.conv, c.bn);
    }
    patch.apply();
    remove_dead_identities(g);
    ir::remove_unused_initializers(g);
    auto& vi = g.value_infos;
    vi.erase(std::remove_if(vi.begin(), vi.end(),
                            [&](ir::ValueId v) {
                                return std::find(orphaned.begin(), orphaned.end(), v) !=
                                       orphaned.end();
                            }),
             vi.end());
    result.folded = static_cast<int>(pairs.size());
    return result;
}

}  // namespace aquant::qdq
