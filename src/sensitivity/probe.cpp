#include "aquant/sensitivity/probe.h"

#include <algorithm>
#include <cmath>

#include "aquant/core/error.h"

namespace aquant::sensitivity {

LayerProbe::LayerProbe(const EstimatorInput& input) : input_(input) {
    exec_ = std::make_unique<engine::Executor>(input.model);
    const ir::Graph& g = *input.model->graph;
    const ir::ValueId out = g.outputs.at(input.output_index);
    engine::RunOptions keep;
    keep.keep_intermediates = true;
    for (const auto& b : input.calib) {
        engine::ValueMap values;
        for (const auto& [name, t] : b.inputs) {
            const auto id = g.find_value(name);
            if (!id) throw DataError("calibration data: the model has no input '" + name + "'");
            values[id->index] = t;
        }
        exec_->run(values, {}, keep);
        fp32_logits_.push_back(values.at(out.index));
        cache_.push_back(std::move(values));
    }
    // Values downstream of each layer node (its outputs and everything computed from them).
    const auto order = g.topological_order();
    for (const auto& layer : input.layers) {
        std::vector<char> down(g.num_values(), 0);
        std::vector<char> node_down(g.num_nodes(), 0);
        node_down[static_cast<std::size_t>(layer.node.index)] = 1;
        for (ir::NodeId id : order) {
            const ir::Node& n = g.node(id);
            bool d = node_down[static_cast<std::size_t>(id.index)];
            for (ir::ValueId in : n.inputs) {
                if (in.valid() && down[static_cast<std::size_t>(in.index)]) d = true;
            }
            if (!d) continue;
            node_down[static_cast<std::size_t>(id.index)] = 1;
            for (ir::ValueId o : n.outputs) {
                if (o.valid()) down[static_cast<std::size_t>(o.index)] = 1;
            }
        }
        downstream_.push_back(std::move(down));
    }
}

std::vector<Tensor> LayerProbe::run_with(std::size_t l, const Tensor& w, ir::ValueId wanted) {
    const ir::Layer& layer = input_.layers.at(l);
    const ir::Graph& g = *input_.model->graph;
    const Tensor original = *g.constant(layer.weight_source);
    exec_->replace_initializer(layer.weight_source, w);
    std::vector<Tensor> result;
    try {
        for (const auto& cached : cache_) {
            engine::ValueMap values;
            for (const auto& [index, t] : cached) {
                if (!downstream_[l][static_cast<std::size_t>(index)]) values.emplace(index, t);
            }
            exec_->run(values, {wanted});
            result.push_back(values.at(wanted.index));
        }
    } catch (...) {
        exec_->replace_initializer(layer.weight_source, original);
        throw;
    }
    exec_->replace_initializer(layer.weight_source, original);
    return result;
}

std::vector<Tensor> LayerProbe::logits_with(std::size_t l, const Tensor& w) {
    return run_with(l, w, input_.model->graph->outputs.at(input_.output_index));
}

std::vector<Tensor> LayerProbe::layer_output_with(std::size_t l, const Tensor& w) {
    const ir::Graph& g = *input_.model->graph;
    return run_with(l, w, g.node(input_.layers.at(l).node).outputs.at(0));
}

std::vector<Tensor> LayerProbe::layer_output_fp32(std::size_t l) const {
    const ir::Graph& g = *input_.model->graph;
    const ir::ValueId out = g.node(input_.layers.at(l).node).outputs.at(0);
    std::vector<Tensor> result;
    for (const auto& cached : cache_) result.push_back(cached.at(out.index));
    return result;
}

double mean_loss(const std::vector<Tensor>& ref, const std::vector<Tensor>& x,
                 const std::vector<CalibBatch>& batches, const std::string& kind) {
    double total = 0;
    std::int64_t samples = 0;
    for (std::size_t b = 0; b < ref.size(); ++b) {
        const auto r = ref[b].to_f64();
        const auto q = x[b].to_f64();
        const std::int64_t rows = ref[b].rank() == 0 ? 1 : ref[b].dim(0);
        const std::int64_t cols = rows == 0 ? 0 : ref[b].numel() / rows;
        std::vector<double> labels;
        if (kind == "ce") {
            if (!batches[b].labels) throw ConfigError("loss 'ce' needs labels in the data");
            labels = batches[b].labels->to_f64();
        }
        for (std::int64_t i = 0; i < rows; ++i) {
            const double* a = r.data() + i * cols;
            const double* c = q.data() + i * cols;
            if (kind == "logit-mse") {
                for (std::int64_t k = 0; k < cols; ++k) total += (c[k] - a[k]) * (c[k] - a[k]);
            } else {
                const double ma = *std::max_element(a, a + cols);
                const double mc = *std::max_element(c, c + cols);
                double sa = 0, sc = 0;
                for (std::int64_t k = 0; k < cols; ++k) {
                    sa += std::exp(a[k] - ma);
                    sc += std::exp(c[k] - mc);
                }
                const double lsa = ma + std::log(sa), lsc = mc + std::log(sc);
                if (kind == "kl") {
                    for (std::int64_t k = 0; k < cols; ++k) {
                        const double pa = std::exp(a[k] - lsa);
                        total += pa * ((a[k] - lsa) - (c[k] - lsc));
                    }
                } else if (kind == "ce") {
                    const auto y = static_cast<std::int64_t>(labels[static_cast<std::size_t>(i)]);
                    total += (lsc - c[y]) - (lsa - a[y]);
                } else {
                    throw ConfigError("unknown loss '" + kind + "'; valid: ce, kl, logit-mse");
                }
            }
        }
        samples += rows;
    }
    return samples ? total / static_cast<double>(samples) : 0.0;
}

}  // namespace aquant::sensitivity

namespace aquant::sensitivity {
namespace {

std::int64_t argmax_row(const float* p, std::int64_t n) {
    return static_cast<std::int64_t>(std::max_element(p, p + n) - p);
}

}  // namespace

double top1(const std::vector<Tensor>& ref, const std::vector<Tensor>& x,
            const std::vector<CalibBatch>& batches, bool* with_labels) {
    bool labels = !batches.empty();
    for (const auto& b : batches) labels = labels && b.labels.has_value();
    if (with_labels) *with_labels = labels;
    std::int64_t hits = 0, samples = 0;
    for (std::size_t b = 0; b < x.size(); ++b) {
        const std::vector<float> xr = x[b].to_f32();
        const std::vector<float> rr = labels ? std::vector<float>{} : ref[b].to_f32();
        const std::int64_t rows = x[b].rank() == 0 ? 1 : x[b].dim(0);
        const std::int64_t cols = rows == 0 ? 0 : x[b].numel() / rows;
        std::vector<double> y;
        if (labels) y = batches[b].labels->to_f64();
        for (std::int64_t i = 0; i < rows; ++i) {
            const std::int64_t got = argmax_row(xr.data() + i * cols, cols);
            const std::int64_t want = labels ? static_cast<std::int64_t>(y[static_cast<std::size_t>(i)])
                                             : argmax_row(rr.data() + i * cols, cols);
            hits += got == want;
        }
        samples += rows;
    }
    return samples ? static_cast<double>(hits) / static_cast<double>(samples) : 0.0;
}

}  // namespace aquant::sensitivity
