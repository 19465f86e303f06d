// mmse (seed 3, ALGORITHMS.md 3.3): least total weighted error under the budget. The table's cost
// is whatever the estimator measured (omega_l * NMSE_l(b), or the layer output error r_l(b)).
// Solver: Lagrangian relaxation on each layer's lower convex hull, then a 1-opt fill of the
// leftover budget. Certified gap: predicted_cost - lower_bound <= the cost drop of the one hull
// segment that did not fit; zero when the budget lands on a hull vertex.
#include "alloc/problem.h"

namespace aquant::alloc {

namespace {
class Mmse final : public Allocator {
public:
    BitPlan allocate(const sensitivity::SensitivityTable& table,
                     const Budget& budget) const override {
        const detail::LayerProblem lp = detail::build_problem(table, budget, "mmse");
        const mckp::Solution s = mckp::solve_lagrangian(lp.problem, lp.capacity);
        return detail::make_plan(table, lp, s.choice, s.lower_bound, s.method);
    }
};
}  // namespace

std::unique_ptr<Allocator> make_allocator_mmse() {
    return std::make_unique<Mmse>();
}

}  // namespace aquant::alloc
