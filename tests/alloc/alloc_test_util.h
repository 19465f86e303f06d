// Synthetic sensitivity tables and a brute-force knapsack oracle for the allocator tests.
#pragma once

#include "aquant/alloc/mckp.h"
#include "aquant/sensitivity/table.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace aquant::alloc::testing {

using sensitivity::LayerSensitivity;
using sensitivity::SensitivityTable;

constexpr double kLn4 = 1.3862943611198906;

/// One layer of seed 1's model: e(b) = p 4^-b, cost = psi e(b), size = b params + 32 channels.
inline LayerSensitivity seed1_layer(const std::vector<int>& cand, std::int64_t params, double p,
                                    double psi, std::int64_t channels) {
    LayerSensitivity l;
    l.name = "layer" + std::to_string(params);
    l.op_type = "Conv";
    l.params = params;
    l.gain = psi;
    for (int b : cand) {
        const double e = p * std::exp(-kLn4 * b);
        l.weight_error.push_back(e);
        l.cost.push_back(psi * e);
        l.size_bits.push_back(static_cast<double>(b * params + 32 * channels));
    }
    return l;
}

struct RandomTableSpec {
    int layers = 6;
    std::int64_t max_params = 400;  // small, so the exact DP stays fast in tests
    std::vector<int> cand = {2, 3, 4, 8};
    double fixed_probability = 0.0;
    double cost_noise = 0.0;      // lognormal sigma on the costs: > 0 makes them non-convex
    bool negative_costs = false;  // add zero-mean noise so some costs go below 0 (loss deltas)
    bool scales = true;           // size_bits with a 32-bit scale per channel, else no size_bits
};

/// Integer sizes (so the DP is exact), random gains, weight errors from seed 1's model.
inline SensitivityTable random_table(std::mt19937& rng, const RandomTableSpec& spec) {
    std::uniform_int_distribution<std::int64_t> params_dist(8, spec.max_params);
    std::uniform_real_distribution<double> log_psi(-3.0, 2.0);
    std::uniform_real_distribution<double> range(0.05, 2.0);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    SensitivityTable t;
    t.estimator = "synthetic";
    t.metric = "synthetic";
    t.candidate_bits = spec.cand;
    for (int i = 0; i < spec.layers; ++i) {
        const std::int64_t params = params_dist(rng);
        const std::int64_t channels = 1 + params / 64;
        const double r = range(rng);
        const double p = static_cast<double>(params) * r * r / 12.0 * 16.0;
        const double psi = std::pow(10.0, log_psi(rng));
        LayerSensitivity l = seed1_layer(spec.cand, params, p, psi, channels);
        l.name = "layer" + std::to_string(i);
        if (!spec.scales)
            l.size_bits.clear();
        for (double& c : l.cost) {
            if (spec.cost_noise > 0)
                c *= std::exp(spec.cost_noise * normal(rng));
            if (spec.negative_costs)
                c += 0.3 * psi * p * std::exp(-kLn4 * 4) * normal(rng);
        }
        if (unit(rng) < spec.fixed_probability) {
            l.fixed = true;
            l.fixed_bits = unit(rng) < 0.5 ? 0 : 8;
        }
        t.layers.push_back(std::move(l));
    }
    return t;
}

/// The knapsack the allocators solve: non-fixed layers, sizes as in allocator.h.
inline mckp::Problem problem_of(const SensitivityTable& t) {
    mckp::Problem p;
    for (const LayerSensitivity& l : t.layers) {
        if (l.fixed)
            continue;
        std::vector<mckp::Option> opts;
        for (std::size_t k = 0; k < t.candidate_bits.size(); ++k) {
            const double size = l.size_bits.empty()
                                    ? static_cast<double>(t.candidate_bits[k] * l.params)
                                    : l.size_bits[k];
            opts.push_back({size, l.cost[k]});
        }
        p.groups.push_back(opts);
    }
    return p;
}

struct BruteForce {
    std::vector<int> choice;
    double cost = std::numeric_limits<double>::infinity();
};

/// Enumerates every choice; the optimum within `capacity`.
inline BruteForce brute_force(const mckp::Problem& p, double capacity) {
    BruteForce best;
    std::vector<int> c(p.groups.size(), 0);
    for (;;) {
        double size = 0;
        double cost = 0;
        for (std::size_t g = 0; g < c.size(); ++g) {
            size += p.groups[g][c[g]].size;
            cost += p.groups[g][c[g]].cost;
        }
        if (size <= capacity && cost < best.cost) {
            best.cost = cost;
            best.choice = c;
        }
        std::size_t g = 0;
        while (g < c.size() && ++c[g] == static_cast<int>(p.groups[g].size()))
            c[g++] = 0;
        if (g == c.size())
            return best;
    }
}

/// True when no single-group change fits and lowers the cost (beyond a relative `tol`).
inline bool is_one_opt(const mckp::Problem& p, double capacity, const std::vector<int>& choice,
                       double tol) {
    const double size = mckp::total_size(p, choice);
    const double cost = mckp::total_cost(p, choice);
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
        const mckp::Option& cur = p.groups[g][choice[g]];
        for (const mckp::Option& o : p.groups[g]) {
            if (size - cur.size + o.size <= capacity &&
                cur.cost - o.cost > tol * std::max(1.0, std::abs(cost)))
                return false;
        }
    }
    return true;
}

}  // namespace aquant::alloc::testing
