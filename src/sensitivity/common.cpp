#include <cmath>

#include "aquant/quant/quantize.h"
#include "aquant/sensitivity/estimator.h"
#include "aquant/sensitivity/probe.h"

namespace aquant::sensitivity {

#define AQUANT_ESTIMATOR(name) EstimatorInfo name##_estimator_info();
#include "builtin_estimators.inc"
#undef AQUANT_ESTIMATOR

const std::vector<EstimatorInfo>& estimators() {
    static const std::vector<EstimatorInfo> list = {
#define AQUANT_ESTIMATOR(name) name##_estimator_info(),
#include "builtin_estimators.inc"
#undef AQUANT_ESTIMATOR
    };
    return list;
}

std::unique_ptr<Estimator> make_estimator(const std::string& name) {
    std::string valid;
    for (const auto& e : estimators()) {
        if (e.name == name) return e.make();
        valid += (valid.empty() ? "" : ", ") + e.name;
    }
    throw ConfigError("unknown estimator '" + name + "'; valid: " + valid);
}

Tensor fake_quant_weight(const ir::Graph& g, const ir::Layer& layer, int bits,
                         const quant::WeightQuantConfig& cfg) {
    const Tensor& w = *g.constant(layer.weight_source);
    const auto params = quant::weight_params(w, bits, cfg, {layer.channel_axis, layer.reduction_axis});
    return quant::fake_quantize(w, params);
}

LayerSensitivity describe_layer(const ir::Graph& g, const ir::Layer& layer,
                                const std::vector<int>& candidate_bits,
                                const quant::WeightQuantConfig& cfg) {
    const ir::Node& n = g.node(layer.node);
    const Tensor& w = *g.constant(layer.weight_source);
    LayerSensitivity s;
    s.name = n.name;
    s.op_type = n.op_type;
    s.weight = g.value(layer.weight_source).name;
    s.params = layer.params;
    const auto wf = w.to_f32();
    for (int bits : candidate_bits) {
        const auto params = quant::weight_params(w, bits, cfg, {layer.channel_axis, layer.reduction_axis});
        const Tensor q = quant::fake_quantize(w, params);
        double err = 0;
        const float* qd = q.data<float>();
        for (std::size_t i = 0; i < wf.size(); ++i) {
            const double d = static_cast<double>(qd[i]) - wf[i];
            err += d * d;
        }
        s.weight_error.push_back(err);
        s.size_bits.push_back(quant::weight_size_bits(layer.params, bits, params.num_groups()));
    }
    return s;
}

}  // namespace aquant::sensitivity

namespace aquant::sensitivity {

void measure_top1_drop(const EstimatorInput& in, SensitivityTable& table) {
    bool done = !table.layers.empty();
    for (const auto& l : table.layers) done = done && l.top1_drop.size() == table.candidate_bits.size();
    if (done) return;
    if (table.layers.size() != in.layers.size()) {
        throw InternalError("measure_top1_drop: the table and the input differ in layers");
    }
    const ir::Graph& g = *in.model->graph;
    LayerProbe probe(in);
    table.fp32_top1 = top1(probe.fp32_logits(), probe.fp32_logits(), in.calib, &table.top1_with_labels);
    for (std::size_t l = 0; l < in.layers.size(); ++l) {
        auto& s = table.layers[l];
        s.top1_drop.clear();
        for (int bits : table.candidate_bits) {
            const Tensor wq = fake_quant_weight(g, in.layers[l], bits, in.weights);
            s.top1_drop.push_back(table.fp32_top1 - top1(probe.fp32_logits(), probe.logits_with(l, wq), in.calib));
        }
    }
}

}  // namespace aquant::sensitivity
