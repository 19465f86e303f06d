// Seed 3 (Choukroun et al.): per layer and bit-width, the MMSE quantizer's weight error and the
// error it causes at the layer's own output, E_x ||(Q_b(W) - W) x||^2 per sample (ALGORITHMS.md
// 1.5 S3), measured on the calibration batches with fp32 inputs. cost = that output error.
#include "aquant/core/log.h"
#include "aquant/sensitivity/probe.h"

namespace aquant::sensitivity {
namespace {

class Mmse final : public Estimator {
public:
    SensitivityTable estimate(const EstimatorInput& in) const override {
        const ir::Graph& g = *in.model->graph;
        LayerProbe probe(in);
        SensitivityTable table;
        table.estimator = "mmse";
        table.metric = "layer output MSE per sample";
        table.candidate_bits = in.candidate_bits;
        for (std::size_t l = 0; l < in.layers.size(); ++l) {
            LayerSensitivity s = describe_layer(g, in.layers[l], in.candidate_bits, in.weights);
            const auto ref = probe.layer_output_fp32(l);
            for (int bits : in.candidate_bits) {
                const Tensor wq = fake_quant_weight(g, in.layers[l], bits, in.weights);
                const auto out = probe.layer_output_with(l, wq);
                s.cost.push_back(mean_loss(ref, out, in.calib, "logit-mse"));
            }
            logger().debug("sensitivity mmse: {} cost@{}b {:.4g}", s.name, in.candidate_bits[0],
                           s.cost[0]);
            table.layers.push_back(std::move(s));
        }
        return table;
    }
};

}  // namespace

EstimatorInfo mmse_estimator_info() {
    return {"mmse", "seed 3: MMSE weight quantizer, error at the layer output (label-free)",
            [] { return std::unique_ptr<Estimator>(new Mmse()); }};
}

}  // namespace aquant::sensitivity
