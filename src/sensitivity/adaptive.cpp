// Seed 1 (Zhou et al., AAAI'18), label-free variant (ALGORITHMS.md 2.3): the output-noise gain
// psi_l = E||Z(W_l + eps) - Z(W_l)||^2 / ||eps||^2 with uniform noise eps at ~1 % of ||W_l||
// (linear regime), averaged over 2 draws; cost c_l(b) = psi_l * ||Q_b(W_l) - W_l||^2, the
// predicted logit-noise energy of quantizing layer l alone at b bits.
#include <cmath>
#include <random>

#include "aquant/core/log.h"
#include "aquant/sensitivity/probe.h"

namespace aquant::sensitivity {
namespace {

constexpr int kDraws = 2;
constexpr double kNoiseFraction = 0.01;

class Adaptive final : public Estimator {
public:
    SensitivityTable estimate(const EstimatorInput& in) const override {
        const ir::Graph& g = *in.model->graph;
        LayerProbe probe(in);
        SensitivityTable table;
        table.estimator = "adaptive";
        table.metric = "predicted logit MSE (psi * weight error)";
        table.candidate_bits = in.candidate_bits;
        for (std::size_t l = 0; l < in.layers.size(); ++l) {
            const ir::Layer& layer = in.layers[l];
            LayerSensitivity s = describe_layer(g, layer, in.candidate_bits, in.weights);
            const Tensor& w = *g.constant(layer.weight_source);
            const auto wf = w.to_f32();
            double norm2 = 0;
            for (float v : wf) norm2 += static_cast<double>(v) * v;
            // Uniform noise on [-a, a] has E[eps^2] = a^2 / 3 per element.
            const double target = kNoiseFraction * std::sqrt(norm2 / std::max<double>(1, wf.size()));
            const float a = static_cast<float>(target * std::sqrt(3.0));
            double psi = 0;
            for (int d = 0; d < kDraws; ++d) {
                std::mt19937_64 rng(in.seed * 1000003ULL + l * 7919ULL + static_cast<unsigned>(d));
                std::uniform_real_distribution<float> u(-a, a);
                Tensor noisy = w.clone();
                double eps2 = 0;
                for (std::int64_t i = 0; i < noisy.numel(); ++i) {
                    const float e = u(rng);
                    noisy.data<float>()[i] += e;
                    eps2 += static_cast<double>(e) * e;
                }
                const auto logits = probe.logits_with(l, noisy);
                const double out_mse = mean_loss(probe.fp32_logits(), logits, in.calib, "logit-mse");
                psi += eps2 > 0 ? out_mse / eps2 : 0.0;
            }
            psi /= kDraws;
            s.gain = psi;
            for (double e : s.weight_error) s.cost.push_back(psi * e);
            logger().debug("sensitivity adaptive: {} psi {:.4g}", s.name, psi);
            table.layers.push_back(std::move(s));
        }
        return table;
    }
};

}  // namespace

EstimatorInfo adaptive_estimator_info() {
    return {"adaptive", "seed 1: output-noise gain psi x measured weight error (label-free)",
            [] { return std::unique_ptr<Estimator>(new Adaptive()); }};
}

}  // namespace aquant::sensitivity
