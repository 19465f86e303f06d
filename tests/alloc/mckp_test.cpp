#include "aquant/alloc/mckp.h"

#include "alloc/alloc_test_util.h"

#include "aquant/core/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace aquant::alloc::mckp {
namespace {

using testing::brute_force;
using testing::is_one_opt;

// Relative tolerance for comparing sums of the same costs added in different orders.
constexpr double kTol = 1e-9;

double tol_of(double x) {
    return kTol * std::max(1.0, std::abs(x));
}

/// Random problem: integer sizes 0..40 per option (sizes of a group distinct), costs in [-1, 10)
/// with no structure (non-convex, non-monotone).
Problem random_problem(std::mt19937& rng, int groups, int options) {
    std::uniform_int_distribution<int> size(0, 40);
    std::uniform_real_distribution<double> cost(-1.0, 10.0);
    Problem p;
    for (int g = 0; g < groups; ++g) {
        std::vector<Option> opts;
        for (int k = 0; k < options; ++k)
            opts.push_back({static_cast<double>(size(rng)), cost(rng)});
        p.groups.push_back(opts);
    }
    return p;
}

/// Every option on its group's hull: sizes increasing, costs decreasing with decreasing slopes.
Problem convex_problem(std::mt19937& rng, int groups, int options) {
    std::uniform_real_distribution<double> step(1.0, 20.0);
    std::uniform_real_distribution<double> slope(0.01, 10.0);
    Problem p;
    for (int g = 0; g < groups; ++g) {
        std::vector<double> slopes(options - 1);
        for (double& s : slopes)
            s = slope(rng);
        std::sort(slopes.rbegin(), slopes.rend());
        std::vector<Option> opts{{step(rng), 100.0}};
        for (int k = 1; k < options; ++k) {
            const double ds = step(rng);
            opts.push_back({opts.back().size + ds, opts.back().cost - slopes[k - 1] * ds});
        }
        p.groups.push_back(opts);
    }
    return p;
}

double max_size(const Problem& p) {
    double s = 0;
    for (const auto& g : p.groups) {
        double m = 0;
        for (const Option& o : g)
            m = std::max(m, o.size);
        s += m;
    }
    return s;
}

TEST(LowerHull, DropsDominatedAndNonConvexPoints) {
    // A(1,10) B(2,6) C(3,5) D(4,1) E(2.5,7) F(5,1): E and F are dominated (no cheaper than a
    // smaller point); C lies above the chord B-D (3.5 at size 3), so the hull is A B D.
    const std::vector<Option> opts{{1, 10}, {2, 6}, {3, 5}, {4, 1}, {2.5, 7}, {5, 1}};
    EXPECT_EQ(lower_hull(opts), (std::vector<int>{0, 1, 3}));
    // Given unsorted, same hull.
    const std::vector<Option> shuffled{{4, 1}, {1, 10}, {3, 5}, {2, 6}};
    EXPECT_EQ(lower_hull(shuffled), (std::vector<int>{1, 3, 0}));
    // Collinear points are kept (finer steps for the Lagrangian walk).
    EXPECT_EQ(lower_hull({{1, 3}, {2, 2}, {3, 1}}), (std::vector<int>{0, 1, 2}));
    // Exact ties keep the larger index; among equal sizes the cheaper starts the hull.
    EXPECT_EQ(lower_hull({{1, 1}, {1, 1}}), (std::vector<int>{1}));
    EXPECT_EQ(lower_hull({{1, 5}, {1, 2}, {2, 1}}), (std::vector<int>{1, 2}));
}

TEST(Mckp, SolversAgainstBruteForce) {
    std::mt19937 rng(20240611);
    int checked = 0;
    for (int trial = 0; trial < 150; ++trial) {
        const int groups = 1 + trial % 6;
        const int options = 2 + trial % 3;
        const Problem p = random_problem(rng, groups, options);
        const double lo = min_size(p);
        const double hi = max_size(p);
        for (double f : {0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0}) {
            const double cap = std::floor(lo + f * (hi - lo)) + (trial % 2 ? 0.5 : 0.0);
            const auto opt = brute_force(p, cap);
            SCOPED_TRACE(::testing::Message() << "trial " << trial << " capacity " << cap);

            const LagrangianPoint pt = lagrangian_point(p, cap);
            const Solution lag = solve_lagrangian(p, cap);
            EXPECT_LE(lag.size, cap);
            EXPECT_GE(lag.cost, opt.cost - tol_of(opt.cost));
            EXPECT_LE(lag.lower_bound, opt.cost + tol_of(opt.cost));
            EXPECT_LE(lag.cost, pt.cost + tol_of(pt.cost));  // the fill only improves
            EXPECT_LE(lag.cost - lag.lower_bound, pt.critical_cost_drop + tol_of(lag.cost));
            EXPECT_TRUE(is_one_opt(p, cap, lag.choice, kTol));

            DpStats st;
            const Solution dp = solve_dp(p, cap, {}, &st);
            EXPECT_TRUE(st.exact);
            EXPECT_LE(dp.size, cap);
            EXPECT_NEAR(dp.cost, opt.cost, tol_of(opt.cost));
            EXPECT_EQ(dp.lower_bound, lag.lower_bound);

            const Solution gr = solve_greedy(p, cap);
            EXPECT_LE(gr.size, cap);
            EXPECT_GE(gr.cost, opt.cost - tol_of(opt.cost));
            EXPECT_TRUE(is_one_opt(p, cap, gr.choice, kTol));
            ++checked;
        }
    }
    EXPECT_EQ(checked, 150 * 7);
}

TEST(Mckp, LagrangianIsOptimalWhenTheCapacityLandsOnAHullVertex) {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 100; ++trial) {
        const Problem p = random_problem(rng, 2 + trial % 5, 3);
        const double lo = min_size(p);
        const double cap =
            lo + std::uniform_real_distribution<double>(0, 1)(rng) * (max_size(p) - lo);
        // The Lagrangian point's own size is a capacity on a hull vertex.
        const double vertex = lagrangian_point(p, cap).size;
        const Solution s = solve_lagrangian(p, vertex);
        const auto opt = brute_force(p, vertex);
        SCOPED_TRACE(::testing::Message() << "trial " << trial << " capacity " << vertex);
        EXPECT_NEAR(s.cost, opt.cost, tol_of(opt.cost));
        EXPECT_NEAR(s.lower_bound, s.cost, tol_of(s.cost));
    }
}

