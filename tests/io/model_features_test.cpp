// ONNX features the reader keeps: IR < 4 initializers in inputs, symbolic dims, value_info, doc
// strings, metadata, sub-graphs, functions, sparse initializers, non-tensor types, new opsets.
#include "io_test_models.h"
#include "io_test_util.h"

#include "aquant/core/log.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace aquant::io {
namespace {

using namespace iotest;
using namespace iotest::onnxpb;
using ::testing::HasSubstr;

ReadOptions no_infer() {
    ReadOptions o;
    o.infer_shapes = false;
    return o;
}

// Reads, round-trips through serialize_model and checks the IR is unchanged.
std::shared_ptr<ir::Model> read_and_round_trip(const std::string& bytes) {
    const auto m = read_model_from_bytes(bytes, "mem.onnx", no_infer());
    const auto back = read_model_from_bytes(serialize_model(*m), "mem.onnx", no_infer());
    std::string why;
    EXPECT_TRUE(ir::models_equal(*m, *back, &why)) << why;
    return m;
}

TEST(ModelFeatures, Ir3InitializersListedAsInputs) {
    const Pb w =
        Pb().i(kDims, 2).i(kDataType, 1).s(kTensorName, "w").f32(kFloatData, 1).f32(kFloatData, 2);
    const Pb graph = Pb().m(kNode, node("add", "Add", {"x", "w"}, {"y"}))
                         .m(kInitializer, w)
                         .m(kInput, value_info("x", 1, {2}))
                         .m(kInput, value_info("w", 1, {2}))
                         .m(kOutput, value_info("y", 1, {2}));
    const auto m = read_and_round_trip(model(graph, 7, 3).str());
    const ir::Graph& g = *m->graph;
    ASSERT_EQ(g.inputs.size(), 2u);
    ASSERT_EQ(g.real_inputs().size(), 1u);
    EXPECT_EQ(g.value(g.real_inputs()[0]).name, "x");
    EXPECT_TRUE(g.is_initializer(g.inputs[1]));
    EXPECT_EQ(m->ir_version, 3);
}

TEST(ModelFeatures, SymbolicDimsValueInfoDocsAndMetadata) {
    Pb graph = Pb().m(kNode, node("relu", "Relu", {"x"}, {"h"}).s(6, "node doc"))
                   .m(kNode, node("neg", "Neg", {"h"}, {"y"}))
                   .s(kGraphName, "main")
                   .m(kInput, value_info("x", 1, {-1, 3}).s(3, "the input"))
                   .m(kOutput, value_info("y", 1, {-1, 3}))
                   .m(kValueInfo, value_info("h", 1, {-1, 3}))
                   .s(10, "graph doc");
    Pb mp = model(graph, 13, 8);
    mp.s(kDocString, "model doc").m(kMetadataProps, Pb().s(kKey, "author").s(kValue, "me"));
    const auto m = read_and_round_trip(mp.str());
    const ir::Graph& g = *m->graph;
    EXPECT_EQ(g.doc_string, "graph doc");
    EXPECT_EQ(m->doc_string, "model doc");
    EXPECT_EQ(m->metadata("author"), std::optional<std::string>("me"));
    const ir::Value& x = g.value(g.inputs[0]);
    EXPECT_EQ(x.doc_string, "the input");
    EXPECT_EQ(x.type->str(), "float[N,3]");
    ASSERT_EQ(g.value_infos.size(), 1u);
    EXPECT_EQ(g.value(g.value_infos[0]).name, "h");
    EXPECT_EQ(g.node(g.producer(g.value_infos[0])).doc_string, "node doc");
}

TEST(ModelFeatures, SubgraphsKeptWithOuterScopeReferences) {
    // If(cond): then -> Relu(x) of the outer x, else -> Neg(x).
    auto branch = [](const std::string& op, const std::string& out) {
        return Pb()
            .m(kNode, node(op + "_node", op, {"x"}, {out}))
            .s(kGraphName, op + "_branch")
            .m(kOutput, value_info(out, 1, {2}));
    };
    auto graph_attr = [](const std::string& name, const Pb& g) {
        return Pb().s(kAttrName, name).m(kAttrG, g).i(kAttrType, 5);
    };
    const Pb graph =
        Pb().m(kNode, node("if", "If", {"cond"}, {"y"})
                          .m(kAttribute, graph_attr("then_branch", branch("Relu", "a")))
                          .m(kAttribute, graph_attr("else_branch", branch("Neg", "b"))))
            .m(kInput, value_info("cond", 9, {}))
            .m(kInput, value_info("x", 1, {2}))
            .m(kOutput, value_info("y", 1, {2}));
    const std::string bytes = model(graph, 16, 8).str();
    const auto m = read_and_round_trip(bytes);
    const ir::Node& n = m->graph->nodes()[0];
    ASSERT_EQ(n.attributes.size(), 2u);
    ASSERT_TRUE(n.attributes[0].g);
    const ir::Graph& then_g = *n.attributes[0].g;
    EXPECT_EQ(then_g.name, "Relu_branch");
    EXPECT_EQ(then_g.source_path, "mem.onnx");
    EXPECT_EQ(then_g.nodes()[0].op_type, "Relu");
    EXPECT_EQ(ir::op_histogram(*m->graph).at("Neg"), 1);
    // A sub-graph input nothing defines, even in the outer scope, is an error naming the node.
    const std::string bad =
        model(Pb().m(kNode,
                     node("if", "If", {"cond"}, {"y"})
                         .m(kAttribute, graph_attr("then_branch",
                                                   Pb().m(kNode, node("r", "Relu", {"nope"}, {"a"}))
                                                       .m(kOutput, value_info("a", 1, {2})))))
                  .m(kInput, value_info("cond", 9, {}))
                  .m(kOutput, value_info("y", 1, {2})),
              16, 8)
            .str();
    try {
        read_model_from_bytes(bad, "sub.onnx", no_infer());
        FAIL() << "dangling sub-graph input accepted";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("sub.onnx: node 'r' (Relu): input 0 'nope'"));
    }
}

