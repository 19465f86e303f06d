#include "aquant/ir/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aquant/ir/layers.h"
#include "aquant/ir/patch.h"
#include "aquant/ir/verify.h"

namespace aquant::ir {
namespace {

using ::testing::HasSubstr;

Node make_node(Graph& g, const std::string& name, const std::string& op,
               std::vector<std::string> ins, std::vector<std::string> outs) {
    Node n;
    n.name = name;
    n.op_type = op;
    for (auto& i : ins) n.inputs.push_back(i.empty() ? ValueId{} : g.value_named(i));
    for (auto& o : outs) n.outputs.push_back(g.value_named(o));
    return n;
}

// x -> Conv(w) -> a -> Relu -> b -> MatMul(Reshape(m)) -> y
Graph small_graph() {
    Graph g;
    g.source_path = "small.onnx";
    g.inputs.push_back(g.value_named("x"));
    g.add_initializer("w", Tensor(DType::kF32, {4, 1, 3, 3}));
    g.add_initializer("m", Tensor(DType::kF32, {4, 10}));
    g.add_initializer("shape", Tensor::from_vector<std::int64_t>({2}, {40, 1}));
    // Deliberately stored out of order: MatMul before its producers.
    g.add_node(make_node(g, "mm", "MatMul", {"b", "mr"}, {"y"}));
    g.add_node(make_node(g, "relu", "Relu", {"a"}, {"b"}));
    g.add_node(make_node(g, "conv", "Conv", {"x", "w", ""}, {"a"}));
    g.add_node(make_node(g, "reshape", "Reshape", {"m", "shape"}, {"mr"}));
    g.outputs.push_back(g.value_named("y"));
    g.rebuild_uses();
    return g;
}

TEST(Graph, TopologicalOrderIsStableAndComplete) {
    Graph g = small_graph();
    std::vector<std::string> names;
    for (NodeId id : g.topological_order()) names.push_back(g.node(id).name);
    // Ready nodes are taken in storage order: conv (2) before reshape (3).
    EXPECT_EQ(names, (std::vector<std::string>{"conv", "relu", "reshape", "mm"}));
}

TEST(Graph, UseDefQueries) {
    Graph g = small_graph();
    const ValueId a = *g.find_value("a");
    EXPECT_EQ(g.node(g.producer(a)).name, "conv");
    ASSERT_EQ(g.consumers(a).size(), 1u);
    EXPECT_EQ(g.node(g.consumers(a)[0]).name, "relu");
    EXPECT_FALSE(g.producer(*g.find_value("x")).valid());
    EXPECT_EQ(g.real_inputs().size(), 1u);
    EXPECT_NE(g.constant(*g.find_value("w")), nullptr);
    EXPECT_EQ(g.constant(*g.find_value("a")), nullptr);
    EXPECT_EQ(g.node(g.producer(a)).num_inputs(), 2u);  // trailing omitted bias
}

TEST(Graph, CycleIsReportedWithNodeName) {
    Graph g;
    g.source_path = "cyc.onnx";
    g.add_node(make_node(g, "n1", "Relu", {"b"}, {"a"}));
    g.add_node(make_node(g, "n2", "Relu", {"a"}, {"b"}));
    g.rebuild_uses();
    try {
        (void)g.topological_order();
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cyc.onnx: node 'n1' (Relu): is part of a cycle"));
    }
}

TEST(Verify, DanglingInputNamesNodeAndValue) {
    Graph g = small_graph();
    g.add_node(make_node(g, "add", "Add", {"y", "ghost"}, {"z"}));
    g.rebuild_uses();
    try {
        verify_graph(g);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("node 'add' (Add): input 1 'ghost' is not produced"));
    }
    EXPECT_NO_THROW(verify_graph(g, {"ghost"}));  // visible from an outer scope
}

TEST(Graph, DuplicateProducerIsAnError) {
    Graph g = small_graph();
    g.add_node(make_node(g, "dup", "Relu", {"x"}, {"a"}));
    EXPECT_THROW(g.rebuild_uses(), ModelError);
}

TEST(Patch, InsertsNodeAndRewiresUses) {
    Graph g = small_graph();
    const ValueId a = *g.find_value("a");
    GraphPatch p(g);
    const ValueId a2 = p.add_value("a");
    EXPECT_NE(g.value(a2).name, "a");  // made unique
    Node n;
    n.name = "neg";
    n.op_type = "Neg";
    n.inputs = {a};
    n.outputs = {a2};
    p.replace_uses(a, a2);
    p.add_node(n);
    p.apply();
    // The new node keeps reading `a` only if replace ran before it was added: check both ends.
    const ValueId b = *g.find_value("b");
    const Node& relu = g.node(g.producer(b));
    EXPECT_EQ(relu.inputs[0], a2);
    EXPECT_EQ(g.node(g.producer(a2)).name, "neg");
    std::vector<std::string> names;
    for (NodeId id : g.node_ids()) names.push_back(g.node(id).name);
    const auto pos = [&](const std::string& s) {
        return std::find(names.begin(), names.end(), s) - names.begin();
    };
    EXPECT_LT(pos("conv"), pos("neg"));
    EXPECT_LT(pos("neg"), pos("relu"));
}

TEST(Patch, RemoveNodeAndUnusedInitializers) {
    Graph g = small_graph();
    GraphPatch p(g);
    const ValueId mr = *g.find_value("mr");
    const ValueId m = *g.find_value("m");
    p.remove_node(g.producer(mr));
    p.replace_uses(mr, m);
    p.apply();
    remove_unused_initializers(g);
    EXPECT_EQ(g.initializers.size(), 2u);  // shape is gone
    EXPECT_FALSE(g.find_value("shape").has_value() && g.is_initializer(*g.find_value("shape")));
}

TEST(Layers, FindsConvAndMatMulThroughReshape) {
    Graph g = small_graph();
    const auto layers = quantizable_layers(g);
    ASSERT_EQ(layers.size(), 2u);
    EXPECT_EQ(g.node(layers[0].node).name, "conv");
    EXPECT_EQ(layers[0].params, 36);
    EXPECT_FALSE(layers[0].via_chain);
    EXPECT_EQ(g.node(layers[1].node).name, "mm");
    EXPECT_TRUE(layers[1].via_chain);
    EXPECT_EQ(g.value(layers[1].weight_source).name, "m");
    EXPECT_EQ(layers[1].params, 40);
}

TEST(Model, OpsetAndMetadata) {
    Model m;
    m.opset_import = {{"", 13}, {"com.microsoft", 1}};
    EXPECT_EQ(m.opset(), 13);
    EXPECT_EQ(m.opset("ai.onnx"), 13);
    EXPECT_EQ(m.opset("com.microsoft"), 1);
    EXPECT_EQ(m.opset("x"), 0);
    m.set_opset("", 21);
    EXPECT_EQ(m.opset(), 21);
    m.set_metadata("k", "v");
    m.set_metadata("k", "w");
    EXPECT_EQ(m.metadata_props.size(), 1u);
    EXPECT_EQ(*m.metadata("k"), "w");
}

TEST(Model, EqualityFindsDifferences) {
    Model a;
    *a.graph = small_graph();
    Model b;
    *b.graph = small_graph();
    std::string why;
    EXPECT_TRUE(models_equal(a, b, &why)) << why;
    b.graph->value(*b.graph->find_value("w")).initializer->data<float>()[3] = 1.0f;
    EXPECT_FALSE(models_equal(a, b, &why));
    EXPECT_THAT(why, HasSubstr("value 'w': initializer data differs"));
}

}  // namespace
}  // namespace aquant::ir