TEST(Mckp, MonotoneInTheCapacity) {
    std::mt19937 rng(99);
    for (int trial = 0; trial < 40; ++trial) {
        Problem p = random_problem(rng, 3 + trial % 8, 2 + trial % 4);
        if (trial % 2) {  // non-integral sizes: forces the rounded DP unit
            for (auto& g : p.groups) {
                for (Option& o : g)
                    o.size = o.size * 1.37 + 0.011;
            }
        }
        const double lo = min_size(p);
        const double hi = max_size(p);
        double prev_point = 0, prev_lb = 0, prev_dp = 0, prev_dp_small = 0;
        for (int i = 0; i <= 60; ++i) {
            const double cap = lo + (hi - lo) * i / 60.0;
            const LagrangianPoint pt = lagrangian_point(p, cap);
            const double dp = solve_dp(p, cap, DpOptions{20000}).cost;
            DpStats st;
            const double dp_small = solve_dp(p, cap, DpOptions{1000}, &st).cost;
            EXPECT_LE(st.cell_updates, 1000);
            if (i > 0) {
                SCOPED_TRACE(::testing::Message() << "trial " << trial << " step " << i);
                EXPECT_LE(pt.cost, prev_point + tol_of(prev_point));
                EXPECT_LE(pt.lower_bound, prev_lb + tol_of(prev_lb));
                EXPECT_LE(dp, prev_dp + tol_of(prev_dp));
                EXPECT_LE(dp_small, prev_dp_small + tol_of(prev_dp_small));
            }
            prev_point = pt.cost;
            prev_lb = pt.lower_bound;
            prev_dp = dp;
            prev_dp_small = dp_small;
        }
    }
}

