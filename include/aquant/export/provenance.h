// What a quantized model records about itself in metadata_props, so that `aquant report` can
// print the plan from the file alone:
//   aquant.version    aquant's version
//   aquant.command    the command line that made the model (flags that do not change the
//                     model, such as output paths and thread counts, are left out)
//   aquant.plan       JSON: {"schema": 1, "weights": {...}, "activations": {...},
//                     "layers": [LayerRecord as JSON, ...], "totals": PlanTotals as JSON}
//                     (weight_sqnr_db is null for float layers)
//   aquant.metrics    JSON: {"fp32": {...}, "quantized": {...}} measured metrics (pipeline)
//   aquant.decisions  JSON: [{"kind", "node", "what"}, ...] recorded fallbacks and choices
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aquant/export/qdq_export.h"

namespace aquant::qdq {

inline constexpr const char* kMetaVersion = "aquant.version";
inline constexpr const char* kMetaCommand = "aquant.command";
inline constexpr const char* kMetaPlan = "aquant.plan";
inline constexpr const char* kMetaMetrics = "aquant.metrics";
inline constexpr const char* kMetaDecisions = "aquant.decisions";
/// Set by the pipeline for targets other than --bits: allocator, estimator, target, per-layer
/// sensitivity and the candidates the search measured.
inline constexpr const char* kMetaAllocation = "aquant.allocation";

struct PlanTotals {
    int layers = 0;
    int quantized_layers = 0;
    std::int64_t params = 0;
    std::int64_t quantized_params = 0;
    double avg_weight_bits = 0;      // over quantized layers' weights
    double avg_weight_bits_all = 0;  // float layers counted at 32 bits
    std::int64_t bytes_fp32 = 0;
    std::int64_t bytes_stored = 0;
    std::int64_t bytes_packed = 0;
};

PlanTotals plan_totals(const std::vector<LayerRecord>& layers);

/// The aquant.plan JSON text (deterministic: keys sorted, fixed number formatting).
std::string plan_json(const ExportPlan& plan, const ExportResult& result);
/// The aquant.decisions JSON text.
std::string decisions_json(const std::vector<Decision>& decisions);

/// Sets aquant.version, aquant.command, aquant.plan and aquant.decisions on the model.
void write_provenance(ir::Model& model, const ExportPlan& plan, const ExportResult& result,
                      const std::string& command);

}  // namespace aquant::qdq
