#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "aquant/data/dataset.h"
#include "aquant/data/sidecar.h"
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
    // 1e-5 relative to the output's scale (max |y|): folding rounds each weight once, and an
    // element-wise ratio is meaningless where a sum of +-5 terms cancels to near zero.
    double peak = 0;
    for (double v : y0[0].to_f64()) peak = std::max(peak, std::abs(v));
    ASSERT_GT(peak, 1.0);
    EXPECT_LT(testing::max_rel_diff(y1[0], y0[0], peak), 1e-5);
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

// The bundled ResNet and MobileNetV2 (BatchNormalization after every Conv; in the ResNet, two BN
// biases reach the BN through Identity nodes) on 500 real Fashion-MNIST test images, preprocessed
// as the model's sidecar says. Folding must remove every BatchNormalization (and the Identity
// nodes that only fed them), keep the predictions, and keep the logits within 1e-5 of the
// largest |logit| of the unfolded model (folding rounds each weight once to float32). Measured:
// ResNet max |diff| 5.3e-6 = 4.0e-7 of the peak 12.96, MobileNetV2 6.7e-6 = 4.5e-7 of 15.0;
// top-1 agreement 500 of 500 for both.
struct BundledBn {
    const char* name;
    int batch_norms;  // BatchNormalization nodes in the file
    int identities;   // Identity nodes in the file (all feed BN parameters)
};

TEST(BnFold, BundledModelsOnFashionMnistKeepTheirOutputs) {
    for (const BundledBn m : {BundledBn{"resnet_fmnist", 9, 2}, BundledBn{"mobilenetv2_fmnist", 22, 0}}) {
        SCOPED_TRACE(m.name);
        const std::string path = std::string(AQUANT_SOURCE_DIR) + "/models/" + m.name + ".onnx";
        ASSERT_TRUE(std::filesystem::exists(path)) << path;
        const auto side = data::find_sidecar(path);
        ASSERT_TRUE(side && side->eval) << path << ": no sidecar with an eval split";
        if (!std::filesystem::exists(side->eval->path)) {
            GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << side->eval->path << ")";
        }
        auto before = io::read_model(path);
        ASSERT_EQ(testing::nodes_of(*before->graph, "BatchNormalization").size(),
                  static_cast<std::size_t>(m.batch_norms));
        ASSERT_EQ(testing::nodes_of(*before->graph, "Identity").size(),
                  static_cast<std::size_t>(m.identities));
        auto after = testing::copy_model(*before);
        const BnFoldResult r = fold_batch_norms(*after->graph);
        EXPECT_EQ(r.folded, m.batch_norms);
        EXPECT_TRUE(r.kept.empty()) << r.kept.front();
        ir::verify_graph(*after->graph);
        EXPECT_TRUE(testing::nodes_of(*after->graph, "BatchNormalization").empty());
        EXPECT_TRUE(testing::nodes_of(*after->graph, "Identity").empty());

        data::DataSpec spec = *side->eval;
        spec.inputs = data::model_input_specs(*before->graph);
        spec.limit = 500;
        const data::Batch batch = data::open_dataset(spec)->read(0, 500);
        const Tensor y0 = testing::run_model(before, batch.inputs).at(0);
        const Tensor y1 = testing::run_model(after, batch.inputs).at(0);
        ASSERT_EQ(y0.dims(), (Dims{500, 10}));
        ASSERT_EQ(y1.dims(), y0.dims());
        const auto a = y0.to_f64(), b = y1.to_f64();
        double peak = 0, worst = 0;
        int same_top1 = 0, correct = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            peak = std::max(peak, std::abs(a[i]));
            worst = std::max(worst, std::abs(a[i] - b[i]));
        }
        for (std::size_t row = 0; row < 500; ++row) {
            const auto* ra = a.data() + row * 10;
            const auto* rb = b.data() + row * 10;
            const auto ia = std::max_element(ra, ra + 10) - ra;
            same_top1 += ia == std::max_element(rb, rb + 10) - rb;
            correct += ia == batch.labels->get_f64(static_cast<std::int64_t>(row));
        }
        std::printf("[bn-fold] %s: max |logit| %.3f, max |diff| %.3g (%.2g of the peak), top-1 "
                    "agreement %d of 500, unfolded top-1 %.1f %%\n",
                    m.name, peak, worst, worst / peak, same_top1, correct / 5.0);
        EXPECT_GT(peak, 1.0);
        EXPECT_LT(worst / peak, 1e-5);
        EXPECT_EQ(same_top1, 500);
        EXPECT_GT(correct, 400);  // the images and preprocessing are right: fp32 top-1 ~91 %
    }
}

}  // namespace
}  // namespace aquant::qdq
