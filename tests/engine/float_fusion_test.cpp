// The executor's fused fast path (src/engine/float_fusion.h): Conv + BatchNormalization folded,
// Conv + activation as FusedConv. Each case runs the same model fused and node-by-node
// (set_fusion(false)) on random data: results agree to 1e-5 * max(1, |y|) (folded weights round
// differently), and the fused run executes fewer nodes. Runs that need an intermediate (a hook,
// a wanted or fed value inside a chain, kept intermediates) take the unfused graph.
#include "aquant/engine/executor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/model_builder.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::GraphBuilder;
using testing::random_floats;

Tensor rand_tensor(Dims dims, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    const auto n = static_cast<std::size_t>(dims_numel(dims));
    return Tensor::from_vector<float>(dims, random_floats(n, seed, lo, hi));
}

// x [2,4,9,9] -> Conv(8 out, 3x3, pad 1, `group`) -> [BatchNormalization] -> [activation] -> y.
std::shared_ptr<ir::Model> conv_chain(bool bn, const std::string& act, std::int64_t group = 1,
                                      bool conv_bias = true) {
    GraphBuilder b;
    b.input("x", DType::kF32, {"N", 4, 9, 9});
    b.initializer("W", rand_tensor({8, 4 / group, 3, 3}, 1));
    std::vector<std::string> conv_in = {"x", "W"};
    if (conv_bias) {
        b.initializer("B", rand_tensor({8}, 2));
        conv_in.push_back("B");
    }
    b.node("Conv", conv_in, {"c"},
           {attr_ints("pads", {1, 1, 1, 1}), attr_int("group", group)}, "conv");
    std::string prev = "c";
    if (bn) {
        b.initializer("scale", rand_tensor({8}, 3, 0.5f, 2.0f));
        b.initializer("beta", rand_tensor({8}, 4));
        b.initializer("mean", rand_tensor({8}, 5));
        b.initializer("var", rand_tensor({8}, 6, 0.1f, 3.0f));
        b.node("BatchNormalization", {prev, "scale", "beta", "mean", "var"}, {"n"},
               {attr_float("epsilon", 1e-3f)}, "bn");
        prev = "n";
    }
    if (!act.empty()) {
        std::vector<ir::Attribute> attrs;
        std::vector<std::string> in = {prev};
        if (act == "Clip") {
            b.initializer("lo", Tensor::from_vector<float>({}, {0.0f}));
            b.initializer("hi", Tensor::from_vector<float>({}, {0.7f}));
            in = {prev, "lo", "hi"};
        }
        if (act == "LeakyRelu") attrs.push_back(attr_float("alpha", 0.2f));
        if (act == "HardSigmoid") attrs = {attr_float("alpha", 0.3f), attr_float("beta", 0.4f)};
        b.node(act, in, {"y"}, attrs, "act");
    } else {
        b.node("Identity", {prev}, {"y"});
    }
    b.output("y");
    return b.model(17);
}

float max_abs(const Tensor& t) {
    float m = 1.0f;
    for (float v : t.to_f32()) m = std::max(m, std::abs(v));
    return m;
}

void expect_close(const Tensor& want, const Tensor& got, const std::string& what) {
    ASSERT_EQ(want.dims(), got.dims()) << what;
    const float tol = 1e-5f * max_abs(want);
    const auto w = want.to_f32(), g = got.to_f32();
    for (std::size_t i = 0; i < w.size(); ++i) {
        ASSERT_NEAR(g[i], w[i], tol) << what << " at " << i;
    }
}

TEST(FloatFusion, MatchesUnfusedForEveryChain) {
    const Tensor x = rand_tensor({2, 4, 9, 9}, 9, -2.0f, 2.0f);
    for (bool bn : {false, true}) {
        for (const std::string act :
             {"", "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid"}) {
            for (std::int64_t group : {1, 4}) {  // 4: depthwise
                if (!bn && act.empty()) continue;
                const std::string what = std::string(bn ? "Conv+BN" : "Conv") +
                                         (act.empty() ? "" : "+" + act) + " group " +
                                         std::to_string(group);
                auto model = conv_chain(bn, act, group, /*conv_bias=*/group == 1);
                Executor fused(model);
                Executor plain(model);
                plain.set_fusion(false);
                const Tensor want = plain.run({{"x", x}}).at(0);
                const std::int64_t plain_nodes = plain.last_run_stats().nodes_run;
                const Tensor got = fused.run({{"x", x}}).at(0);
                expect_close(want, got, what);
                const std::int64_t removed = (bn ? 1 : 0) + (act.empty() ? 0 : 1);
                EXPECT_EQ(fused.last_run_stats().nodes_run, plain_nodes - removed) << what;
            }
        }
    }
}

