#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "aquant/ir/verify.h"
#include "aquant/pipeline/opset_upgrade.h"
#include "export/export_test_util.h"

namespace aquant::pipeline {
namespace {

using ::testing::HasSubstr;
using aquant::testing::ModelBuilder;
using aquant::testing::random_tensor;

// x -> ReduceMean(axes=[1], keepdims=1) -> Split(axis 2, two equal parts) -> Add
std::shared_ptr<ir::Model> reduce_split_model(std::int64_t opset) {
    ModelBuilder b(opset);
    auto x = b.input("x", {2, 3, 4});
    auto r = b.node("ReduceMean", "mean", {x}, {aquant::testing::attr_ints("axes", {1})});
    auto parts = b.node_n("Split", "split", {r}, {aquant::testing::attr_int("axis", 2)}, 2);
    b.output(b.node("Add", "add", {parts[0], parts[1]}));
    return b.build();
}

TEST(OpsetUpgrade, RewritesReduceAxesAndSplitAndKeepsResults) {
    auto before = reduce_split_model(17);
    auto after = aquant::testing::copy_model(*before);
    const OpsetUpgrade up = upgrade_opset(*after, 21);
    EXPECT_EQ(up.from, 17);
    EXPECT_EQ(up.to, 21);
    EXPECT_EQ(after->opset(), 21);
    EXPECT_EQ(after->ir_version, 10);
    ASSERT_EQ(up.rewrites.size(), 2u);
    EXPECT_THAT(up.rewrites[0], HasSubstr("'mean' (ReduceMean): axes attribute -> input"));
    EXPECT_THAT(up.rewrites[1], HasSubstr("'split' (Split): num_outputs = 2"));
    ir::verify_graph(*after->graph);
    const ir::Node* mean = aquant::testing::nodes_of(*after->graph, "ReduceMean")[0];
    EXPECT_EQ(mean->find_attr("axes"), nullptr);
    ASSERT_TRUE(mean->has_input(1));
    const Tensor* axes = after->graph->constant(mean->inputs[1]);
    ASSERT_NE(axes, nullptr);
    EXPECT_EQ(axes->dtype(), DType::kI64);
    EXPECT_EQ(axes->get_f64(0), 1.0);
    const Tensor x = random_tensor({2, 3, 4}, 3);
    const auto y0 = aquant::testing::run_model(before, {{"x", x}});
    const auto y1 = aquant::testing::run_model(after, {{"x", x}});
    EXPECT_TRUE(y1[0].same_as(y0[0]));
}

TEST(OpsetUpgrade, NoRewriteWhenTheModelIsAlreadyPastTheChange) {
    auto m = reduce_split_model(17);
    upgrade_opset(*m, 18);
    const OpsetUpgrade again = upgrade_opset(*m, 21);
    EXPECT_TRUE(again.rewrites.empty());
    EXPECT_EQ(m->opset(), 21);
}

TEST(OpsetUpgrade, GridSampleModeIsRenamed) {
    ModelBuilder b(16);
    auto x = b.input("x", {1, 1, 2, 2});
    auto grid = b.input("grid", {1, 2, 2, 2});
    b.output(b.node("GridSample", "gs", {x, grid}, {aquant::testing::attr_string("mode", "bilinear")}));
    auto m = b.build();
    upgrade_opset(*m, 21);
    EXPECT_EQ(aquant::testing::nodes_of(*m->graph, "GridSample")[0]->attr_string("mode", ""),
              "linear");
}

TEST(OpsetUpgrade, UnsupportedNodesAreListedAndNothingChanges) {
    ModelBuilder b(18);
    auto x = b.input("x", {1, 4, 2, 2});
    auto one = Tensor::from_vector<float>({2}, {1, 1});
    auto g = b.node("GroupNormalization", "gn", {x, b.init("s", one), b.init("b", one)},
                    {aquant::testing::attr_int("num_groups", 2)});
    b.output(b.node("ReduceMax", "max", {g}, {aquant::testing::attr_ints("axes", {1})}));
    auto m = b.build();
    try {
        upgrade_opset(*m, 21);
        FAIL() << "expected ModelError";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot upgrade opset 18 to 21"));
        EXPECT_THAT(e.what(), HasSubstr("'gn' (GroupNormalization)"));
    }
    EXPECT_EQ(m->opset(), 18);
    EXPECT_NE(aquant::testing::nodes_of(*m->graph, "ReduceMax")[0]->find_attr("axes"), nullptr);
}

TEST(OpsetUpgrade, RefusesOldOpsetsAndBadTargets) {
    auto m = reduce_split_model(12);
    EXPECT_THROW(upgrade_opset(*m, 21), ModelError);
    auto m2 = reduce_split_model(17);
    EXPECT_THROW(upgrade_opset(*m2, 22), ConfigError);
    EXPECT_THROW(upgrade_opset(*m2, 16), ConfigError);
}

}  // namespace
}  // namespace aquant::pipeline
