// ReadOptions::infer_shapes: ONNX 1.12 inference for opset <= 17, own ir::infer_shapes for newer
// opsets and for what ONNX leaves untyped. Inferred types never reach Graph::value_infos.
#include "io_test_models.h"
#include "io_test_util.h"

#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "aquant/ir/shape_infer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>

namespace aquant::io {
namespace {

using namespace iotest;
using namespace iotest::onnxpb;
namespace fs = std::filesystem;

ReadOptions no_infer() {
    ReadOptions o;
    o.infer_shapes = false;
    return o;
}

std::string type_of(const ir::Model& m, const std::string& name) {
    const auto id = m.graph->find_value(name);
    if (!id) {
        return "(no such value)";
    }
    const auto& t = m.graph->value(*id).type;
    return t ? t->str() : "(untyped)";
}

// mnist-8 declares a value_info for every value. With those removed, inference must rebuild
// each declared type, through ONNX (opset 8) and through the own rules (opset set to 18).
TEST(Inference, Mnist8TypesRebuiltFromInputs) {
    const fs::path path =
        fs::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models" / "mnist8_zoo" / "model.onnx";
    if (!fs::exists(path)) {
        GTEST_SKIP() << path << " not present (development models)";
    }
    const auto m = read_model(path.string(), no_infer());
    ir::Graph& g = *m->graph;
    const ir::Node& add = g.node(g.producer(g.outputs[0]));
    ASSERT_EQ(add.op_type, "Add");
    const std::string before = g.value(add.inputs[0]).name;  // Times212_Output_0
    EXPECT_EQ(type_of(*m, before), "float[1,10]");           // as declared in the file

    std::map<std::string, std::string> declared;
    for (std::size_t i = 0; i < g.num_values(); ++i) {
        ir::Value& v = g.value(ir::ValueId{static_cast<std::int32_t>(i)});
        if (!v.type) {
            continue;
        }
        declared[v.name] = v.type->str();
        const ir::ValueId id{static_cast<std::int32_t>(i)};
        if (!g.is_graph_input(id) && !v.initializer) {
            v.type.reset();
        }
    }
    g.value_infos.clear();
    ASSERT_GE(declared.size(), 20u);
    for (std::int64_t opset : {8, 18}) {
        SCOPED_TRACE(opset);
        m->set_opset("", opset);
        const std::string bytes = serialize_model(*m);
        const auto stripped = read_model_from_bytes(bytes, path.string(), no_infer());
        EXPECT_EQ(type_of(*stripped, before), "(untyped)");
        const auto inferred = read_model_from_bytes(bytes, path.string());
        for (const auto& [name, type] : declared) {
            EXPECT_EQ(type_of(*inferred, name), type) << name;
        }
        // Inferred types are not value_info entries: writing adds none.
        EXPECT_TRUE(inferred->graph->value_infos.empty());
        const auto again =
            read_model_from_bytes(serialize_model(*inferred), "again.onnx", no_infer());
        EXPECT_TRUE(again->graph->value_infos.empty());
    }
}

// Types expected for conv_model(): x is f32[N,1,8,8].
void expect_conv_model_types(const ir::Model& m) {
    EXPECT_EQ(type_of(m, "conv_out"), "float[N,4,8,8]");
    EXPECT_EQ(type_of(m, "relu_out"), "float[N,4,8,8]");
    EXPECT_EQ(type_of(m, "pool_out"), "float[N,4,4,4]");
    EXPECT_EQ(type_of(m, "flat"), "float[?,64]");  // N * 1 is not a known number
    EXPECT_EQ(type_of(m, "logits"), "float[?,10]");
    EXPECT_EQ(type_of(m, "logits_q"), "uint8[?,10]");
    EXPECT_EQ(type_of(m, "logits_dq"), "float[?,10]");
}

TEST(Inference, OnnxPathForOpset13) {
    const auto m = read_model_from_bytes(serialize_model(*conv_model(13, 8)), "m13.onnx");
    // ONNX names unknown dims itself ("unk__0"); compare known dims and types only.
    EXPECT_EQ(type_of(*m, "conv_out"), "float[N,4,8,8]");
    EXPECT_EQ(type_of(*m, "pool_out"), "float[N,4,4,4]");
    const auto& flat = *m->graph->value(*m->graph->find_value("flat")).type;
    ASSERT_TRUE(flat.shape);
    EXPECT_EQ((*flat.shape)[1].value, 64);
    EXPECT_EQ(type_of(*m, "logits_q").substr(0, 6), "uint8[");
    EXPECT_TRUE(m->graph->value_infos.empty());
}

TEST(Inference, OwnPathForOpset18To21) {
    for (int opset : {18, 19, 20, 21}) {
        SCOPED_TRACE(opset);
        const auto m = read_model_from_bytes(serialize_model(*conv_model(opset, 10)), "new.onnx");
        expect_conv_model_types(*m);
        EXPECT_TRUE(m->graph->value_infos.empty());
    }
}

TEST(Inference, FailingOnnxInferenceDoesNotFailLoading) {
    // value_info says h is int64[5]; ONNX inference of Relu(float[2,3]) conflicts and throws.
    const Pb graph = Pb().m(kNode, node("relu", "Relu", {"x"}, {"h"}))
                         .m(kNode, node("neg", "Neg", {"h"}, {"y"}))
                         .m(kInput, value_info("x", 1, {2, 3}))
                         .m(kOutput, Pb().s(kViName, "y"))
                         .m(kValueInfo, value_info("h", 7, {5}));
    const auto m = read_model_from_bytes(model(graph, 13, 8).str(), "conflict.onnx");
    EXPECT_EQ(type_of(*m, "h"), "int64[5]");  // the file's entry is kept as written
    EXPECT_EQ(type_of(*m, "y"), "int64[5]");  // own propagation continues from it
}

TEST(Inference, UnknownOpsLeaveOutputsUntyped) {
    const Pb graph = Pb().m(kNode, node("c", "MyOp", {"x"}, {"h"}).s(7, "com.example"))
                         .m(kNode, node("r", "Relu", {"h"}, {"y"}))
                         .m(kNode, node("s", "Sigmoid", {"x"}, {"z"}))
                         .m(kInput, value_info("x", 1, {2, 3}))
                         .m(kOutput, Pb().s(kViName, "y"))
                         .m(kOutput, Pb().s(kViName, "z"));
    Pb mp = model(graph, 21, 10);
    mp.m(kOpsetImport, Pb().s(kOpsetDomain, "com.example").i(kOpsetVersion, 1));
    const auto m = read_model_from_bytes(mp.str(), "custom.onnx");
    EXPECT_EQ(type_of(*m, "h"), "(untyped)");
    EXPECT_EQ(type_of(*m, "y"), "(untyped)");
    EXPECT_EQ(type_of(*m, "z"), "float[2,3]");
}

// ONNX 1.12 crashes (SIGSEGV) in Shape's data propagation when the Shape input has no type, as
// after a custom-domain op (a valid model), or when a graph input is untyped. Data propagation is
// therefore off; both models must load.
TEST(Inference, UntypedShapeInputDoesNotCrashOnnxInference) {
    Pb graph = Pb().m(kNode, node("custom", "Foo", {"x"}, {"h"}).s(7, "com.example"))
                   .m(kNode, node("shape", "Shape", {"h"}, {"y"}))
                   .m(kNode, node("relu", "Relu", {"x"}, {"z"}))
                   .m(kInput, value_info("x", 1, {2}))
                   .m(kOutput, Pb().s(kViName, "y"))
                   .m(kOutput, Pb().s(kViName, "z"));
    Pb mp = model(graph, 15, 8);
    mp.m(kOpsetImport, Pb().s(kOpsetDomain, "com.example").i(kOpsetVersion, 1));
    const auto m = read_model_from_bytes(mp.str(), "custom.onnx");
    EXPECT_EQ(type_of(*m, "z"), "float[2]");
    EXPECT_EQ(type_of(*m, "y").substr(0, 6), "int64[");  // ONNX: rank-1 int64 of unknown length

    const Pb untyped_input = Pb().m(kNode, node("shape", "Shape", {"x"}, {"y"}))
                                 .m(kInput, Pb().s(kViName, "x"))
                                 .m(kOutput, Pb().s(kViName, "y"));
    const auto m2 = read_model_from_bytes(model(untyped_input, 15, 8).str(), "untyped.onnx");
    EXPECT_EQ(m2->graph->num_nodes(), 1u);
}

// Own propagation agrees with ONNX 1.12 inference on every value both type, over all
// libonnx-testdata models (opset <= 17). Values typed by the file are not compared.
TEST(Inference, OwnRulesAgreeWithOnnxOnTestdata) {
    const fs::path root = "/usr/share/libonnx-testdata/data";
    if (!fs::is_directory(root)) {
        GTEST_SKIP() << root << " not installed";
    }
    int compared = 0, onnx_only = 0, less_precise = 0;
    std::vector<std::string> mismatches;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.path().filename() != "model.onnx") {
            continue;
        }
        const std::string path = e.path().string();
        const auto file = read_model(path, no_infer());
        if (file->opset() > 17) {
            continue;
        }
        auto own = read_model(path, no_infer());
        ir::infer_shapes(*own->graph, own->opset());
        const auto onnx = read_model(path);  // ONNX first, own rules for what it leaves
        for (std::size_t i = 0; i < file->graph->num_values(); ++i) {
            const ir::Value& f = file->graph->value(ir::ValueId{static_cast<std::int32_t>(i)});
            if (f.type) {
                continue;
            }
            const auto& a = own->graph->value(*own->graph->find_value(f.name)).type;
            const auto& b = onnx->graph->value(*onnx->graph->find_value(f.name)).type;
            if (!a) {
                onnx_only += b.has_value();
                continue;
            }
            ASSERT_TRUE(b) << path << ": " << f.name;  // own ran after ONNX there too
            ++compared;
            // A conflict: element type, rank or a dim both know differ. Own rules knowing less
            // (ONNX propagates shape values through Shape/Slice/Concat) is only counted.
            bool conflict = a->elem_type != b->elem_type;
            bool less = false;
            if (a->shape && b->shape) {
                conflict |= a->shape->size() != b->shape->size();
                for (std::size_t d = 0; !conflict && d < a->shape->size(); ++d) {
                    const ir::Dim& x = (*a->shape)[d];
                    const ir::Dim& y = (*b->shape)[d];
                    conflict |= x.known() && y.known() && x.value != y.value;
                    less |= !x.known() && y.known();
                }
            }
            less |= !a->shape && b->shape;
            less_precise += less;
            if (conflict) {
                mismatches.push_back(path + ": '" + f.name + "' own " + a->str() + ", onnx " +
                                     b->str());
            }
        }
    }
    std::cout << "[ inference ] own rules vs ONNX 1.12: " << compared << " values compared, "
              << mismatches.size() << " conflicts, " << less_precise << " less precise, "
              << onnx_only << " typed by ONNX only (ops without own rules)\n";
    EXPECT_GE(compared, 1000);
    EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " conflicts, first: " << mismatches[0];
}

}  // namespace
}  // namespace aquant::io