// x -> Conv(4 -> 4, pad 1) -> BN -> Add(x) -> Relu (a residual block): one FusedConv with Z,
// either operand order of the Add.
TEST(FloatFusion, ResidualAddFusesAsZ) {
    for (bool conv_first : {true, false}) {
        GraphBuilder b;
        b.input("x", DType::kF32, {"N", 4, 6, 7});
        b.initializer("W", rand_tensor({4, 4, 3, 3}, 1));
        b.node("Conv", {"x", "W"}, {"c"}, {attr_ints("pads", {1, 1, 1, 1})});
        b.initializer("scale", rand_tensor({4}, 3, 0.5f, 2.0f));
        b.initializer("beta", rand_tensor({4}, 4));
        b.initializer("mean", rand_tensor({4}, 5));
        b.initializer("var", rand_tensor({4}, 6, 0.1f, 3.0f));
        b.node("BatchNormalization", {"c", "scale", "beta", "mean", "var"}, {"n"});
        b.node("Add", conv_first ? std::vector<std::string>{"n", "x"}
                                 : std::vector<std::string>{"x", "n"},
               {"s"});
        b.node("Relu", {"s"}, {"y"});
        b.output("y");
        auto model = b.model(17);
        const Tensor x = rand_tensor({3, 4, 6, 7}, 8, -2.0f, 2.0f);
        Executor fused(model);
        Executor plain(model);
        plain.set_fusion(false);
        expect_close(plain.run({{"x", x}}).at(0), fused.run({{"x", x}}).at(0), "residual");
        EXPECT_EQ(plain.last_run_stats().nodes_run, 4);
        EXPECT_EQ(fused.last_run_stats().nodes_run, 1);
    }
}

// Add with a broadcast operand (Z [1, 4, 1, 1]) is not fused: FusedConv needs Z of the output's
// shape.
TEST(FloatFusion, BroadcastAddIsNotFused) {
    GraphBuilder b;
    b.input("x", DType::kF32, {"N", 4, 6, 7});
    b.initializer("W", rand_tensor({4, 4, 1, 1}, 1));
    b.initializer("z", rand_tensor({1, 4, 1, 1}, 2));
    b.node("Conv", {"x", "W"}, {"c"});
    b.node("Add", {"c", "z"}, {"y"});
    b.output("y");
    auto model = b.model(17);
    const Tensor x = rand_tensor({2, 4, 6, 7}, 8);
    Executor fused(model);
    Executor plain(model);
    plain.set_fusion(false);
    expect_close(plain.run({{"x", x}}).at(0), fused.run({{"x", x}}).at(0), "broadcast add");
    EXPECT_EQ(fused.last_run_stats().nodes_run, 2);
}

TEST(FloatFusion, IntermediatesTakeTheUnfusedGraph) {
    auto model = conv_chain(true, "Relu");
    const ir::Graph& g = *model->graph;
    const Tensor x = rand_tensor({1, 4, 9, 9}, 21);
    Executor exec(model);
    // A hook sees every node of the model.
    int hooked = 0;
    RunOptions opt;
    opt.hook = [&](const ir::Node&, const std::vector<Tensor>&) { ++hooked; };
    ValueMap values{{g.find_value("x")->index, x}};
    exec.run(values, {}, opt);
    EXPECT_EQ(hooked, 3);  // Conv, BatchNormalization, Relu
    // A value inside the fused chain can be wanted, and fed.
    ValueMap v2{{g.find_value("x")->index, x}};
    exec.run(v2, {*g.find_value("n")});
    const Tensor n = v2.at(g.find_value("n")->index);
    EXPECT_EQ(exec.last_run_stats().nodes_run, 2);
    ValueMap v3{{g.find_value("n")->index, n}};
    exec.run(v3);
    Executor plain(model);
    plain.set_fusion(false);
    ValueMap v4{{g.find_value("n")->index, n}};
    plain.run(v4);
    expect_close(v4.at(g.outputs[0].index), v3.at(g.outputs[0].index), "fed n");
}

TEST(FloatFusion, ReplacedWeightsReachTheFusedPath) {
    auto model = conv_chain(true, "Clip");
    const Tensor x = rand_tensor({1, 4, 9, 9}, 31);
    Executor exec(model);
    const Tensor before = exec.run({{"x", x}}).at(0);
    const ir::ValueId w = *model->graph->find_value("W");
    exec.replace_initializer(w, rand_tensor({8, 4, 3, 3}, 77));
    const Tensor after = exec.run({{"x", x}}).at(0);
    Executor plain(model);
    plain.set_fusion(false);
    plain.replace_initializer(w, rand_tensor({8, 4, 3, 3}, 77));
    expect_close(plain.run({{"x", x}}).at(0), after, "after replace_initializer");
    EXPECT_NE(before.to_f32(), after.to_f32());
}

TEST(FloatFusion, LeavesSharedAndOutputValuesAlone) {
    // Conv output read twice (BN and the graph output): nothing fuses.
    GraphBuilder b;
    b.input("x", DType::kF32, {1, 2, 5, 5});
    b.initializer("W", rand_tensor({3, 2, 1, 1}, 1));
    b.node("Conv", {"x", "W"}, {"c"});
    b.node("Relu", {"c"}, {"r"});
    b.output("c");
    b.output("r");
    auto model = b.model(17);
    Executor exec(model);
    exec.run({{"x", rand_tensor({1, 2, 5, 5}, 3)}});
    EXPECT_EQ(exec.last_run_stats().nodes_run, 2);
}

}  // namespace
}  // namespace aquant::engine
