// adaptive (seed 1, ALGORITHMS.md 2.2): per layer, the noise-to-output gain psi_l (table gain),
// the measured weight error e_l(b) and the cost c_l(b) = psi_l * e_l(b) (table cost).
//
// Continuous optimum. With the model e_l(b) = p_l exp(-alpha b), alpha = ln 4, minimising
// sum psi_l e_l(b_l) subject to sum size_l(b_l) = capacity gives equal marginal noise per weight,
// p_l exp(-alpha b_l) / (t_l s_l) = const with t_l = 1 / psi_l, s_l = params, so
//     b_l* = (1/alpha) ln(p_l psi_l / s_l) + K,
// K set so that the budget holds exactly under the linear size model size_l(b) = s_l b + o_l
// (o_l: the table's mean scale overhead over the candidates). ln p_l is the least-squares fit of
// ln e_l(b) = ln p_l - alpha b over the candidates with e > 0 (alpha fixed: the mean of
// ln e + alpha b). A layer with psi_l = 0 or no positive error has no marginal value: it gets its
// smallest candidate and is left out of the shift.
//
// Integer plan. Round b* to the nearest candidate (ties up), repair with mckp::descend() while
// over the budget, then mckp::improve(): the plan fits and no single-layer change that fits
// lowers the measured cost. The Lagrangian + fill solution on the same costs is computed too and
// wins when it is strictly cheaper (BitPlan::solver says which), so the plan is never worse than
// the mmse solver's on this table and predicted_cost - lower_bound is within the same gap.
#include "alloc/problem.h"

#include "aquant/core/error.h"
#include "aquant/core/log.h"

#include <fmt/format.h>

#include <cmath>

namespace aquant::alloc {

namespace {

constexpr double kAlpha = 1.3862943611198906;  // ln 4: one more bit divides the noise power by 4

double effective_bits(int bits) {
    return bits == 0 ? 32.0 : bits;
}

/// b* per group (see the file comment).
std::vector<double> closed_form(const sensitivity::SensitivityTable& table,
                                const detail::LayerProblem& lp) {
    const std::size_t n = lp.layer.size();
    const auto& cand = table.candidate_bits;
    std::vector<double> bits(n, 0.0);
    std::vector<bool> active(n, false);
    double rest = lp.capacity;
    double active_params = 0.0;
    bool any_gain = false;
    for (std::size_t g = 0; g < n; ++g) {
        const sensitivity::LayerSensitivity& l = table.layers[lp.layer[g]];
        if (!(std::isfinite(l.gain) && l.gain >= 0)) {
            throw ConfigError(fmt::format(
                "allocator 'adaptive': sensitivity table: layer '{}': gain (psi) expected finite "
                ">= 0, got {}",
                l.name, l.gain));
        }
        if (l.weight_error.size() != cand.size()) {
            throw ConfigError(fmt::format(
                "allocator 'adaptive': sensitivity table: layer '{}': weight_error has {} "
                "entries, expected {} (one per candidate)",
                l.name, l.weight_error.size(), cand.size()));
        }
        any_gain = any_gain || l.gain > 0;
        const auto s = static_cast<double>(l.params);
        double ln_p = 0.0;
        int fitted = 0;
        double overhead = 0.0;
        for (std::size_t k = 0; k < cand.size(); ++k) {
            const double b = effective_bits(cand[k]);
            overhead += lp.problem.groups[g][k].size - b * s;
            const double e = l.weight_error[k];
            if (cand[k] > 0 && std::isfinite(e) && e > 0) {
                ln_p += std::log(e) + kAlpha * b;
                ++fitted;
            }
        }
        overhead /= static_cast<double>(cand.size());
        if (l.gain > 0 && fitted > 0) {
            active[g] = true;
            bits[g] = (ln_p / fitted + std::log(l.gain) - std::log(s)) / kAlpha;
            rest -= s * bits[g] + overhead;
            active_params += s;
        } else {
            std::size_t smallest = 0;
            for (std::size_t k = 1; k < cand.size(); ++k) {
                if (lp.problem.groups[g][k].size < lp.problem.groups[g][smallest].size)
                    smallest = k;
            }
            bits[g] = effective_bits(cand[smallest]);
            rest -= lp.problem.groups[g][smallest].size;
        }
    }
    if (n > 0 && !any_gain) {
        throw ConfigError(fmt::format(
            "allocator 'adaptive': sensitivity table (estimator '{}') has no noise gain: expected "
            "gain (psi) > 0 on the non-fixed layers",
            table.estimator));
    }
    const double shift = active_params > 0 ? rest / active_params : 0.0;
    for (std::size_t g = 0; g < n; ++g) {
        if (active[g])
            bits[g] += shift;
    }
    return bits;
}

int nearest_candidate(const std::vector<int>& cand, double b) {
    int best = 0;
    for (int k = 1; k < static_cast<int>(cand.size()); ++k) {
        if (std::abs(effective_bits(cand[k]) - b) <= std::abs(effective_bits(cand[best]) - b))
            best = k;
    }
    return best;
}

class Adaptive final : public Allocator {
public:
    BitPlan allocate(const sensitivity::SensitivityTable& table,
                     const Budget& budget) const override {
        const detail::LayerProblem lp = detail::build_problem(table, budget, "adaptive");
        const std::vector<double> cont = closed_form(table, lp);

        std::vector<int> rounded(cont.size());
        for (std::size_t g = 0; g < cont.size(); ++g)
            rounded[g] = nearest_candidate(table.candidate_bits, cont[g]);
        mckp::descend(lp.problem, lp.capacity, rounded);
        mckp::improve(lp.problem, lp.capacity, rounded);
        const mckp::Solution lag = mckp::solve_lagrangian(lp.problem, lp.capacity);
        const double rounded_cost = mckp::total_cost(lp.problem, rounded);
        logger().debug("adaptive: rounded closed form cost {:.6g}, lagrangian cost {:.6g}",
                       rounded_cost, lag.cost);

        BitPlan plan =
            lag.cost < rounded_cost
                ? detail::make_plan(table, lp, lag.choice, lag.lower_bound,
                                    "lagrangian + fill (cheaper than the rounded closed form)")
                : detail::make_plan(table, lp, rounded, lag.lower_bound,
                                    "closed form, rounded + greedy repair + fill");
        plan.continuous_bits.resize(table.layers.size());
        for (std::size_t i = 0; i < table.layers.size(); ++i)
            plan.continuous_bits[i] = table.layers[i].fixed_bits;
        for (std::size_t g = 0; g < cont.size(); ++g)
            plan.continuous_bits[lp.layer[g]] = cont[g];
        return plan;
    }
};

}  // namespace

std::unique_ptr<Allocator> make_allocator_adaptive() {
    return std::make_unique<Adaptive>();
}

}  // namespace aquant::alloc
