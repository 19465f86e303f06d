// Per-node wall time of the reference engine on random inputs: where `aquant bench` spends its
// time. Each node's time runs from the end of the previous node to its own end (kernel plus the
// executor's bookkeeping for it), so the per-node times add up to the run.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace aquant::pipeline {

struct ProfileOptions {
    std::string model_path;
    std::int64_t batch = 1;  // value of a symbolic axis 0
    int runs = 20;
    int warmup = 3;
};

/// {"model", "batch", "threads", "runs", "total_ms", "total_min_ms", "nodes": [{"name", "op",
/// "median_ms", "share"}] in execution order, "ops": [{"op", "count", "ms", "share"}] by
/// descending time}. Node times are medians over the runs; "ms" of an op is the sum of its
/// nodes' medians. Plain runs take the executor's fused graph (set_fusion), so the nodes are
/// the fused ones (com.microsoft.FusedConv for Conv + BatchNormalization + activation).
nlohmann::json profile_model(const ProfileOptions& options);
std::string format_profile(const nlohmann::json& result);

}  // namespace aquant::pipeline
