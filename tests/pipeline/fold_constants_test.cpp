#include <gtest/gtest.h>

#include <filesystem>

#include "aquant/io/onnx_reader.h"
#include "aquant/io/tensor_pb.h"
#include "aquant/io/version_convert.h"
#include "aquant/ir/layers.h"
#include "aquant/pipeline/fold_constants.h"
#include "export/export_test_util.h"

namespace aquant::pipeline {
namespace {

using aquant::testing::ModelBuilder;
using aquant::testing::random_tensor;

TEST(FoldConstants, WeightChainBecomesAnInitializer) {
    ModelBuilder b(17);
    auto x = b.input("x", {2, 6});
    auto w = b.init("w", random_tensor({3, 6}, 1));
    auto t = b.node("Transpose", "t", {w}, {aquant::testing::attr_ints("perm", {1, 0})});
    auto y = b.node("MatMul", "mm", {x, t});
    b.output(b.node("Relu", "relu", {y}));
    auto m = b.build();
    auto before = aquant::testing::copy_model(*m);
    const FoldResult r = fold_constants(*m);
    EXPECT_EQ(r.folded, 1);
    EXPECT_TRUE(aquant::testing::nodes_of(*m->graph, "Transpose").empty());
    const auto layers = ir::quantizable_layers(*m->graph);
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_FALSE(layers[0].via_chain);
    EXPECT_EQ(m->graph->value(layers[0].weight).name, "t_out");  // the folded value keeps its name
    EXPECT_FALSE(m->graph->find_value("w") && m->graph->value(*m->graph->find_value("w")).initializer);
    const Tensor xin = random_tensor({2, 6}, 2);
    EXPECT_TRUE(aquant::testing::run_model(m, {{"x", xin}})[0].same_as(
        aquant::testing::run_model(before, {{"x", xin}})[0]));
}

TEST(FoldConstants, LeavesRandomAndQdqAndGraphOutputs) {
    ModelBuilder b(17);
    auto s = b.init("s", Tensor::scalar<float>(0.5f));
    auto z = b.init("z", Tensor::scalar<std::int8_t>(0));
    auto q = b.init("q", Tensor::from_vector<std::int8_t>({2}, {1, -3}));
    auto dq = b.node("DequantizeLinear", "dq", {q, s, z});
    auto c = b.node("Identity", "id", {b.init("c", Tensor::from_vector<float>({2}, {1, 2}))});
    auto x = b.input("x", {2});
    b.output(b.node("Add", "add", {b.node("Add", "a0", {x, dq}), c}));
    b.output(b.node("Identity", "out_id", {b.init("k", Tensor::from_vector<float>({1}, {3}))}));
    auto m = b.build();
    const FoldResult r = fold_constants(*m);
    EXPECT_EQ(r.folded, 1);  // only 'id'
    EXPECT_EQ(aquant::testing::nodes_of(*m->graph, "DequantizeLinear").size(), 1u);
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_NE(r.skipped[0].find("'out_id' (Identity): writes a graph output"), std::string::npos);
}

// mnist-8 (CNTK, opset 8): converted to opset 13, its Reshape'd MatMul weight folds, and the
// outputs of test_data_set_0 stay the same.
TEST(FoldConstants, Mnist8ZooAfterOpsetConversion) {
    const auto dir = std::filesystem::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models" / "mnist8_zoo";
    if (!std::filesystem::exists(dir)) GTEST_SKIP() << "../shared/models/mnist8_zoo absent";
    auto original = io::read_model((dir / "model.onnx").string());
    auto m = aquant::testing::copy_model(*original);
    io::convert_opset(*m, 13);
    EXPECT_EQ(m->opset(), 13);
    const FoldResult r = fold_constants(*m);
    EXPECT_GE(r.folded, 1);
    bool matmul_direct = false;
    for (const auto& l : ir::quantizable_layers(*m->graph)) {
        if (m->graph->node(l.node).op_type == "MatMul") matmul_direct = !l.via_chain;
    }
    EXPECT_TRUE(matmul_direct);
    const Tensor x = io::read_tensor_pb((dir / "test_data_set_0" / "input_0.pb").string());
    const auto y0 = aquant::testing::run_model(original, {{"Input3", x}});
    const auto y1 = aquant::testing::run_model(m, {{"Input3", x}});
    EXPECT_TRUE(y1[0].same_as(y0[0]));
}

}  // namespace
}  // namespace aquant::pipeline
