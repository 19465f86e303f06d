#include "alloc/alloc_test_util.h"

#include "aquant/alloc/allocator.h"
#include "aquant/core/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace aquant::alloc {
namespace {

using sensitivity::SensitivityTable;
using testing::brute_force;
using ::testing::HasSubstr;
using testing::is_one_opt;
using testing::kLn4;
using testing::problem_of;
using testing::random_table;
using testing::RandomTableSpec;
using testing::seed1_layer;

const std::vector<int> kCand = {2, 3, 4, 5, 6, 8};

BitPlan adaptive(const SensitivityTable& t, double avg_bits) {
    Budget b;
    b.avg_weight_bits = avg_bits;
    return make_allocator("adaptive")->allocate(t, b);
}

struct Seed1Layer {
    std::int64_t params;
    double p;
    double psi;
    std::int64_t channels;
};

SensitivityTable seed1_table(const std::vector<Seed1Layer>& layers) {
    SensitivityTable t;
    t.estimator = "adaptive";
    t.metric = "logit-mse";
    t.candidate_bits = kCand;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const Seed1Layer& l = layers[i];
        t.layers.push_back(seed1_layer(kCand, l.params, l.p, l.psi, l.channels));
        t.layers.back().name = "layer" + std::to_string(i);
    }
    return t;
}

TEST(Adaptive, ContinuousOptimumEqualisesTheMarginalNoisePerWeight) {
    std::mt19937 rng(2018);
    std::uniform_int_distribution<std::int64_t> params(50, 20000);
    std::uniform_real_distribution<double> log10(-2.0, 3.0);
    for (int trial = 0; trial < 20; ++trial) {
        std::vector<Seed1Layer> spec;
        for (int i = 0; i < 3 + trial % 8; ++i) {
            const std::int64_t n = params(rng);
            spec.push_back(
                {n, n * std::pow(10.0, log10(rng)), std::pow(10.0, log10(rng)), 1 + n / 100});
        }
        const SensitivityTable t = seed1_table(spec);
        const double avg_bits = 3.0 + 0.2 * (trial % 10);
        const BitPlan plan = adaptive(t, avg_bits);
        ASSERT_EQ(plan.continuous_bits.size(), spec.size());
        // p_l exp(-alpha b_l) / (t_l s_l) with t_l = 1 / psi_l: the same for every layer.
        const auto marginal = [&](std::size_t i) {
            return spec[i].p * std::exp(-kLn4 * plan.continuous_bits[i]) * spec[i].psi /
                   static_cast<double>(spec[i].params);
        };
        // The budget holds exactly under size = b * params + 32 * channels.
        double size = 0, params_sum = 0;
        for (std::size_t i = 0; i < spec.size(); ++i) {
            EXPECT_NEAR(marginal(i) / marginal(0), 1.0, 1e-9)
                << "trial " << trial << " layer " << i;
            size += plan.continuous_bits[i] * spec[i].params + 32.0 * spec[i].channels;
            params_sum += static_cast<double>(spec[i].params);
        }
        EXPECT_NEAR(size / params_sum, avg_bits, 1e-9) << "trial " << trial;
    }
}

TEST(Adaptive, OneMoreBitPerFourfoldGainOrFourfoldFewerWeights) {
    // b_i - b_j = (1/alpha) ln(p_i t_j s_j / (p_j t_i s_i)), alpha = ln 4.
    const SensitivityTable t = seed1_table({{1000, 500.0, 1.0, 10},
                                            {1000, 500.0, 4.0, 10},     // psi x 4: +1 bit
                                            {4000, 500.0, 1.0, 40},     // s x 4: -1 bit
                                            {1000, 8000.0, 1.0, 10}});  // p x 16: +2 bits
    const BitPlan plan = adaptive(t, 4.0);
    const auto& b = plan.continuous_bits;
    EXPECT_NEAR(b[1] - b[0], 1.0, 1e-12);
    EXPECT_NEAR(b[2] - b[0], -1.0, 1e-12);
    EXPECT_NEAR(b[3] - b[0], 2.0, 1e-12);
}

