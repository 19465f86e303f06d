// Allocators turn a SensitivityTable and a budget into a per-layer BitPlan. One file per
// allocator in src/alloc/, one line in src/alloc/builtin_allocators.inc. Allocators never run a
// model; deterministic (ties broken by layer order: the lower layer index keeps more bits).
//
// Sizes. A layer's size at candidate k is `size_bits[k]` when the table has it (the storage
// including scales and zero points), else `bits * params`; a float layer (bits 0) is
// `32 * params`. Both budgets are bounds on these sizes, so the average-bits budget counts the
// scale overhead: `avg_weight_bits = 4` with fp32 per-channel scales does not admit uniform 4
// bits. Plans report both that quantity (`avg_size_bits`) and the nominal bits
// (`avg_weight_bits`).
//
// Fixed layers (LayerSensitivity::fixed) keep `fixed_bits`. They are not counted against
// `avg_weight_bits` but are counted in `max_weight_bits_total` and in the plan's totals; their
// cost (the table's cost at `fixed_bits` when that is a candidate, else 0) is a constant in
// `predicted_cost` and `lower_bound`.
#pragma once

#include "aquant/sensitivity/table.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aquant::alloc {

/// At least one bound must be set; when both are, both hold.
struct Budget {
    /// sum(size_bits) / sum(params) over the non-fixed layers: bits per weight, scales included.
    std::optional<double> avg_weight_bits;
    /// sum of size_bits over all layers, fixed ones included.
    std::optional<double> max_weight_bits_total;
};

struct BitPlan {
    std::vector<int> bits;       // per table layer; 0 = float
    double predicted_cost = 0;   // sum of the chosen costs
    double total_size_bits = 0;  // sum of the chosen size_bits (+ 32 * params for float)
    double avg_weight_bits = 0;  // sum(bits * params) / sum(params) over quantized layers
    /// sum(size_bits) / sum(params) over the non-fixed layers: the quantity that
    /// Budget::avg_weight_bits bounds (scales included). 0 when every layer is fixed.
    double avg_size_bits = 0;
    /// The capacity the allocator solved for: the bound on the non-fixed layers' total size_bits
    /// implied by the budget. 0 for a plan scored by score_plan().
    double budget_size_bits = 0;
    /// A bound no plan within the budget can beat: the optimum of the linear relaxation of the
    /// knapsack (each layer's lower convex hull of (size, cost)), equal to the Lagrangian dual.
    /// predicted_cost - lower_bound is the optimality gap the allocator can certify.
    std::optional<double> lower_bound;
    /// adaptive only: the closed-form continuous optimum b* per table layer (fixed layers: their
    /// fixed_bits), before mapping to candidates. Empty for the other allocators.
    std::vector<double> continuous_bits;
    /// How the plan was found, for reports, e.g. "lagrangian + fill", "dp exact (unit 8 bits)".
    std::string solver;
};

class Allocator {
public:
    virtual ~Allocator() = default;
    /// Throws ConfigError when the budget is below the smallest possible plan, when no budget is
    /// set, or when the table lacks what the allocator needs.
    virtual BitPlan allocate(const sensitivity::SensitivityTable& table,
                             const Budget& budget) const = 0;
};

struct AllocatorInfo {
    std::string name;     // "adaptive", "mmse", "loss-aware"
    std::string summary;  // one line for --help
    std::unique_ptr<Allocator> (*make)();
};

/// Sorted by name.
const std::vector<AllocatorInfo>& allocators();
/// ConfigError listing valid names for an unknown one.
std::unique_ptr<Allocator> make_allocator(const std::string& name);

/// Fills predicted_cost / total_size_bits / avg_weight_bits / avg_size_bits of a plan from the
/// table (plan.bits must have one entry per table layer). A non-fixed layer must use a candidate
/// bit-width or 0 (float, cost 0); a fixed layer at a non-candidate width costs 0 and
/// `bits * params`. Throws ConfigError otherwise.
void score_plan(const sensitivity::SensitivityTable& table, BitPlan& plan);

}  // namespace aquant::alloc
