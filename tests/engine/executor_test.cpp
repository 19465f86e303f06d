#include "aquant/engine/executor.h"

#include "engine/model_builder.h"

#include "aquant/core/parallel.h"

#include <gtest/gtest.h>

#include <cmath>

namespace aquant::engine {
namespace {

using test::attr_graph;
using test::attr_int;
using test::attr_ints;
using test::GraphBuilder;
using test::tensor_f32;

// x -> Neg -> Neg -> ... (n nodes), each output named v<i>.
std::shared_ptr<ir::Model> neg_chain(int n, std::int64_t size = 4) {
    GraphBuilder b;
    b.input("x", DType::kF32, {size});
    std::string prev = "x";
    for (int i = 0; i < n; ++i) {
        const std::string out = "v" + std::to_string(i);
        b.node("Neg", {prev}, {out}, {}, "neg" + std::to_string(i));
        prev = out;
    }
    b.output(prev);
    return b.model();
}

template <typename E, typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const E& e) {
        return e.what();
    }
    return "(no exception)";
}

TEST(Executor, RunsChainAndComputesValues) {
    auto model = neg_chain(3);
    Executor exec(model);
    const auto out = exec.run({{"x", tensor_f32({4}, {1, -2, 3, 0.5f})}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].to_f32(), (std::vector<float>{-1, 2, -3, -0.5f}));  // three negations
    EXPECT_EQ(exec.last_run_stats().nodes_run, 3);
}

TEST(Executor, FreesIntermediatesAfterLastUse) {
    // On a 20-node chain at most the current output and its input are alive at once.
    auto model = neg_chain(20);
    Executor exec(model);
    ValueMap values;
    values[model->graph->find_value("x")->index] = tensor_f32({4}, {1, 2, 3, 4});
    std::size_t max_map_size = 0;
    RunOptions opt;
    opt.hook = [&](const ir::Node&, const std::vector<Tensor>&) {
        max_map_size = std::max(max_map_size, values.size());
    };
    exec.run(values, {}, opt);
    EXPECT_LE(exec.last_run_stats().peak_live_values, 2);
    EXPECT_LE(max_map_size, 2u);  // x (given) + the newest value; the previous one is freed
    // After the run: the feed and the graph output only.
    EXPECT_EQ(values.size(), 2u);
    EXPECT_EQ(values.at(model->graph->outputs[0].index).to_f32(),
              (std::vector<float>{1, 2, 3, 4}));  // 20 negations
}

TEST(Executor, KeepIntermediatesKeepsEveryValue) {
    auto model = neg_chain(5);
    Executor exec(model);
    ValueMap values;
    values[model->graph->find_value("x")->index] = tensor_f32({4}, {1, 2, 3, 4});
    RunOptions opt;
    opt.keep_intermediates = true;
    exec.run(values, {}, opt);
    EXPECT_EQ(values.size(), 6u);
    EXPECT_EQ(values.at(model->graph->find_value("v2")->index).to_f32(),
              (std::vector<float>{-1, -2, -3, -4}));
}

TEST(Executor, CachedActivationRunsOnlyDownstreamNodes) {
    // x -> neg0 -> v0 -> neg1 -> v1 -> neg2 -> v2; a cached v1 means only neg2 runs.
    auto model = neg_chain(3);
    Executor exec(model);
    ValueMap values;
    values[model->graph->find_value("v1")->index] = tensor_f32({4}, {10, 20, 30, 40});
    std::vector<std::string> ran;
    RunOptions opt;
    opt.hook = [&](const ir::Node& n, const std::vector<Tensor>&) { ran.push_back(n.name); };
    exec.run(values, {}, opt);  // no feed for x: it is not needed
    EXPECT_EQ(ran, (std::vector<std::string>{"neg2"}));
    EXPECT_EQ(values.at(model->graph->outputs[0].index).to_f32(),
              (std::vector<float>{-10, -20, -30, -40}));
    // The cached value is the caller's: still there, unchanged.
    EXPECT_EQ(values.at(model->graph->find_value("v1")->index).to_f32(),
              (std::vector<float>{10, 20, 30, 40}));
}