TEST(Adaptive, IntegralOptimumIsKeptAndIsOptimal) {
    // Choose p_l so that b_l* = B_l exactly: p_l psi_l / s_l proportional to 4^B_l.
    const std::vector<int> target = {3, 6, 4, 5};
    const std::vector<std::int64_t> n = {700, 300, 2000, 900};
    const std::vector<double> psi = {2.0, 0.5, 10.0, 1.0};
    std::vector<Seed1Layer> spec;
    double size = 0, params = 0;
    for (std::size_t i = 0; i < n.size(); ++i) {
        spec.push_back({n[i], 1e-3 * n[i] / psi[i] * std::pow(4.0, target[i]), psi[i], 8});
        size += target[i] * n[i] + 32.0 * 8;
        params += n[i];
    }
    const SensitivityTable t = seed1_table(spec);
    Budget budget;  // the exact size of the target plan (an average would round)
    budget.max_weight_bits_total = size;
    const BitPlan plan = make_allocator("adaptive")->allocate(t, budget);
    EXPECT_NEAR(plan.avg_size_bits, size / params, 1e-12);
    for (std::size_t i = 0; i < n.size(); ++i)
        EXPECT_NEAR(plan.continuous_bits[i], target[i], 1e-9) << "layer " << i;
    EXPECT_EQ(plan.bits, target);
    EXPECT_THAT(plan.solver, HasSubstr("closed form"));
    const double opt = brute_force(problem_of(t), size).cost;
    EXPECT_NEAR(plan.predicted_cost, opt, 1e-12 * opt);
}

TEST(Adaptive, LargerGainGetsMoreBits) {
    // Four identical layers, except layer 2's output is 1000 times more sensitive.
    std::vector<Seed1Layer> spec(4, {1024, 1024 * 0.3, 1.0, 16});
    spec[2].psi = 1000.0;
    const SensitivityTable t = seed1_table(spec);
    const BitPlan plan = adaptive(t, 3.5);
    for (int i : {0, 1, 3}) {
        EXPECT_GT(plan.continuous_bits[2], plan.continuous_bits[i] + 4.9);  // ln 1000 / ln 4
        EXPECT_GT(plan.bits[2], plan.bits[i]);
    }
    EXPECT_LE(plan.avg_size_bits, 3.5);
}

TEST(Adaptive, IntegerPlanFitsAndIsOneOpt) {
    std::mt19937 rng(4596);
    for (int trial = 0; trial < 60; ++trial) {
        RandomTableSpec spec;
        spec.layers = 2 + trial % 15;
        spec.cand = kCand;
        spec.cost_noise = trial % 2 ? 0.5 : 0.0;
        spec.fixed_probability = trial % 4 == 0 ? 0.2 : 0.0;
        const SensitivityTable t = random_table(rng, spec);
        const mckp::Problem p = problem_of(t);
        if (p.groups.empty())
            continue;
        double params = 0;
        for (const auto& l : t.layers) {
            if (!l.fixed)
                params += static_cast<double>(l.params);
        }
        for (double a : {2.5, 3.0, 4.2, 6.5}) {
            if (a * params < mckp::min_size(p))
                continue;
            const BitPlan plan = adaptive(t, a);
            std::vector<int> choice;
            for (std::size_t i = 0; i < t.layers.size(); ++i) {
                if (!t.layers[i].fixed) {
                    choice.push_back(t.candidate_index(plan.bits[i]));
                } else {
                    EXPECT_EQ(plan.continuous_bits[i], t.layers[i].fixed_bits);
                }
            }
            SCOPED_TRACE(::testing::Message() << "trial " << trial << " avg " << a);
            EXPECT_LE(mckp::total_size(p, choice), a * params);
            EXPECT_TRUE(is_one_opt(p, a * params, choice, 1e-12));
            // Never worse than the Lagrangian + fill solution (fixed layers left out of both).
            const double cost = mckp::total_cost(p, choice);
            EXPECT_LE(cost, mckp::solve_lagrangian(p, a * params).cost + 1e-9 * cost);
        }
    }
}

TEST(Adaptive, NeedsGainsAndWeightErrors) {
    SensitivityTable t = seed1_table({{100, 10.0, 1.0, 1}, {200, 10.0, 1.0, 1}});
    t.estimator = "mmse";
    for (auto& l : t.layers)
        l.gain = 0.0;
    Budget b;
    b.avg_weight_bits = 4;
    try {
        make_allocator("adaptive")->allocate(t, b);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(),
                     "allocator 'adaptive': sensitivity table (estimator 'mmse') has no noise "
                     "gain: expected gain (psi) > 0 on the non-fixed layers");
    }
    // One zero gain is allowed: that layer has no marginal value and gets the fewest bits.
    t.layers[0].gain = 1.0;
    const BitPlan plan = make_allocator("adaptive")->allocate(t, b);
    EXPECT_EQ(plan.continuous_bits[1], 2.0);
    t.layers[1].weight_error.clear();
    EXPECT_THROW(make_allocator("adaptive")->allocate(t, b), ConfigError);
    t.layers[1].weight_error.assign(kCand.size(), 1.0);
    t.layers[1].gain = -1.0;
    EXPECT_THROW(make_allocator("adaptive")->allocate(t, b), ConfigError);
}

}  // namespace
}  // namespace aquant::alloc