TEST(ModelFeatures, FunctionsSparseInitializersAndNonTensorTypesAreKept) {
    const Pb function = Pb().s(1, "MyRelu")
                            .s(4, "X")
                            .s(5, "Y")
                            .m(7, node("r", "Relu", {"X"}, {"Y"}))
                            .s(10, "custom");
    const Pb sparse = Pb().m(1, Pb().i(kDims, 2)
                                    .i(kDataType, 1)
                                    .s(kTensorName, "sp")
                                    .f32(kFloatData, 1)
                                    .f32(kFloatData, 2))
                          .m(2, Pb().i(kDims, 2).i(kDataType, 7).i(kInt64Data, 0).i(kInt64Data, 3))
                          .i(3, 5);
    // A sequence<float> graph output (TypeProto.sequence_type = 4).
    const Pb seq_type = Pb().m(4, Pb().m(1, Pb().m(kTensorType, Pb().i(kElemType, 1))));
    const Pb graph = Pb().m(kNode, node("f", "MyRelu", {"x"}, {"h"}).s(7, "custom"))
                         .m(kNode, node("add", "Add", {"h", "sp"}, {"y"}))
                         .m(kNode, node("seq", "SequenceConstruct", {"y"}, {"s"}))
                         .m(kSparseInitializer, sparse)
                         .m(kInput, value_info("x", 1, {5}))
                         .m(kOutput, Pb().s(kViName, "s").m(kViType, seq_type));
    Pb mp = model(graph, 15, 8);
    mp.m(kFunctions, function).m(kOpsetImport, Pb().s(kOpsetDomain, "custom").i(kOpsetVersion, 1));
    const auto m = read_and_round_trip(mp.str());
    ASSERT_EQ(m->opaque_functions.size(), 1u);
    EXPECT_EQ(m->opaque_functions[0], function.str());
    ASSERT_EQ(m->graph->opaque_sparse_initializers.size(), 1u);
    // Kept as the serialized SparseTensorProto (re-encoded canonically: packed repeated fields).
    EXPECT_THAT(m->graph->opaque_sparse_initializers[0], HasSubstr("sp"));
    EXPECT_EQ(m->graph->opaque_sparse_initializers[0].size(), sparse.str().size());
    const ir::Value& s = m->graph->value(m->graph->outputs[0]);
    EXPECT_EQ(s.type->opaque, seq_type.str());
    EXPECT_EQ(m->opset("custom"), 1);
}

TEST(ModelFeatures, NewOpsetsAreNotRejected) {
    for (int opset : {18, 19, 20, 21}) {
        const auto m = read_model_from_bytes(serialize_model(*conv_model(opset, 10)), "new.onnx");
        EXPECT_EQ(m->opset(), opset);
        EXPECT_EQ(m->graph->num_nodes(), 8u);
    }
}

TEST(ModelFeatures, FieldsNewerThanOnnx112AreReportedOnce) {
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    logger().sinks().push_back(sink);
    // NodeProto field 9 (metadata_props, IR 10) on two nodes.
    const Pb meta = Pb().s(kKey, "k").s(kValue, "v");
    const Pb graph = Pb().m(kNode, node("a", "Relu", {"x"}, {"h"}).m(9, meta))
                         .m(kNode, node("b", "Relu", {"h"}, {"y"}).m(9, meta))
                         .m(kInput, value_info("x", 1, {2}))
                         .m(kOutput, value_info("y", 1, {2}));
    read_model_from_bytes(model(graph, 21, 10).str(), "new.onnx", no_infer());
    logger().sinks().pop_back();
    const std::string text = log.str();
    EXPECT_THAT(text, HasSubstr("new.onnx: 2 protobuf field(s) newer than ONNX 1.12 are not kept "
                                "(first: NodeProto field 9)"));
    EXPECT_EQ(text.find("protobuf field"), text.rfind("protobuf field"));  // one line
}

}  // namespace
}  // namespace aquant::io