TEST(Executor, WantedSubsetRunsOnlyItsAncestors) {
    auto model = neg_chain(4);
    Executor exec(model);
    ValueMap values;
    values[model->graph->find_value("x")->index] = tensor_f32({4}, {1, 2, 3, 4});
    int count = 0;
    RunOptions opt;
    opt.hook = [&](const ir::Node&, const std::vector<Tensor>&) { ++count; };
    exec.run(values, {*model->graph->find_value("v1")}, opt);
    EXPECT_EQ(count, 2);
    EXPECT_EQ(values.at(model->graph->find_value("v1")->index).to_f32(),
              (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(values.count(model->graph->find_value("v0")->index), 0u);  // freed
}

TEST(Executor, HookSeesEveryNodeOutput) {
    GraphBuilder b;
    b.input("x", DType::kF32, {2});
    b.node("Relu", {"x"}, {"r"}, {}, "relu");
    b.node("Add", {"r", "x"}, {"y"}, {}, "add");
    b.output("y");
    Executor exec(b.model());
    std::vector<std::pair<std::string, std::vector<float>>> seen;
    ValueMap values;
    values[exec.graph().find_value("x")->index] = tensor_f32({2}, {-1, 2});
    RunOptions opt;
    opt.hook = [&](const ir::Node& n, const std::vector<Tensor>& outs) {
        seen.emplace_back(n.name, outs.at(0).to_f32());
    };
    exec.run(values, {}, opt);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].first, "relu");
    EXPECT_EQ(seen[0].second, (std::vector<float>{0, 2}));
    EXPECT_EQ(seen[1].second, (std::vector<float>{-1, 4}));
}

TEST(Executor, RecycledBuffersNeverOverwriteTensorsKeptByHooks) {
    // v_i = v_(i-1) + 1 on a same-size chain: freed buffers are reused, but a tensor a hook
    // kept must stay intact.
    GraphBuilder b;
    b.input("x", DType::kF32, {1000});
    b.initializer("one", tensor_f32({1}, {1}));
    std::string prev = "x";
    for (int i = 0; i < 12; ++i) {
        const std::string out = "v" + std::to_string(i);
        b.node("Add", {prev, "one"}, {out});
        prev = out;
    }
    b.output(prev);
    auto model = b.model();
    Executor exec(model);
    std::vector<Tensor> kept;
    std::vector<float> x(1000);
    for (int i = 0; i < 1000; ++i) {
        x[i] = static_cast<float>(i);
    }
    ValueMap values;
    values[model->graph->find_value("x")->index] = tensor_f32({1000}, x);
    RunOptions opt;
    opt.hook = [&](const ir::Node&, const std::vector<Tensor>& outs) {
        kept.push_back(kept.size() % 3 == 0 ? outs[0] : Tensor());  // keep some, not all
    };
    exec.run(values, {}, opt);
    EXPECT_GT(exec.last_run_stats().buffers_reused, 0);
    for (std::size_t k = 0; k < kept.size(); ++k) {
        if (!kept[k].defined()) {
            continue;
        }
        EXPECT_EQ(kept[k].get_f64(7), 7.0 + static_cast<double>(k + 1)) << "kept output " << k;
    }
    EXPECT_EQ(values.at(model->graph->outputs[0].index).get_f64(999), 999.0 + 12.0);
}

TEST(Executor, ReshapeViewsSurviveFreeingTheirSource) {
    // r shares n's buffer; n is freed after Reshape, r must not be recycled into by Neg.
    GraphBuilder b;
    b.input("x", DType::kF32, {2, 3});
    b.initializer("shape", test::tensor_i64({1}, {6}));
    b.node("Neg", {"x"}, {"n"});
    b.node("Reshape", {"n", "shape"}, {"r"});
    b.node("Neg", {"r"}, {"m"});
    b.node("Sub", {"m", "r"}, {"y"});
    b.output("y");
    Executor exec(b.model());
    const auto out = exec.run({{"x", tensor_f32({2, 3}, {1, 2, 3, 4, 5, 6})}});
    EXPECT_EQ(out[0].dims(), (Dims{6}));
    EXPECT_EQ(out[0].to_f32(), (std::vector<float>{2, 4, 6, 8, 10, 12}));  // x - (-x)
}

