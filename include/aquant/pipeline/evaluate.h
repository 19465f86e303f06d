#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "aquant/data/dataset.h"
#include "aquant/pipeline/runner.h"

namespace aquant::pipeline {

/// Where data comes from, as the CLI flags say it. An empty path means: the model's sidecar
/// (models/<name>.aquant.json) decides, with its `eval` (or `calib`) split.
struct DataOptions {
    std::string path;
    std::string labels_path;
    std::string format;  // "" = auto
    std::optional<double> scale;
    std::vector<double> mean;
    std::vector<double> std;
    std::string layout;  // "" = unset
    std::int64_t offset = 0;
    std::optional<std::int64_t> limit;
};

enum class Split { kCalib, kEval };

/// Opens the data for a model: the flags when a path is given, else the sidecar's split (flags
/// for preprocessing still override the sidecar's). ConfigError when there is neither.
data::DatasetPtr open_model_data(const ir::Graph& graph, const std::string& model_path,
                                 const DataOptions& options, Split split);

struct EvalOptions {
    std::string model_path;
    std::string reference_path;  // label-free fidelity against this model
    std::string output_name;     // "" = sidecar's output, else the first output
    DataOptions data;
    std::int64_t batch = 64;
    RunnerOptions runner;  // --qdq int|float, for the model and the reference
};

struct Metrics {
    std::int64_t samples = 0;
    std::optional<double> top1, top5;  // with labels
    // against a reference model:
    std::optional<double> agreement;   // top-1 agreement
    std::optional<double> kl;          // mean KL(p_ref || p_model), nats
    std::optional<double> sqnr_db;     // 10 log10(sum ref^2 / sum (ref - out)^2)
    double elapsed_ms = 0;

    nlohmann::json to_json() const;
};

/// Accumulates classification metrics over batches of logits [B, C] (or [B, ..., C]).
class MetricAccumulator {
public:
    void add(const Tensor& logits, const std::optional<Tensor>& labels,
             const Tensor* reference_logits);
    Metrics result() const;

private:
    std::int64_t n_ = 0, correct1_ = 0, correct5_ = 0, labelled_ = 0, agree_ = 0, compared_ = 0;
    double kl_sum_ = 0, signal_ = 0, noise_ = 0;
};

/// `aquant eval`: runs the model over the data and measures top-1/top-5 (labels) and, with a
/// reference model, top-1 agreement, KL and SQNR.
Metrics evaluate(const EvalOptions& options);
/// Same with a loaded runner (used by quantize to measure candidates).
Metrics evaluate(ModelRunner& runner, const data::Dataset& data, std::size_t output_index,
                 std::int64_t batch, ModelRunner* reference = nullptr);

std::string format_metrics(const Metrics& m);

}  // namespace aquant::pipeline
