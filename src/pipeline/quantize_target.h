// Bit-width allocation for `quantize --target-acc / --max-drop / --avg-bits / --size`.
// Private to src/pipeline/.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aquant/alloc/allocator.h"
#include "quantize_steps.h"
#include "aquant/pipeline/evaluate.h"
#include "aquant/sensitivity/table.h"

namespace aquant::pipeline::detail {

/// One candidate the search measured.
struct SearchPoint {
    double budget_avg_bits = 0;  // the budget given to the allocator (bits/weight, scales incl.)
    alloc::BitPlan plan;
    double metric = 0;           // top-1 with labels, else top-1 agreement with fp32
};

struct TargetSpec {
    std::optional<double> min_metric;       // --target-acc, or fp32 - --max-drop
    std::optional<double> avg_bits;         // --avg-bits
    std::optional<double> size_bits_total;  // --size (bytes * 8)
};

struct SearchResult {
    alloc::BitPlan plan;
    std::optional<double> metric;  // measured on the eval data (target modes only)
    bool met = true;
    std::vector<SearchPoint> trace;  // every measured candidate, in order
};

/// Measures a per-layer plan (bits in table order): exports and evaluates it, returns the metric.
using MeasureFn = std::function<double(const alloc::BitPlan&)>;

/// Budget modes allocate once. Metric modes measure the smallest plan (all layers at the smallest
/// candidate) first and stop there if it meets the target; otherwise they bisect the average-bits
/// budget between it and the largest plan, measuring at most `max_evals` distinct plans, and
/// return the smallest measured plan that reaches the target. The largest plan is measured only
/// when nothing below it met the target; when it misses too, it is returned with met = false.
SearchResult search_target(const sensitivity::SensitivityTable& table,
                           const alloc::Allocator& allocator, const TargetSpec& target,
                           const MeasureFn& measure, int max_evals = 8);

/// quantize_alloc.cpp: what allocate() decided and measured.
struct Allocation {
    sensitivity::SensitivityTable table;  // fixed layers marked
    alloc::BitPlan plan;
    std::vector<SearchPoint> trace;       // accuracy targets: every candidate, in order
    std::string metric_name;              // "top1" (labels) or "agreement" (with fp32)
    std::optional<double> goal;           // accuracy targets: the metric to reach
    std::optional<double> fp32_metric;    // measured on the evaluation data
    std::optional<double> measured_metric;   // of the chosen plan (search; not with --dry-run)
    std::optional<double> predicted_metric;  // fp32 metric - sum of the layers' top-1 drops
    bool met = true;
    double seconds_sensitivity = 0, seconds_calibration = 0, seconds_search = 0;
};

/// The estimator an allocator uses without --estimator.
std::string default_estimator(const std::string& allocator);

/// Sensitivity table (measured on data.calib, or options.profile_path), fixed layers, the
/// allocator and the target search. Fills plan (options, activation params unless dry-run,
/// per-layer bits) and returns the allocation.
Allocation allocate(std::shared_ptr<ir::Model> model, const QuantizeOptions& options,
                    const QuantizeData& data, qdq::ExportPlan& plan,
                    std::vector<qdq::Decision>& decisions);

/// The "aquant.allocation" metadata: allocator, estimator, target, per-layer costs, search.
nlohmann::json allocation_json(const Allocation& a, const QuantizeOptions& options);

/// Marks layers matched by --exclude (float) and --override REGEX=BITS as fixed in the table
/// (later overrides win; --exclude wins over --override).
void apply_fixed_layers(sensitivity::SensitivityTable& table,
                        const std::vector<std::string>& exclude,
                        const std::vector<std::pair<std::string, int>>& overrides);

}  // namespace aquant::pipeline::detail