TEST(Executor, UnsupportedNodesAreListedInOneError) {
    GraphBuilder b;
    b.input("x", DType::kF32, {2});
    b.node("Relu", {"x"}, {"a"}, {}, "ok");
    b.node("FancyOp", {"a"}, {"b"}, {}, "first_bad");
    b.node("Bar", {"b"}, {"c"}, {}, "second_bad", "com.example");
    b.output("c");
    auto model = b.model();
    const std::string msg = error_of<ModelError>([&] { Executor exec(model); });
    EXPECT_TRUE(test::contains(msg, "2 node(s)"));
    EXPECT_TRUE(test::contains(msg, "'first_bad' (FancyOp)"));
    EXPECT_TRUE(test::contains(msg, "'second_bad' (com.example.Bar)"));
    EXPECT_FALSE(test::contains(msg, "'ok'"));
    EXPECT_EQ(
        unsupported_nodes(*model),
        (std::vector<std::string>{"'first_bad' (FancyOp)", "'second_bad' (com.example.Bar)"}));
}

TEST(Executor, UnsupportedNodesInsideSubgraphsAreListed) {
    GraphBuilder then_b, else_b;
    then_b.node("Mystery", {}, {"t"}, {}, "inner_bad");
    then_b.output("t");
    else_b.node("Constant", {}, {"e"}, {[] {
                    ir::Attribute a;
                    a.name = "value";
                    a.type = ir::AttrType::kTensor;
                    a.t = tensor_f32({1}, {0});
                    return a;
                }()});
    else_b.output("e");
    GraphBuilder b;
    b.input("c", DType::kBool, {});
    b.node("If", {"c"}, {"y"},
           {attr_graph("then_branch", then_b.graph()), attr_graph("else_branch", else_b.graph())},
           "branch");
    b.output("y");
    auto model = b.model();
    EXPECT_EQ(unsupported_nodes(*model), (std::vector<std::string>{"'inner_bad' (Mystery)"}));
    EXPECT_TRUE(test::contains(error_of<ModelError>([&] { Executor exec(model); }),
                               "'inner_bad' (Mystery)"));
}

TEST(Executor, FactoryErrorsNameTheNode) {
    GraphBuilder b;
    b.input("x", DType::kF32, {2, 3});
    b.node("Transpose", {"x"}, {"y"}, {attr_ints("perm", {0, 0})}, "bad_perm");
    b.output("y");
    auto model = b.model();
    model->graph->source_path = "m.onnx";
    EXPECT_TRUE(test::contains(error_of<ModelError>([&] { Executor exec(model); }),
                               "m.onnx: node 'bad_perm' (Transpose): attribute 'perm'"));
}

TEST(Executor, RunTimeShapeErrorsNameTheNode) {
    GraphBuilder b;
    b.input("a", DType::kF32, {"N"});
    b.input("b", DType::kF32, {"M"});
    b.node("Add", {"a", "b"}, {"y"}, {}, "sum");
    b.output("y");
    Executor exec(b.model());
    EXPECT_TRUE(test::contains(
        error_of<ModelError>([&] {
            exec.run({{"a", tensor_f32({3}, {1, 2, 3})}, {"b", tensor_f32({2}, {1, 2})}});
        }),
        "node 'sum' (Add): inputs of shapes [3] and [2] do not broadcast"));
}

class FeedValidation : public ::testing::Test {
protected:
    FeedValidation() {
        GraphBuilder b;
        b.input("images", DType::kF32, {"N", 3});
        b.input("scale", DType::kF32, {1});
        b.node("Mul", {"images", "scale"}, {"y"});
        b.output("y");
        model_ = b.model();
        model_->graph->source_path = "net.onnx";
        exec_ = std::make_unique<Executor>(model_);
    }

    std::string run_error(std::map<std::string, Tensor> feeds) {
        return error_of<DataError>([&] { exec_->run(feeds); });
    }

    std::shared_ptr<ir::Model> model_;
    std::unique_ptr<Executor> exec_;
    Tensor scale_ = tensor_f32({1}, {2});
};

