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
    std::vector<std::pair<std::regex, int>> ov;
    for (const auto& [re, bits] : overrides) {
        if (bits != 0 && (bits < 2 || bits > 8)) {
            throw ConfigError("--override " + re + ": weight bits " + std::to_string(bits) +
                              ", expected 2..8 or 0 (float)");
        }
        ov.emplace_back(compile_regex("--override", re), bits);
    }
    std::vector<std::regex> ex;
    for (const auto& re : exclude) ex.push_back(compile_regex("--exclude", re));
    for (auto& l : table.layers) {
        for (const auto& [re, bits] : ov) {
            if (std::regex_search(l.name, re)) {
                l.fixed = true;
                l.fixed_bits = bits;
            }
        }
        for (const auto& re : ex) {
            if (std::regex_search(l.name, re)) {
                l.fixed = true;
                l.fixed_bits = 0;
            }
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

    int evals = 0;
    auto run = [&](double budget) -> SearchPoint {
        alloc::Budget b;
        // A hair above the budget: the smallest and largest plans' own sizes, summed in another
        // order, must not fall outside it by a rounding error.
        b.avg_weight_bits = budget * (1 + 1e-9);
        SearchPoint p;
        p.budget_avg_bits = budget;
        p.plan = allocator.allocate(table, b);
        // The same plan from a nearby budget is measured once.
        for (const auto& q : result.trace) {
            if (q.plan.bits == p.plan.bits) {
                p.metric = q.metric;
                return p;
            }
        }
        p.metric = measure(p.plan);
        ++evals;
        logger().info("search: budget {:.3f} bits/weight -> {:.3f} avg bits, metric {:.4f}",
                      budget, p.plan.avg_weight_bits, p.metric);
        result.trace.push_back(p);
        return p;
    };
    std::optional<SearchPoint> best;
    auto consider = [&](const SearchPoint& p) {
        if (p.metric < goal) return;
        if (!best || p.plan.total_size_bits < best->plan.total_size_bits ||
            (p.plan.total_size_bits == best->plan.total_size_bits && p.metric > best->metric)) {
            best = p;
        }
    };

    // The smallest plan first: a target it meets ends the search at once.
    const SearchPoint bottom = run(lo_bits);
    if (bottom.metric >= goal) {
        result.plan = bottom.plan;
        result.metric = bottom.metric;
        return result;
    }
    // Bisection of the budget between the smallest plan (misses) and the largest; the largest
    // is measured only when no candidate below it met the target.
    double lo = lo_bits, hi = hi_bits;
    for (int iter = 0; iter < 64 && evals < max_evals - 1 && hi - lo > 0.01; ++iter) {
        const double mid = 0.5 * (lo + hi);
        const SearchPoint p = run(mid);
        consider(p);
        if (p.metric >= goal) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if (!best) {
        const SearchPoint top = run(hi_bits);
        consider(top);
        if (!best) {
            result.plan = top.plan;
            result.metric = top.metric;
            result.met = false;
            return result;
        }
    }
    result.plan = best->plan;
    result.metric = best->metric;
    return result;
}

}  // namespace aquant::pipeline::detail
