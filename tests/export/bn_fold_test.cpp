#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "aquant/export/bn_fold.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/ir/verify.h"
#include "export/export_test_util.h"

namespace aquant::qdq {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;

// Conv(3 -> 6, 3x3, pad 1) -> BatchNormalization -> Relu, with non-trivial BN statistics.
std::shared_ptr<ir::Model> conv_bn_model(bool with_bias) {
    ModelBuilder b(17);
    auto x = b.input("x", {2, 3, 7, 7});
    std::vector<ir::ValueId> conv_in = {x, b.init("w", random_tensor({6, 3, 3, 3}, 1))};
    if (with_bias) conv_in.push_back(b.init("b", random_tensor({6}, 2)));
    auto c = b.node("Conv", "conv", conv_in,
                    {testing::attr_ints("pads", {1, 1, 1, 1}), testing::attr_ints("kernel_shape", {3, 3})});
    auto y = b.node("BatchNormalization", "bn",
                    {c, b.init("gamma", random_tensor({6}, 3, 0.5f, 2.0f)),
                     b.init("beta", random_tensor({6}, 4)), b.init("mean", random_tensor({6}, 5)),
                     b.init("var", random_tensor({6}, 6, 0.1f, 3.0f))},
                    {testing::attr_float("epsilon", 1e-3f)});
    b.output(b.node("Relu", "relu", {y}));
    return b.build();
}

TEST(BnFold, ParamsMatchTheFormulaPerChannel) {
    const Tensor w = Tensor::from_vector<float>({2, 1, 1, 2}, {1, 2, 3, 4});
    const Tensor bias = Tensor::from_vector<float>({2}, {0.5f, -1});
    const Tensor gamma = Tensor::from_vector<float>({2}, {2, 0.5f});
    const Tensor beta = Tensor::from_vector<float>({2}, {1, 0});
    const Tensor mean = Tensor::from_vector<float>({2}, {0.5f, 1});
    const Tensor var = Tensor::from_vector<float>({2}, {3, 0.25f});
    const FoldedConv f = fold_bn_params(w, &bias, gamma, beta, mean, var, 1.0f);
    // f0 = 2 / sqrt(4) = 1, f1 = 0.5 / sqrt(1.25)
    const double f1 = 0.5 / std::sqrt(1.25);
    EXPECT_FLOAT_EQ(f.weight.data<float>()[0], 1.0f);
    EXPECT_FLOAT_EQ(f.weight.data<float>()[1], 2.0f);
    EXPECT_FLOAT_EQ(f.weight.data<float>()[2], static_cast<float>(3 * f1));
    EXPECT_FLOAT_EQ(f.weight.data<float>()[3], static_cast<float>(4 * f1));
    EXPECT_FLOAT_EQ(f.bias.data<float>()[0], 1.0f);  // (0.5 - 0.5) * 1 + 1
    EXPECT_FLOAT_EQ(f.bias.data<float>()[1], static_cast<float>(-2 * f1));
}

TEST(BnFold, WithoutBiasUsesZeros) {
    const Tensor w = Tensor::from_vector<float>({1, 1, 1, 1}, {2});
    const Tensor one = Tensor::from_vector<float>({1}, {1});
    const Tensor mean = Tensor::from_vector<float>({1}, {3});
    const FoldedConv f = fold_bn_params(w, nullptr, one, one, mean, one, 0.0f);
    EXPECT_FLOAT_EQ(f.bias.data<float>()[0], -2.0f);  // (0 - 3) * 1 + 1
}

class BnFoldGraph : public ::testing::TestWithParam<bool> {};

TEST_P(BnFoldGraph, OutputsMatchTheEngineBeforeFolding) {
    auto before = conv_bn_model(GetParam());
    auto after = testing::copy_model(*before);
    const BnFoldResult r = fold_batch_norms(*after->graph);
    EXPECT_EQ(r.folded, 1);
    EXPECT_TRUE(r.kept.empty());
    ir::verify_graph(*after->graph);
    EXPECT_TRUE(testing::nodes_of(*after->graph, "BatchNormalization").empty());
    // The Conv now writes the BN's output, so the Relu reads the same value name.
    const auto convs = testing::nodes_of(*after->graph, "Conv");
    ASSERT_EQ(convs.size(), 1u);
    EXPECT_EQ(after->graph->value(convs[0]->outputs[0]).name, "bn_out");
    EXPECT_EQ(convs[0]->num_inputs(), 3u);
    const Tensor x = random_tensor({2, 3, 7, 7}, 11, -2, 2);
    const auto y0 = testing::run_model(before, {{"x", x}});
    const auto y1 = testing::run_model(after, {{"x", x}});
    // float32 rounding of the folded weights: 1e-5 relative (floor 1e-3 for outputs near 0).
    EXPECT_LT(testing::max_rel_diff(y1[0], y0[0]), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Bias, BnFoldGraph, ::testing::Values(true, false));

TEST(BnFold, KeepsBnWhenTheConvOutputHasAnotherUse) {
    ModelBuilder b(17);
    auto x = b.input("x", {1, 1, 3, 3});
    auto c = b.node("Conv", "conv", {x, b.init("w", random_tensor({2, 1, 1, 1}, 1))});
    auto one = Tensor::from_vector<float>({2}, {1, 1});
    auto y = b.node("BatchNormalization", "bn",
                    {c, b.init("g", one), b.init("be", one), b.init("m", one), b.init("v", one)});
    b.output(b.node("Add", "add", {y, c}));
    auto m = b.build();
    const BnFoldResult r = fold_batch_norms(*m->graph);
    EXPECT_EQ(r.folded, 0);
    ASSERT_EQ(r.kept.size(), 1u);
    EXPECT_NE(r.kept[0].find("'bn'"), std::string::npos);
    EXPECT_NE(r.kept[0].find("other uses"), std::string::npos);
}

TEST(BnFold, SharedWeightGetsANewInitializer) {
    ModelBuilder b(17);
    auto x = b.input("x", {1, 1, 2, 2});
    auto w = b.init("w", random_tensor({2, 1, 1, 1}, 1));
    auto c = b.node("Conv", "conv", {x, w});
    auto c2 = b.node("Conv", "conv2", {x, w});
    auto two = Tensor::from_vector<float>({2}, {2, 2});
    auto zero = Tensor::from_vector<float>({2}, {0, 0});
    auto one = Tensor::from_vector<float>({2}, {1, 1});
    auto y = b.node("BatchNormalization", "bn",
                    {c, b.init("g", two), b.init("be", zero), b.init("m", zero), b.init("v", one)},
                    {testing::attr_float("epsilon", 0.0f)});
    b.output(b.node("Add", "add", {y, c2}));
    auto m = b.build();
    const Tensor w_before = m->graph->constant(w)->clone();
    ASSERT_EQ(fold_batch_norms(*m->graph).folded, 1);
    // conv2 still reads the original weights; conv reads doubled ones.
    EXPECT_TRUE(m->graph->constant(w)->same_as(w_before));
    const auto convs = testing::nodes_of(*m->graph, "Conv");
    for (const ir::Node* n : convs) {
        const Tensor* t = m->graph->constant(n->inputs[1]);
        const float expect = n->name == "conv" ? 2.0f : 1.0f;
        EXPECT_FLOAT_EQ(t->data<float>()[0], expect * w_before.data<float>()[0]) << n->name;
    }
}

// The bundled ResNet/MobileNet models (BatchNormalization after every Conv), when present.
TEST(BnFold, BundledModelsKeepTheirOutputs) {
    int tested = 0;
    for (const char* name : {"resnet_fmnist", "mobilenetv2_fmnist"}) {
        const std::string path = std::string(AQUANT_SOURCE_DIR) + "/models/" + name + ".onnx";
        if (!std::filesystem::exists(path)) continue;
        auto before = io::read_model(path);
        auto after = testing::copy_model(*before);
        const BnFoldResult r = fold_batch_norms(*after->graph);
        EXPECT_GT(r.folded, 0) << name;
        EXPECT_TRUE(testing::nodes_of(*after->graph, "BatchNormalization").empty()) << name;
        const std::string in = before->graph->value(before->graph->real_inputs()[0]).name;
        const Tensor x = random_tensor({4, 1, 28, 28}, 5, -1.5f, 2.5f);
        const auto y0 = testing::run_model(before, {{in, x}});
        const auto y1 = testing::run_model(after, {{in, x}});
        // Folding rounds each weight once; the logits agree to 1e-5 relative of their scale.
        double peak = 0;
        for (double v : y0[0].to_f64()) peak = std::max(peak, std::abs(v));
        EXPECT_LT(testing::max_rel_diff(y1[0], y0[0], peak), 1e-5) << name;
        ++tested;
    }
    if (tested == 0) GTEST_SKIP() << "models/resnet_fmnist.onnx and mobilenetv2_fmnist.onnx absent";
}

}  // namespace
}  // namespace aquant::qdq
