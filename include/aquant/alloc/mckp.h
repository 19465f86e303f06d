// Multiple-choice knapsack (ALGORITHMS.md 1.6): pick one option per group to minimise the summed
// cost subject to the summed size <= capacity. Shared by the allocators; no table, no model.
//
// Tie rules (deterministic, exact float comparisons): a lower group index is preferred for the
// larger option; see each solver.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aquant::alloc::mckp {

struct Option {
    double size = 0;  // >= 0, finite
    double cost = 0;  // finite; negative values are allowed
};

struct Problem {
    std::vector<std::vector<Option>> groups;  // each non-empty
};

struct Solution {
    std::vector<int> choice;  // option index per group
    double cost = 0;          // sum of the chosen costs (groups in order)
    double size = 0;          // sum of the chosen sizes (groups in order)
    /// Optimum of the linear relaxation (lower convex hulls): no feasible choice costs less.
    double lower_bound = 0;
    std::string method;
};

/// The Lagrangian point: every hull segment steeper than lambda taken, none flatter.
struct LagrangianPoint {
    std::vector<int> choice;
    double cost = 0;
    double size = 0;
    double lower_bound = 0;  // cost - lambda * (capacity - size)
    /// Slope (cost drop per unit size) of the first hull segment that did not fit; 0 when all fit.
    double lambda = 0;
    /// Cost drop of that segment: bounds cost - lower_bound (0 when all fit).
    double critical_cost_drop = 0;
};

/// Smallest achievable total size (each group at its smallest option).
double min_size(const Problem& p);
double total_cost(const Problem& p, const std::vector<int>& choice);
double total_size(const Problem& p, const std::vector<int>& choice);

/// Indices of the lower convex hull of a group's (size, cost) points, by increasing size: it
/// starts at the smallest size (cheapest among equal sizes), keeps only points cheaper than every
/// smaller one, and drops points above the chord of their neighbours (collinear points are
/// kept). Exact ties in (size, cost) keep the larger option index.
std::vector<int> lower_hull(const std::vector<Option>& options);

/// Sorts all hull segments by decreasing slope (ties: lower group, then lower segment, first)
/// and takes them until the first one that does not fit. This is exactly the point a bisection
/// on lambda converges to, without a tolerance. Its cost is non-increasing in the capacity, and
/// so is lower_bound. Throws ConfigError when capacity < min_size(p).
LagrangianPoint lagrangian_point(const Problem& p, double capacity);

/// 1-opt improvement: repeatedly applies the single-group change (to any option) with the
/// largest cost decrease that keeps the total size <= capacity (ties: lower group, then higher
/// option index). On return no single-group change both fits and lowers the cost. `choice`
/// must already fit.
void improve(const Problem& p, double capacity, std::vector<int>& choice);

/// Greedy repair: while the total size exceeds capacity, applies the single-group move to a
/// smaller option with the least cost increase per unit of size saved (ties: the higher group
/// index moves first, so lower groups keep more, then the higher option index).
/// Throws ConfigError when capacity < min_size(p).
void descend(const Problem& p, double capacity, std::vector<int>& choice);

/// Lagrangian point + improve(). cost - lower_bound <= the point's critical_cost_drop; the plan
/// is optimal when the capacity lands on a hull vertex (lower_bound == cost then).
Solution solve_lagrangian(const Problem& p, double capacity);

/// Greedy marginal: start at each group's largest option, descend(), improve(). Equal to
/// solve_lagrangian() when every group's options all lie on its lower convex hull and the
/// hull slopes are distinct.
Solution solve_greedy(const Problem& p, double capacity);

struct DpOptions {
    /// Raised to (groups + 2) * options when lower: the least a rounded unit can guarantee.
    std::int64_t max_cell_updates = 20'000'000;
};

struct DpStats {
    double unit = 0;         // size unit of the discretised budget
    bool exact = false;      // every size an integer multiple of unit: the DP is exact
    std::int64_t units = 0;  // capacity in units (rounded down)
    std::int64_t cell_updates = 0;
};

/// Exact dynamic programming over a discretised budget. Sizes above each group's smallest one
/// are rounded up to units and the capacity down, so the plan never exceeds the capacity. The
/// unit depends on the problem only, never on the capacity, so the cost is non-increasing in the
/// capacity: the gcd of the (integral) sizes above the minima when that keeps the cell updates
/// within max_cell_updates (then the result is optimal), else the smallest unit that does.
/// Ties: among equal-cost plans, the lexicographically largest option indices, group 0 first.
Solution solve_dp(const Problem& p, double capacity, const DpOptions& options = {},
                  DpStats* stats = nullptr);

}  // namespace aquant::alloc::mckp
