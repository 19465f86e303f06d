#include "quantize_target.h"

#include <cmath>
#include <regex>

#include "aquant/core/error.h"
#include "aquant/core/log.h"

namespace aquant::pipeline::detail {
namespace {

// Average stored bits per weight (scales included) of the non-fixed layers when every one of
// them takes candidate k.
double uniform_avg_bits(const sensitivity::SensitivityTable& t, std::size_t k) {
    double bits = 0, params = 0;
    for (const auto& l : t.layers) {
        if (l.fixed) continue;
        bits += l.size_bits.at(k);
        params += static_cast<double>(l.params);
    }
    return params > 0 ? bits / params : 0.0;
}

}  // namespace

void apply_fixed_layers(sensitivity::SensitivityTable& table,
                        const std::vector<std::string>& exclude,
                        const std::vector<std::pair<std::string, int>>& overrides) {
    for (auto& l : table.layers) {
        for (const auto& [re, bits] : overrides) {
            if (std::regex_search(l.name, std::regex(re))) {
                l.fixed = true;
                l.fixed_bits = bits;
            }
        }
        for (const auto& re : exclude) {
            if (std::regex_search(l.name, std::regex(re))) {
                l.fixed = true;
                l.fixed_bits = 0;
            }
        }
        if (l.fixed && l.fixed_bits != 0 && table.candidate_index(l.fixed_bits) < 0) {
            throw ConfigError("--override: layer '" + l.name + "' set to " +
                              std::to_string(l.fixed_bits) +
                              " bits, which is not a candidate (--weight-bits)");
        }
    }
}

SearchResult search_target(const sensitivity::SensitivityTable& table,
                           const alloc::Allocator& allocator, const TargetSpec& target,
                           const MeasureFn& measure, int max_evals) {
    SearchResult result;
    if (target.avg_bits || target.size_bits_total) {
        alloc::Budget b;
        b.avg_weight_bits = target.avg_bits;
        b.max_weight_bits_total = target.size_bits_total;
        result.plan = allocator.allocate(table, b);
        return result;
    }
    if (!target.min_metric) throw InternalError("search_target: no target");
    const double goal = *target.min_metric;
    const double lo_bits = uniform_avg_bits(table, 0);
    const double hi_bits = uniform_avg_bits(table, table.candidate_bits.size() - 1);

    auto run = [&](double budget) -> SearchPoint {
        alloc::Budget b;
        b.avg_weight_bits = budget;
        SearchPoint p;
        p.budget_avg_bits = budget;
        p.plan = allocator.allocate(table, b);
        // The same plan from a nearby budget is measured once.
        for (const auto& q : result.trace) {
            if (q.plan.bits == p.plan.bits) {
                p.metric = q.metric;
                result.trace.push_back(p);
                return p;
            }
        }
        p.metric = measure(p.plan);
        logger().info("search: budget {:.3f} bits/weight -> {:.3f} avg bits, metric {:.4f}",
                      budget, p.plan.avg_weight_bits, p.metric);
        result.trace.push_back(p);
        return p;
    };

    const SearchPoint top = run(hi_bits);
    if (top.metric < goal) {
        result.plan = top.plan;
        result.metric = top.metric;
        result.met = false;
        return result;
    }
    double best_metric = top.metric;
    alloc::BitPlan best_plan = top.plan;
    double lo = lo_bits, hi = hi_bits;
    // lo is tried first: a target below the smallest plan's metric ends the search at once.
    const SearchPoint bottom = run(lo);
    if (bottom.metric >= goal) {
        result.plan = bottom.plan;
        result.metric = bottom.metric;
        return result;
    }
    for (int i = 2; i < max_evals && hi - lo > 0.02; ++i) {
        const double mid = 0.5 * (lo + hi);
        const SearchPoint p = run(mid);
        if (p.metric >= goal) {
            hi = mid;
            if (p.plan.total_size_bits < best_plan.total_size_bits ||
                (p.plan.total_size_bits == best_plan.total_size_bits && p.metric > best_metric)) {
                best_plan = p.plan;
                best_metric = p.metric;
            }
        } else {
            lo = mid;
        }
    }
    result.plan = best_plan;
    result.metric = best_metric;
    return result;
}

}  // namespace aquant::pipeline::detail
