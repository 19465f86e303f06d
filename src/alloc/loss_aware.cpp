// loss-aware (ALGORITHMS.md 4, 5.4, 0.1): the table's cost is the measured loss change of each
// layer at each bit-width (the estimator uses KL to the float output, which is >= 0). Costs are
// used as given: a negative delta is kept, not clamped (0.1: clamping did not repair noisy
// cross-entropy deltas; a KL-based table has none). Solver: exact dynamic programming over a
// discretised budget (mckp::solve_dp), never above the budget. When the unit is the gcd of the
// sizes (the usual case on small models) the plan is optimal and its predicted cost never rises
// with the budget. Otherwise sizes were rounded up to units (at most one unit lost per layer) and
// a 1-opt fill (mckp::improve) spends that slack: the plan costs at most the DP's, whose cost is
// monotone in the budget; the plan itself is not guaranteed monotone.
#include "alloc/problem.h"

namespace aquant::alloc {

namespace {
class LossAware final : public Allocator {
public:
    BitPlan allocate(const sensitivity::SensitivityTable& table,
                     const Budget& budget) const override {
        const detail::LayerProblem lp = detail::build_problem(table, budget, "loss-aware");
        mckp::DpStats stats;
        mckp::Solution s = mckp::solve_dp(lp.problem, lp.capacity, {}, &stats);
        if (!stats.exact) {
            // Sizes were rounded up to units: spend the slack that rounding left.
            mckp::improve(lp.problem, lp.capacity, s.choice);
            s.method += " + fill";
        }
        return detail::make_plan(table, lp, s.choice, s.lower_bound, s.method);
    }
};
}  // namespace

std::unique_ptr<Allocator> make_allocator_loss_aware() {
    return std::make_unique<LossAware>();
}

}  // namespace aquant::alloc
