// Shared by the allocators: table validation, the budget as one capacity, and plan assembly.
#pragma once

#include "aquant/alloc/allocator.h"
#include "aquant/alloc/mckp.h"

#include <string>
#include <vector>

namespace aquant::alloc::detail {

/// The knapsack over the non-fixed layers: group i is table layer `layer[i]`, option k is
/// candidate k.
struct LayerProblem {
    mckp::Problem problem;
    std::vector<int> layer;
    double capacity = 0;    // bound on the groups' total size_bits
    double fixed_cost = 0;  // constant cost of the fixed layers
};

/// Size of a layer at `bits` (candidate index `k`, or -1 when bits is not a candidate).
double layer_size_bits(const sensitivity::LayerSensitivity& l, int k, int bits);

/// Validates the table for allocator `name` and turns the budget into one capacity. Throws
/// ConfigError naming the allocator: bad table, no budget, budget below the smallest plan.
LayerProblem build_problem(const sensitivity::SensitivityTable& table, const Budget& budget,
                           const std::string& name);

/// The plan for a knapsack choice (one candidate index per group), scored.
BitPlan make_plan(const sensitivity::SensitivityTable& table, const LayerProblem& lp,
                  const std::vector<int>& choice, double lower_bound, std::string solver);

}  // namespace aquant::alloc::detail
