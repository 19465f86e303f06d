#include "alloc/problem.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace aquant::alloc::detail {

namespace {

using sensitivity::LayerSensitivity;
using sensitivity::SensitivityTable;

void check_table(const SensitivityTable& t, const std::string& name) {
    const auto fail = [&](const std::string& what) {
        throw ConfigError(fmt::format("allocator '{}': sensitivity table: {}", name, what));
    };
    for (std::size_t k = 0; k < t.candidate_bits.size(); ++k) {
        const int b = t.candidate_bits[k];
        if (b < 0 || b > 32 || (k > 0 && b <= t.candidate_bits[k - 1])) {
            fail(fmt::format("candidate_bits expected strictly ascending in [0, 32], got [{}]",
                             fmt::join(t.candidate_bits, ", ")));
        }
    }
    const std::size_t n = t.candidate_bits.size();
    for (const LayerSensitivity& l : t.layers) {
        if (l.fixed)
            continue;
        if (n == 0)
            fail("no candidate bit-widths");
        if (l.params <= 0)
            fail(fmt::format("layer '{}': params expected > 0, got {}", l.name, l.params));
        if (l.cost.size() != n) {
            fail(fmt::format("layer '{}': cost has {} entries, expected {} (one per candidate)",
                             l.name, l.cost.size(), n));
        }
        if (!l.size_bits.empty() && l.size_bits.size() != n) {
            fail(fmt::format("layer '{}': size_bits has {} entries, expected {} or none", l.name,
                             l.size_bits.size(), n));
        }
        for (std::size_t k = 0; k < n; ++k) {
            if (!std::isfinite(l.cost[k])) {
                fail(fmt::format("layer '{}': cost at {} bits expected finite, got {}", l.name,
                                 t.candidate_bits[k], l.cost[k]));
            }
            if (!l.size_bits.empty() && !(std::isfinite(l.size_bits[k]) && l.size_bits[k] >= 0)) {
                fail(fmt::format("layer '{}': size_bits at {} bits expected finite >= 0, got {}",
                                 l.name, t.candidate_bits[k], l.size_bits[k]));
            }
        }
    }
}

double fixed_cost_of(const SensitivityTable& t, const LayerSensitivity& l) {
    const int k = t.candidate_index(l.fixed_bits);
    if (k < 0 || l.cost.size() != t.candidate_bits.size())
        return 0.0;
    return l.cost[k];
}

double fixed_size_of(const SensitivityTable& t, const LayerSensitivity& l) {
    return layer_size_bits(l, t.candidate_index(l.fixed_bits), l.fixed_bits);
}

}  // namespace

double layer_size_bits(const LayerSensitivity& l, int k, int bits) {
    const auto params = static_cast<double>(l.params);
    if (bits == 0 && (k < 0 || l.size_bits.empty()))
        return 32.0 * params;
    if (k >= 0 && static_cast<std::size_t>(k) < l.size_bits.size())
        return l.size_bits[k];
    return bits * params;
}