TEST_F(FeedValidation, SymbolicDimAcceptsAnySize) {
    for (std::int64_t n : {1, 5}) {
        const auto out = exec_->run({{"images", Tensor(DType::kF32, {n, 3})}, {"scale", scale_}});
        EXPECT_EQ(out[0].dims(), (Dims{n, 3}));
    }
}

TEST_F(FeedValidation, MissingInputIsNamed) {
    EXPECT_TRUE(test::contains(run_error({{"images", Tensor(DType::kF32, {1, 3})}}),
                               "net.onnx: missing input 'scale'"));
}

TEST_F(FeedValidation, WrongElementTypeShowsExpectedAndGiven) {
    EXPECT_TRUE(
        test::contains(run_error({{"images", Tensor(DType::kI64, {2, 3})}, {"scale", scale_}}),
                       "input 'images': wrong element type, expected float[N,3], got "
                       "int64[2,3]"));
}

TEST_F(FeedValidation, WrongRankShowsExpectedAndGiven) {
    EXPECT_TRUE(test::contains(run_error({{"images", Tensor(DType::kF32, {3})}, {"scale", scale_}}),
                               "input 'images': wrong rank, expected float[N,3], got float[3]"));
}

TEST_F(FeedValidation, FixedDimMismatchShowsExpectedAndGiven) {
    EXPECT_TRUE(
        test::contains(run_error({{"images", Tensor(DType::kF32, {2, 4})}, {"scale", scale_}}),
                       "input 'images': dimension 1 differs, expected float[N,3], got "
                       "float[2,4]"));
}

TEST_F(FeedValidation, UnknownFeedNameListsInputs) {
    EXPECT_TRUE(
        test::contains(run_error({{"image", Tensor(DType::kF32, {1, 3})}, {"scale", scale_}}),
                       "'image' is not an input of the model; inputs: 'images', 'scale'"));
}

// A graph with big elementwise, reduction, softmax and transpose nodes (several parallel_for
// chunks each).
std::shared_ptr<ir::Model> wide_model() {
    GraphBuilder b;
    b.input("x", DType::kF32, {64, 1031});
    b.input("w", DType::kF32, {1031});
    b.node("Mul", {"x", "w"}, {"a"});
    b.node("Tanh", {"a"}, {"t"});
    b.node("Softmax", {"t"}, {"s"}, {attr_int("axis", 1)});
    b.node("ReduceSum", {"s"}, {"r"}, {attr_ints("axes", {0})});
    b.node("Transpose", {"t"}, {"tt"});
    b.node("Exp", {"tt"}, {"e"});
    b.output("r");
    b.output("e");
    return b.model(11);
}

TEST(Executor, ResultsIdenticalForOneAndTwoThreads) {
    auto model = wide_model();
    Executor exec(model);
    const std::map<std::string, Tensor> feeds = {
        {"x", tensor_f32({64, 1031}, test::random_floats(64 * 1031, 1))},
        {"w", tensor_f32({1031}, test::random_floats(1031, 2))}};
    const int before = num_threads();
    set_num_threads(1);
    const auto one = exec.run(feeds);
    set_num_threads(2);
    const auto two = exec.run(feeds);
    set_num_threads(before);
    ASSERT_EQ(one.size(), two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        EXPECT_TRUE(one[i].same_as(two[i])) << i;
    }
    // Softmax rows sum to 1, so the column sums of s add up to the row count.
    double total = 0;
    for (double v : one[0].to_f64()) {
        total += v;
    }
    EXPECT_NEAR(total, 64.0, 1e-3);
}

