// Sensitivity estimators: one file each in src/sensitivity/, one line in
// src/sensitivity/builtin_estimators.inc. Each fills a SensitivityTable (layer x candidate
// bit-width -> cost) for the allocators. They run the fp32 model once over the calibration
// batches with every activation cached, so measuring one layer runs only the part of the
// network after it (LayerProbe).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aquant/ir/graph.h"
#include "aquant/ir/layers.h"
#include "aquant/quant/weight.h"
#include "aquant/sensitivity/table.h"

namespace aquant::sensitivity {

using Feeds = std::map<std::string, Tensor>;

struct CalibBatch {
    Feeds inputs;
    std::optional<Tensor> labels;  // int64 [B]
};

struct EstimatorInput {
    std::shared_ptr<const ir::Model> model;  // fp32, BatchNormalization folded, weights constant
    std::vector<ir::Layer> layers;           // the layers to measure (quantizable_layers)
    std::vector<CalibBatch> calib;
    std::size_t output_index = 0;            // graph output holding the logits
    std::vector<int> candidate_bits = {2, 3, 4, 8};
    quant::WeightQuantConfig weights;
    std::uint64_t seed = 1;
    /// loss-aware: "kl" (default, label-free), "ce" (cross-entropy delta, needs labels),
    /// "logit-mse".
    std::string loss = "kl";
};

class Estimator {
public:
    virtual ~Estimator() = default;
    virtual SensitivityTable estimate(const EstimatorInput& input) const = 0;
};

struct EstimatorInfo {
    std::string name;
    std::string summary;
    std::unique_ptr<Estimator> (*make)();
};

const std::vector<EstimatorInfo>& estimators();
/// ConfigError listing valid names for an unknown one.
std::unique_ptr<Estimator> make_estimator(const std::string& name);

/// The entries every estimator shares: name, op, weight, params, and per candidate the weight
/// error ||Q_b(W) - W||^2 and the stored size (true bit-width plus fp32 scales).
LayerSensitivity describe_layer(const ir::Graph& g, const ir::Layer& layer,
                                const std::vector<int>& candidate_bits,
                                const quant::WeightQuantConfig& cfg);

/// Fills table.fp32_top1 and every layer's top1_drop (one probe run per layer and candidate)
/// unless the estimator already did. The table's layers must be input.layers, in order.
void measure_top1_drop(const EstimatorInput& input, SensitivityTable& table);

/// Fake-quantized weight of a layer at `bits` (what the exporter writes, dequantized).
Tensor fake_quant_weight(const ir::Graph& g, const ir::Layer& layer, int bits,
                         const quant::WeightQuantConfig& cfg);

}  // namespace aquant::sensitivity
