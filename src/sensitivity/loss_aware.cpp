// Seeds 2 and 4, post-training (ALGORITHMS.md 1.5 S1): per layer and bit-width, the measured
// change of the loss on the calibration set when only that layer is quantized. The loss is
// KL(p_fp32 || p_quant) by default (label-free, never negative: ALGORITHMS.md 0.1 found
// cross-entropy deltas at >= 4 bits dominated by noise), or the cross-entropy delta with
// labels (loss "ce"). Cached activations: each measurement runs only the network after the
// layer.
#include "aquant/core/log.h"
#include "aquant/sensitivity/probe.h"

namespace aquant::sensitivity {
namespace {

class LossAware final : public Estimator {
public:
    SensitivityTable estimate(const EstimatorInput& in) const override {
        const ir::Graph& g = *in.model->graph;
        LayerProbe probe(in);
        SensitivityTable table;
        table.estimator = "loss-aware";
        table.metric = in.loss == "ce" ? "cross-entropy delta" : in.loss;
        table.candidate_bits = in.candidate_bits;
        table.fp32_top1 = top1(probe.fp32_logits(), probe.fp32_logits(), in.calib,
                               &table.top1_with_labels);
        for (std::size_t l = 0; l < in.layers.size(); ++l) {
            LayerSensitivity s = describe_layer(g, in.layers[l], in.candidate_bits, in.weights);
            for (int bits : in.candidate_bits) {
                const Tensor wq = fake_quant_weight(g, in.layers[l], bits, in.weights);
                const auto logits = probe.logits_with(l, wq);
                s.cost.push_back(mean_loss(probe.fp32_logits(), logits, in.calib, in.loss));
                s.top1_drop.push_back(table.fp32_top1 -
                                      top1(probe.fp32_logits(), logits, in.calib));
            }
            logger().debug("sensitivity loss-aware: {} cost@{}b {:.4g}", s.name,
                           in.candidate_bits[0], s.cost[0]);
            table.layers.push_back(std::move(s));
        }
        return table;
    }
};

}  // namespace

EstimatorInfo loss_aware_estimator_info() {
    return {"loss-aware", "seeds 2/4: measured loss change (KL to fp32) per layer and bit-width",
            [] { return std::unique_ptr<Estimator>(new LossAware()); }};
}

}  // namespace aquant::sensitivity