LayerProblem build_problem(const SensitivityTable& table, const Budget& budget,
                           const std::string& name) {
    check_table(table, name);
    if (!budget.avg_weight_bits && !budget.max_weight_bits_total) {
        throw ConfigError(fmt::format(
            "allocator '{}': no budget, expected avg_weight_bits or max_weight_bits_total", name));
    }
    if (budget.avg_weight_bits &&
        !(std::isfinite(*budget.avg_weight_bits) && *budget.avg_weight_bits > 0)) {
        throw ConfigError(fmt::format("allocator '{}': avg_weight_bits expected > 0, got {}", name,
                                      *budget.avg_weight_bits));
    }
    if (budget.max_weight_bits_total &&
        !(std::isfinite(*budget.max_weight_bits_total) && *budget.max_weight_bits_total > 0)) {
        throw ConfigError(fmt::format("allocator '{}': max_weight_bits_total expected > 0, got {}",
                                      name, *budget.max_weight_bits_total));
    }

    LayerProblem lp;
    double params = 0.0;
    double fixed_size = 0.0;
    for (int i = 0; i < static_cast<int>(table.layers.size()); ++i) {
        const LayerSensitivity& l = table.layers[i];
        if (l.fixed) {
            lp.fixed_cost += fixed_cost_of(table, l);
            fixed_size += fixed_size_of(table, l);
            continue;
        }
        std::vector<mckp::Option> opts;
        for (int k = 0; k < static_cast<int>(table.candidate_bits.size()); ++k) {
            opts.push_back({layer_size_bits(l, k, table.candidate_bits[k]), l.cost[k]});
        }
        lp.problem.groups.push_back(std::move(opts));
        lp.layer.push_back(i);
        params += static_cast<double>(l.params);
    }

    const double min_size = mckp::min_size(lp.problem);
    lp.capacity = std::numeric_limits<double>::infinity();
    if (budget.avg_weight_bits && params > 0) {
        lp.capacity = *budget.avg_weight_bits * params;
        if (lp.capacity < min_size) {
            throw ConfigError(fmt::format(
                "allocator '{}': budget of {:g} bits per weight (scales included) is below the "
                "smallest plan, {:.6g} bits per weight (every non-fixed layer at its smallest "
                "candidate)",
                name, *budget.avg_weight_bits, min_size / params));
        }
    }
    if (budget.max_weight_bits_total) {
        const double room = *budget.max_weight_bits_total - fixed_size;
        if (room < min_size) {
            throw ConfigError(fmt::format(
                "allocator '{}': budget of {:.0f} total weight bits is below the smallest plan, "
                "{:.0f} bits ({:.0f} of them in fixed layers)",
                name, *budget.max_weight_bits_total, min_size + fixed_size, fixed_size));
        }
        lp.capacity = std::min(lp.capacity, room);
    }
    if (!std::isfinite(lp.capacity))
        lp.capacity = 0.0;  // every layer fixed and only an average budget: nothing to allocate
    return lp;
}

BitPlan make_plan(const SensitivityTable& table, const LayerProblem& lp,
                  const std::vector<int>& choice, double lower_bound, std::string solver) {
    BitPlan plan;
    plan.bits.resize(table.layers.size());
    for (std::size_t i = 0; i < table.layers.size(); ++i) {
        if (table.layers[i].fixed)
            plan.bits[i] = table.layers[i].fixed_bits;
    }
    for (std::size_t g = 0; g < lp.layer.size(); ++g)
        plan.bits[lp.layer[g]] = table.candidate_bits[choice[g]];
    score_plan(table, plan);
    plan.budget_size_bits = lp.capacity;
    plan.lower_bound = lower_bound + lp.fixed_cost;
    plan.solver = std::move(solver);
    return plan;
}

}  // namespace aquant::alloc::detail

namespace aquant::alloc {

void score_plan(const sensitivity::SensitivityTable& table, BitPlan& plan) {
    if (plan.bits.size() != table.layers.size()) {
        throw ConfigError(fmt::format("bit plan has {} entries, expected {} (one per table layer)",
                                      plan.bits.size(), table.layers.size()));
    }
    double cost = 0.0;
    double total = 0.0;
    double q_bits = 0.0;
    double q_params = 0.0;
    double alloc_size = 0.0;
    double alloc_params = 0.0;
    for (std::size_t i = 0; i < table.layers.size(); ++i) {
        const sensitivity::LayerSensitivity& l = table.layers[i];
        const int b = plan.bits[i];
        const int k = table.candidate_index(b);
        const bool has_cost = k >= 0 && l.cost.size() == table.candidate_bits.size();
        if (!l.fixed && b != 0 && !has_cost) {
            throw ConfigError(fmt::format(
                "bit plan: layer '{}': {} bits is not a candidate with a cost (candidates: {})",
                l.name, b, fmt::join(table.candidate_bits, ", ")));
        }
        if (has_cost)
            cost += l.cost[k];
        const double size = detail::layer_size_bits(l, k, b);
        total += size;
        const auto params = static_cast<double>(l.params);
        if (b > 0) {
            q_bits += b * params;
            q_params += params;
        }
        if (!l.fixed) {
            alloc_size += size;
            alloc_params += params;
        }
    }
    plan.predicted_cost = cost;
    plan.total_size_bits = total;
    plan.avg_weight_bits = q_params > 0 ? q_bits / q_params : 0.0;
    plan.avg_size_bits = alloc_params > 0 ? alloc_size / alloc_params : 0.0;
}

}  // namespace aquant::alloc