TEST(Executor, ReplaceInitializerRebuildsConsumers) {
    GraphBuilder b;
    b.input("x", DType::kF32, {2, 2});
    b.initializer("w", tensor_f32({2}, {2, 3}));
    b.initializer("shape", test::tensor_i64({1}, {4}));
    b.node("Mul", {"x", "w"}, {"m"});
    b.node("Reshape", {"m", "shape"}, {"y"});
    b.output("y");
    auto model = b.model();
    Executor exec(model);
    const std::map<std::string, Tensor> feeds = {{"x", tensor_f32({2, 2}, {1, 1, 1, 1})}};
    EXPECT_EQ(exec.run(feeds)[0].to_f32(), (std::vector<float>{2, 3, 2, 3}));
    exec.replace_initializer(*model->graph->find_value("w"), tensor_f32({2}, {-1, 5}));
    exec.replace_initializer(*model->graph->find_value("shape"), test::tensor_i64({2}, {1, 4}));
    const auto out = exec.run(feeds);
    EXPECT_EQ(out[0].dims(), (Dims{1, 4}));
    EXPECT_EQ(out[0].to_f32(), (std::vector<float>{-1, 5, -1, 5}));
    // The caller's model is untouched.
    EXPECT_EQ(model->graph->value(*model->graph->find_value("w")).initializer->to_f32(),
              (std::vector<float>{2, 3}));
}

TEST(Executor, IfBranchReadsOuterScopeValues) {
    // outer: s = Neg(x); If(c) then: Add(s, x) else: Mul(s, x). s must stay alive for the If.
    GraphBuilder then_b, else_b;
    then_b.node("Add", {"s", "x"}, {"t"});
    then_b.output("t");
    else_b.node("Mul", {"s", "x"}, {"e"});
    else_b.output("e");
    GraphBuilder b;
    b.input("x", DType::kF32, {2});
    b.input("c", DType::kBool, {});
    b.node("Neg", {"x"}, {"s"});
    b.node("If", {"c"}, {"y"},
           {attr_graph("then_branch", then_b.graph()), attr_graph("else_branch", else_b.graph())});
    b.output("y");
    Executor exec(b.model());
    const Tensor x = tensor_f32({2}, {3, -4});
    EXPECT_EQ(exec.run({{"x", x}, {"c", Tensor::scalar<bool>(true)}})[0].to_f32(),
              (std::vector<float>{0, 0}));
    EXPECT_EQ(exec.run({{"x", x}, {"c", Tensor::scalar<bool>(false)}})[0].to_f32(),
              (std::vector<float>{-9, -16}));
}

TEST(Executor, LoopCarriesValuesAndStacksScanOutputs) {
    // for i in range(4): acc = acc + i; scan = acc  -> acc = 6, scan = [0, 1, 3, 6]
    GraphBuilder body;
    body.input("i", DType::kI64, {});
    body.input("cond_in", DType::kBool, {});
    body.input("acc_in", DType::kI64, {});
    body.node("Identity", {"cond_in"}, {"cond_out"});
    body.node("Add", {"acc_in", "i"}, {"acc_out"});
    body.node("Identity", {"acc_out"}, {"scan"});
    body.output("cond_out");
    body.output("acc_out");
    body.output("scan");
    GraphBuilder b;
    b.initializer("trip", Tensor::scalar<std::int64_t>(4));
    b.initializer("cond", Tensor::scalar<bool>(true));
    b.initializer("acc0", Tensor::scalar<std::int64_t>(0));
    b.node("Loop", {"trip", "cond", "acc0"}, {"acc", "scans"}, {attr_graph("body", body.graph())});
    b.output("acc");
    b.output("scans");
    Executor exec(b.model());
    const auto out = exec.run({});
    EXPECT_EQ(out[0].get_f64(0), 6.0);
    EXPECT_EQ(out[1].dims(), (Dims{4}));
    EXPECT_EQ(out[1].to_f64(), (std::vector<double>{0, 1, 3, 6}));
}

TEST(Executor, OpsetSelectsSemantics) {
    // Softmax over a [2,2] input with axis 0: opset 11 normalises the flattened [1,4] block,
    // opset 13 each column.
    for (std::int64_t opset : {11, 13}) {
        GraphBuilder b;
        b.input("x", DType::kF32, {2, 2});
        b.node("Softmax", {"x"}, {"y"}, {attr_int("axis", 0)});
        b.output("y");
        Executor exec(b.model(opset));
        EXPECT_EQ(exec.opset(""), opset);
        const auto y = exec.run({{"x", tensor_f32({2, 2}, {0, 0, 0, 0})}})[0].to_f32();
        const float want = opset < 13 ? 0.25f : 0.5f;
        for (float v : y) {
            EXPECT_FLOAT_EQ(v, want);
        }
    }
}

}  // namespace
}  // namespace aquant::engine