TEST(Mckp, DpUnitIsTheGcdOrRoundsSafely) {
    // Extras above the minima: {0, 8, 16} and {0, 32}: gcd 8, exact.
    const Problem p{{{{16, 5}, {24, 3}, {32, 1}}, {{8, 4.5}, {40, 0}}}};
    DpStats st;
    Solution s = solve_dp(p, 56, {}, &st);
    EXPECT_TRUE(st.exact);
    EXPECT_EQ(st.unit, 8.0);
    EXPECT_EQ(st.units, 4);                         // (56 - 24) / 8
    EXPECT_EQ(s.choice, (std::vector<int>{0, 1}));  // 16 + 40 = 56, cost 5 < 1 + 4.5
    EXPECT_EQ(s.cost, 5.0);

    // Irregular sizes and a tiny cell limit: the plan is feasible and the limit holds.
    std::mt19937 rng(3);
    for (int trial = 0; trial < 50; ++trial) {
        Problem q = random_problem(rng, 5, 4);
        for (auto& g : q.groups) {
            for (Option& o : g)
                o.size = o.size * 3.1 + 0.7;
        }
        const double cap = min_size(q) + 0.4 * (max_size(q) - min_size(q));
        const Solution d = solve_dp(q, cap, DpOptions{300}, &st);
        EXPECT_FALSE(st.exact);
        EXPECT_LE(st.cell_updates, 300);
        EXPECT_LE(d.size, cap);
        EXPECT_GE(d.cost, brute_force(q, cap).cost - 1e-9);
    }
}

TEST(Mckp, GreedyEqualsLagrangianOnConvexGroups) {
    std::mt19937 rng(5);
    for (int trial = 0; trial < 60; ++trial) {
        const Problem p = convex_problem(rng, 2 + trial % 10, 2 + trial % 5);
        for (const auto& g : p.groups)
            ASSERT_EQ(lower_hull(g).size(), g.size());
        const double lo = min_size(p);
        for (double f : {0.0, 0.25, 0.5, 0.75, 1.0}) {
            const double cap = lo + f * (max_size(p) - lo);
            EXPECT_EQ(solve_greedy(p, cap).choice, solve_lagrangian(p, cap).choice)
                << "trial " << trial << " capacity " << cap;
        }
    }
}

TEST(Mckp, TiesGoToTheLowerGroup) {
    // Two identical groups; the capacity admits one upgrade.
    const Problem p{{{{1, 10}, {2, 0}}, {{1, 10}, {2, 0}}}};
    EXPECT_EQ(solve_lagrangian(p, 3).choice, (std::vector<int>{1, 0}));
    EXPECT_EQ(solve_greedy(p, 3).choice, (std::vector<int>{1, 0}));
    EXPECT_EQ(solve_dp(p, 3).choice, (std::vector<int>{1, 0}));
}

TEST(Mckp, CapacityBelowTheMinimumIsAnError) {
    const Problem p{{{{4, 1}, {2, 3}}, {{5, 0}, {3, 1}}}};
    EXPECT_EQ(min_size(p), 5.0);
    try {
        solve_lagrangian(p, 4.5);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "mckp: capacity 4.5 is below the smallest plan, 5");
    }
    EXPECT_THROW(solve_dp(p, 4.5), ConfigError);
    EXPECT_THROW(solve_greedy(p, 4.5), ConfigError);
    EXPECT_EQ(solve_dp(p, 5).choice, (std::vector<int>{1, 1}));
}

}  // namespace
}  // namespace aquant::alloc::mckp
