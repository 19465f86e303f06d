// Bit-width allocation for `quantize --target-acc / --max-drop / --avg-bits / --size`.
// Private to src/pipeline/.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aquant/alloc/allocator.h"
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

/// Budget modes allocate once. Metric modes bisect the average-bits budget between the smallest
/// and the largest plan (at most `max_evals` measurements) and return the smallest measured plan
/// whose metric reaches the target; when even the largest plan misses it, that plan with
/// met = false.
SearchResult search_target(const sensitivity::SensitivityTable& table,
                           const alloc::Allocator& allocator, const TargetSpec& target,
                           const MeasureFn& measure, int max_evals = 8);

/// Marks layers matched by --exclude (float) and --override REGEX=BITS as fixed in the table
/// (later overrides win; --exclude wins over --override).
void apply_fixed_layers(sensitivity::SensitivityTable& table,
                        const std::vector<std::string>& exclude,
                        const std::vector<std::pair<std::string, int>>& overrides);

}  // namespace aquant::pipeline::detail
