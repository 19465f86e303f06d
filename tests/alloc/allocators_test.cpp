#include "alloc/alloc_test_util.h"

#include "aquant/alloc/allocator.h"
#include "aquant/core/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace aquant::alloc {
namespace {

using sensitivity::SensitivityTable;
using testing::brute_force;
using ::testing::HasSubstr;
using testing::problem_of;
using testing::random_table;
using testing::RandomTableSpec;
using testing::seed1_layer;

const std::vector<std::string> kNames = {"adaptive", "loss-aware", "mmse"};

// Relative tolerance for sums of the same numbers added in different orders.
constexpr double kTol = 1e-9;

double tol_of(double x) {
    return kTol * std::max(1.0, std::abs(x));
}

std::string message_of(const std::string& allocator, const SensitivityTable& t, const Budget& b) {
    try {
        make_allocator(allocator)->allocate(t, b);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

Budget avg(double bits) {
    Budget b;
    b.avg_weight_bits = bits;
    return b;
}

Budget total(double bits) {
    Budget b;
    b.max_weight_bits_total = bits;
    return b;
}

/// Two layers with fp32 per-channel scales: smallest plan (2 bits everywhere) is
/// (2*64 + 32*2 + 2*192 + 32*4) / 256 = 704 / 256 = 2.75 bits per weight.
SensitivityTable two_layer_table() {
    SensitivityTable t;
    t.estimator = "synthetic";
    t.candidate_bits = {2, 4, 8};
    t.layers.push_back(seed1_layer(t.candidate_bits, 64, 100.0, 1.0, 2));
    t.layers.push_back(seed1_layer(t.candidate_bits, 192, 100.0, 1.0, 4));
    t.layers[0].name = "conv1";
    t.layers[1].name = "fc";
    return t;
}

TEST(Registry, ListsTheAllocatorsAndRejectsUnknownNames) {
    std::vector<std::string> names;
    for (const AllocatorInfo& a : allocators()) {
        names.push_back(a.name);
        EXPECT_FALSE(a.summary.empty()) << a.name;
        EXPECT_NE(a.make(), nullptr) << a.name;
    }
    EXPECT_EQ(names, kNames);
    try {
        make_allocator("mmes");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "unknown allocator 'mmes'; valid: adaptive, loss-aware, mmse");
    }
}

TEST(Allocators, BudgetRespectedOnRandomTables) {
    std::mt19937 rng(1234);
    int plans = 0;
    for (int trial = 0; trial < 60; ++trial) {
        RandomTableSpec spec;
        spec.layers = 1 + trial % 12;
        spec.fixed_probability = trial % 3 == 0 ? 0.25 : 0.0;
        spec.cost_noise = trial % 2 ? 0.7 : 0.0;
        spec.negative_costs = trial % 5 == 0;
        spec.scales = trial % 4 != 1;
        spec.cand =
            trial % 7 == 3 ? std::vector<int>{1, 2, 3, 4, 5, 6, 8} : std::vector<int>{2, 3, 4, 8};
        const SensitivityTable t = random_table(rng, spec);
        const mckp::Problem p = problem_of(t);
        double params = 0, fixed_size = 0;
        for (const auto& l : t.layers) {
            if (!l.fixed)
                params += static_cast<double>(l.params);
            else
                fixed_size += l.fixed_bits == 0     ? 32.0 * l.params
                              : l.size_bits.empty() ? 8.0 * l.params
                                                    : l.size_bits.back();
        }
        if (params == 0)
            continue;
        const double min_avg = mckp::min_size(p) / params;
        for (double extra : {1e-9, 0.3, 1.0, 2.5, 7.0}) {  // 1e-9: the minimum, after rounding
            const double a = min_avg + extra;
            const double tot = fixed_size + mckp::min_size(p) + extra * params * 0.8;
            Budget both = avg(a);
            both.max_weight_bits_total = tot;
            for (const Budget& b : {avg(a), total(tot), both}) {
                for (const std::string& name : kNames) {
                    SCOPED_TRACE(::testing::Message()
                                 << name << " trial " << trial << " extra " << extra);
                    const BitPlan plan = make_allocator(name)->allocate(t, b);
                    ASSERT_EQ(plan.bits.size(), t.layers.size());
                    if (b.avg_weight_bits) {
                        EXPECT_LE(plan.avg_size_bits, *b.avg_weight_bits * (1 + 1e-12));
                    }
                    if (b.max_weight_bits_total) {
                        EXPECT_LE(plan.total_size_bits, *b.max_weight_bits_total * (1 + 1e-12));
                    }
                    for (std::size_t i = 0; i < t.layers.size(); ++i) {
                        if (t.layers[i].fixed) {
                            EXPECT_EQ(plan.bits[i], t.layers[i].fixed_bits);
                        } else {
                            EXPECT_GE(t.candidate_index(plan.bits[i]), 0);
                        }
                    }
                    BitPlan rescored = plan;
                    score_plan(t, rescored);
                    EXPECT_EQ(rescored.predicted_cost, plan.predicted_cost);
                    EXPECT_EQ(rescored.total_size_bits, plan.total_size_bits);
                    ASSERT_TRUE(plan.lower_bound.has_value());
                    EXPECT_LE(*plan.lower_bound, plan.predicted_cost + tol_of(plan.predicted_cost));
                    EXPECT_FALSE(plan.solver.empty());
                    ++plans;
                }
            }
        }
    }
    EXPECT_GT(plans, 2000);
}

TEST(Allocators, SameInputSamePlan) {
    std::mt19937 rng(42);
    RandomTableSpec spec;
    spec.layers = 20;
    spec.cost_noise = 0.5;
    spec.fixed_probability = 0.1;
    const SensitivityTable t = random_table(rng, spec);
    const SensitivityTable copy = t;
    for (const std::string& name : kNames) {
        const BitPlan a = make_allocator(name)->allocate(t, avg(3.6));
        const BitPlan b = make_allocator(name)->allocate(copy, avg(3.6));
        EXPECT_EQ(a.bits, b.bits) << name;
        EXPECT_EQ(a.predicted_cost, b.predicted_cost) << name;
        EXPECT_EQ(a.continuous_bits, b.continuous_bits) << name;
    }
}

TEST(Allocators, SmallCasesAgainstBruteForce) {
    std::mt19937 rng(77);
    for (int trial = 0; trial < 80; ++trial) {
        RandomTableSpec spec;
        spec.layers = 2 + trial % 5;
        spec.cost_noise = trial % 2 ? 0.8 : 0.0;
        spec.negative_costs = trial % 3 == 0;
        const SensitivityTable t = random_table(rng, spec);
        const mckp::Problem p = problem_of(t);
        double params = 0;
        for (const auto& l : t.layers)
            params += static_cast<double>(l.params);
        for (double a : {2.3, 2.9, 3.5, 4.4, 6.0}) {
            const double cap = a * params;
            if (cap < mckp::min_size(p))
                continue;
            const double opt = brute_force(p, cap).cost;
            SCOPED_TRACE(::testing::Message() << "trial " << trial << " avg " << a);
            // loss-aware: exact dynamic programming (integer sizes: exact unit).
            const BitPlan dp = make_allocator("loss-aware")->allocate(t, avg(a));
            EXPECT_NEAR(dp.predicted_cost, opt, tol_of(opt));
            EXPECT_THAT(dp.solver, HasSubstr("dp exact"));
            // mmse: within [lower_bound, the Lagrangian point's cost].
            const BitPlan mm = make_allocator("mmse")->allocate(t, avg(a));
            EXPECT_GE(mm.predicted_cost, opt - tol_of(opt));
            EXPECT_LE(*mm.lower_bound, opt + tol_of(opt));
            EXPECT_LE(mm.predicted_cost,
                      mckp::lagrangian_point(p, cap).cost + tol_of(mm.predicted_cost));
            // adaptive: never worse than mmse's solver on the same costs.
            const BitPlan ad = make_allocator("adaptive")->allocate(t, avg(a));
            EXPECT_LE(ad.predicted_cost, mm.predicted_cost + tol_of(mm.predicted_cost));
            EXPECT_GE(ad.predicted_cost, opt - tol_of(opt));
        }
    }
}

TEST(Allocators, MmseIsExactOnAHullVertexBudget) {
    std::mt19937 rng(8);
    for (int trial = 0; trial < 40; ++trial) {
        RandomTableSpec spec;
        spec.layers = 2 + trial % 5;
        spec.cost_noise = 0.6;
        const SensitivityTable t = random_table(rng, spec);
        const mckp::Problem p = problem_of(t);
        double params = 0;
        for (const auto& l : t.layers)
            params += static_cast<double>(l.params);
        const double vertex = mckp::lagrangian_point(p, mckp::min_size(p) + 0.5 * params).size;
        const BitPlan plan = make_allocator("mmse")->allocate(t, total(vertex));
        const double opt = brute_force(p, vertex).cost;
        EXPECT_NEAR(plan.predicted_cost, opt, tol_of(opt)) << "trial " << trial;
        EXPECT_NEAR(*plan.lower_bound, plan.predicted_cost, tol_of(opt)) << "trial " << trial;
    }
}

TEST(Allocators, MonotoneInTheBudgetWhereGuaranteed) {
    std::mt19937 rng(31);
    for (int trial = 0; trial < 10; ++trial) {
        RandomTableSpec spec;
        spec.layers = 4 + trial;
        spec.cost_noise = 0.6;
        spec.fixed_probability = 0.2;
        const SensitivityTable t = random_table(rng, spec);
        const mckp::Problem p = problem_of(t);
        if (p.groups.empty())
            continue;
        double params = 0;
        for (const auto& l : t.layers) {
            if (!l.fixed)
                params += static_cast<double>(l.params);
        }
        double prev_dp = 0, prev_lb = 0;
        for (int i = 0; i <= 25; ++i) {
            const double a = mckp::min_size(p) / params + 1e-9 + 0.25 * i;
            const BitPlan dp = make_allocator("loss-aware")->allocate(t, avg(a));
            const BitPlan mm = make_allocator("mmse")->allocate(t, avg(a));
            ASSERT_THAT(dp.solver, HasSubstr("dp exact"));  // the monotone case
            if (i > 0) {
                SCOPED_TRACE(::testing::Message() << "trial " << trial << " avg " << a);
                EXPECT_LE(dp.predicted_cost, prev_dp + tol_of(prev_dp));
                EXPECT_LE(*mm.lower_bound, prev_lb + tol_of(prev_lb));
            }
            prev_dp = dp.predicted_cost;
            prev_lb = *mm.lower_bound;
        }
    }
}

TEST(Allocators, LossAwareFillsTheSlackOfARoundedUnit) {
    // 60 layers of up to 2M weights: the gcd unit would need far more than 2e7 cell updates.
    std::mt19937 rng(60);
    RandomTableSpec spec;
    spec.layers = 60;
    spec.max_params = 2000000;
    spec.cost_noise = 0.3;
    const SensitivityTable t = random_table(rng, spec);
    const mckp::Problem p = problem_of(t);
    double params = 0;
    for (const auto& l : t.layers)
        params += static_cast<double>(l.params);
    const BitPlan plan = make_allocator("loss-aware")->allocate(t, avg(3.3));
    EXPECT_THAT(plan.solver, HasSubstr("+ fill"));
    EXPECT_LE(plan.avg_size_bits, 3.3);
    std::vector<int> choice;
    for (int b : plan.bits)
        choice.push_back(t.candidate_index(b));
    mckp::DpStats st;
    const mckp::Solution dp = mckp::solve_dp(p, 3.3 * params, {}, &st);
    EXPECT_FALSE(st.exact);
    EXPECT_LE(st.cell_updates, 20'000'000);
    EXPECT_LE(plan.predicted_cost, dp.cost);
    EXPECT_TRUE(testing::is_one_opt(p, 3.3 * params, choice, 1e-12));
    // As good as a DP with a 5x finer unit, to 1e-4 (measured: equal, 4.23805e6; both 1.10 %
    // above the relaxation bound, which is the integrality gap, not rounding).
    const mckp::Solution fine = mckp::solve_dp(p, 3.3 * params, mckp::DpOptions{100'000'000});
    EXPECT_LE(plan.predicted_cost, fine.cost * (1 + 1e-4));
}

TEST(Allocators, FixedLayersKeepTheirBitsAndStayOutOfTheAverage) {
    SensitivityTable t = two_layer_table();
    // A large float layer: in the totals, not in the average-bits budget.
    sensitivity::LayerSensitivity big = seed1_layer(t.candidate_bits, 10000, 1e4, 50.0, 10);
    big.name = "embed";
    big.fixed = true;
    big.fixed_bits = 0;
    t.layers.insert(t.layers.begin() + 1, big);
    for (const std::string& name : kNames) {
        const BitPlan plan = make_allocator(name)->allocate(t, avg(4.5));
        EXPECT_EQ(plan.bits[1], 0) << name;
        EXPECT_LE(plan.avg_size_bits, 4.5) << name;
        EXPECT_GE(plan.total_size_bits, 32.0 * 10000) << name;
        EXPECT_EQ(plan.budget_size_bits, 4.5 * 256) << name;
        // The fixed float layer costs nothing; the plan's cost is the two allocated layers'.
        EXPECT_EQ(plan.predicted_cost, t.layers[0].cost[t.candidate_index(plan.bits[0])] +
                                           t.layers[2].cost[t.candidate_index(plan.bits[2])])
            << name;
    }
    // Fixed at a candidate: its cost is a constant in the plan.
    t.layers[1].fixed_bits = 8;
    const BitPlan plan = make_allocator("mmse")->allocate(t, avg(4.5));
    EXPECT_EQ(plan.bits[1], 8);
    EXPECT_NEAR(plan.predicted_cost,
                t.layers[0].cost[t.candidate_index(plan.bits[0])] + t.layers[1].cost[2] +
                    t.layers[2].cost[t.candidate_index(plan.bits[2])],
                1e-12 * plan.predicted_cost);
    // The total budget counts the fixed layer: 8 * 10000 + 32 * 10 = 80320 bits of it.
    EXPECT_THAT(message_of("mmse", t, total(81000)),
                HasSubstr("below the smallest plan, 81024 bits (80320 of them in fixed layers)"));
    const BitPlan fits = make_allocator("loss-aware")->allocate(t, total(81024));
    EXPECT_EQ(fits.bits, (std::vector<int>{2, 8, 2}));
    EXPECT_EQ(fits.total_size_bits, 81024);

    // Nothing to allocate: the plan is the fixed widths, whatever the average budget.
    for (auto& l : t.layers) {
        l.fixed = true;
        l.fixed_bits = 4;
    }
    for (const std::string& name : kNames) {
        const BitPlan all_fixed = make_allocator(name)->allocate(t, avg(2.0));
        EXPECT_EQ(all_fixed.bits, (std::vector<int>{4, 4, 4})) << name;
        EXPECT_EQ(all_fixed.avg_size_bits, 0.0) << name;
        EXPECT_EQ(all_fixed.avg_weight_bits, 4.0) << name;
    }
}

TEST(Allocators, AverageBudgetCountsTheScales) {
    // Uniform 4 bits is 4 + 32 * 2 / 64 = 5 and 4 + 32 * 4 / 192 = 4.67 bits per weight.
    const SensitivityTable t = two_layer_table();
    for (const std::string& name : kNames) {
        const BitPlan plan = make_allocator(name)->allocate(t, avg(4.0));
        EXPECT_LE(plan.avg_size_bits, 4.0) << name;
        EXPECT_NE(plan.bits, (std::vector<int>{4, 4})) << name;
        EXPECT_LT(plan.avg_weight_bits, plan.avg_size_bits) << name;
    }
    // Without size_bits the size is bits * params: uniform 4 fits exactly, and costs fall with
    // the bits, so every allocator takes it.
    SensitivityTable bare = t;
    for (auto& l : bare.layers)
        l.size_bits.clear();
    for (const std::string& name : kNames) {
        const BitPlan plan = make_allocator(name)->allocate(bare, avg(4.0));
        EXPECT_EQ(plan.bits, (std::vector<int>{4, 4})) << name;
        EXPECT_EQ(plan.avg_size_bits, 4.0) << name;
        EXPECT_EQ(plan.avg_weight_bits, 4.0) << name;
    }
}

TEST(Allocators, BudgetErrors) {
    const SensitivityTable t = two_layer_table();
    for (const std::string& name : kNames) {
        EXPECT_EQ(message_of(name, t, avg(2.5)),
                  "allocator '" + name +
                      "': budget of 2.5 bits per weight (scales included) is below the smallest "
                      "plan, 2.75 bits per weight (every non-fixed layer at its smallest "
                      "candidate)");
        EXPECT_EQ(message_of(name, t, total(700)),
                  "allocator '" + name +
                      "': budget of 700 total weight bits is below the smallest plan, 704 bits "
                      "(0 of them in fixed layers)");
        EXPECT_EQ(message_of(name, t, Budget{}),
                  "allocator '" + name +
                      "': no budget, expected avg_weight_bits or max_weight_bits_total");
        EXPECT_THAT(message_of(name, t, avg(-1)),
                    HasSubstr("avg_weight_bits expected > 0, got -1"));
        // Exactly the minimum is reachable.
        EXPECT_EQ(make_allocator(name)->allocate(t, avg(2.75)).bits, (std::vector<int>{2, 2}));
    }
}

TEST(Allocators, MalformedTablesAreRejected) {
    SensitivityTable t = two_layer_table();
    t.layers[1].cost.pop_back();
    EXPECT_EQ(message_of("mmse", t, avg(4)),
              "allocator 'mmse': sensitivity table: layer 'fc': cost has 2 entries, expected 3 "
              "(one per candidate)");
    t = two_layer_table();
    t.candidate_bits = {4, 2, 8};
    EXPECT_THAT(message_of("loss-aware", t, avg(4)),
                HasSubstr("candidate_bits expected strictly ascending in [0, 32], got [4, 2, 8]"));
    t = two_layer_table();
    t.layers[0].cost[1] = std::nan("");
    EXPECT_THAT(message_of("adaptive", t, avg(4)),
                HasSubstr("layer 'conv1': cost at 4 bits expected finite, got nan"));
}

TEST(ScorePlan, ComputesTheReportedFields) {
    SensitivityTable t = two_layer_table();
    t.layers[1].fixed = true;
    t.layers[1].fixed_bits = 16;  // not a candidate: cost 0, 16 * params
    BitPlan plan;
    plan.bits = {4, 16};
    score_plan(t, plan);
    EXPECT_EQ(plan.predicted_cost, t.layers[0].cost[1]);
    EXPECT_EQ(plan.total_size_bits, (4 * 64 + 32 * 2) + 16 * 192);
    EXPECT_EQ(plan.avg_weight_bits, (4.0 * 64 + 16.0 * 192) / 256);
    EXPECT_EQ(plan.avg_size_bits, (4.0 * 64 + 32 * 2) / 64);  // the fixed layer is left out
    EXPECT_FALSE(plan.lower_bound.has_value());

    plan.bits = {0, 16};  // float: 32 bits per weight, no cost, not in avg_weight_bits
    score_plan(t, plan);
    EXPECT_EQ(plan.predicted_cost, 0.0);
    EXPECT_EQ(plan.total_size_bits, 32 * 64 + 16 * 192);
    EXPECT_EQ(plan.avg_weight_bits, 16.0);
    EXPECT_EQ(plan.avg_size_bits, 32.0);

    plan.bits = {3, 16};
    try {
        score_plan(t, plan);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(),
                     "bit plan: layer 'conv1': 3 bits is not a candidate with a cost (candidates: "
                     "2, 4, 8)");
    }
    plan.bits = {4};
    EXPECT_THROW(score_plan(t, plan), ConfigError);
}

}  // namespace
}  // namespace aquant::alloc
