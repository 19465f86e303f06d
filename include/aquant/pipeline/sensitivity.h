// `aquant sensitivity`: the per-layer sensitivity profile of a model, as a reusable file.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aquant/pipeline/evaluate.h"
#include "aquant/quant/weight.h"
#include "aquant/sensitivity/table.h"

namespace aquant::pipeline {

struct SensitivityOptions {
    std::string model_path;
    std::string estimator = "adaptive";
    std::vector<int> candidate_bits = {2, 3, 4, 8};
    quant::WeightQuantConfig weights;
    DataOptions calib;  // path "" = sidecar's calibration split
    std::int64_t calib_samples = 512;  // as quantize: profiles and quantize runs agree
    std::int64_t batch = 64;
    std::string loss = "kl";  // loss-aware: kl | ce | logit-mse
    std::uint64_t seed = 1;
    std::string output_path;  // profile .json (optional)
};

/// Prepares the float model as quantize does (opset >= 13, constants and BatchNormalization
/// folded), measures every quantizable layer and returns the table.
sensitivity::SensitivityTable measure_sensitivity(const SensitivityOptions& options);

/// Profile files: {"aquant_profile": 1, "model": ..., "estimator": ..., "metric": ...,
/// "candidate_bits": [...], "layers": [{"name", "op", "weight", "params", "cost": [...],
/// "weight_error": [...], "size_bits": [...], "gain"}]}
nlohmann::json profile_json(const sensitivity::SensitivityTable& table,
                            const std::string& model_path);
sensitivity::SensitivityTable profile_from_json(const nlohmann::json& j, const std::string& where);
void write_profile(const sensitivity::SensitivityTable& table, const std::string& model_path,
                   const std::string& path);
sensitivity::SensitivityTable read_profile(const std::string& path);

/// "channel mmse", "block:32 minmax": what a profile records of the weight quantizer.
std::string weight_config_str(const quant::WeightQuantConfig& w);

std::string format_sensitivity(const sensitivity::SensitivityTable& table);

}  // namespace aquant::pipeline
