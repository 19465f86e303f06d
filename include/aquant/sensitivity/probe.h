// LayerProbe: the fp32 model run once over the calibration batches with every activation
// cached; then the logits (or a layer's own output) with one layer's weight replaced are
// computed by running only the nodes downstream of that layer.
#pragma once

#include <memory>
#include <vector>

#include "aquant/engine/executor.h"
#include "aquant/sensitivity/estimator.h"

namespace aquant::sensitivity {

class LayerProbe {
public:
    explicit LayerProbe(const EstimatorInput& input);

    std::size_t num_batches() const { return cache_.size(); }
    const std::vector<Tensor>& fp32_logits() const { return fp32_logits_; }
    /// Logits per batch with layer `l`'s weight replaced by `w`.
    std::vector<Tensor> logits_with(std::size_t l, const Tensor& w);
    /// Layer l's own output per batch with its weight replaced by `w` (fp32 inputs).
    std::vector<Tensor> layer_output_with(std::size_t l, const Tensor& w);
    /// Layer l's fp32 output per batch.
    std::vector<Tensor> layer_output_fp32(std::size_t l) const;

private:
    std::vector<Tensor> run_with(std::size_t l, const Tensor& w, ir::ValueId wanted);

    const EstimatorInput& input_;
    std::unique_ptr<engine::Executor> exec_;
    std::vector<engine::ValueMap> cache_;
    std::vector<Tensor> fp32_logits_;
    std::vector<std::vector<char>> downstream_;  // per layer: value index -> depends on layer
};

/// Per-sample mean of a loss between fp32 logits and perturbed logits over all batches.
/// kind: "kl" = KL(softmax(ref) || softmax(x)); "logit-mse" = ||x - ref||^2;
/// "ce" = CE(x, labels) - CE(ref, labels).
/// Top-1 of `x` over all batches: accuracy against the labels when every batch has them
/// (*with_labels = true), else agreement with argmax(ref).
double top1(const std::vector<Tensor>& ref, const std::vector<Tensor>& x,
            const std::vector<CalibBatch>& batches, bool* with_labels = nullptr);

double mean_loss(const std::vector<Tensor>& ref, const std::vector<Tensor>& x,
                 const std::vector<CalibBatch>& batches, const std::string& kind);

}  // namespace aquant::sensitivity
