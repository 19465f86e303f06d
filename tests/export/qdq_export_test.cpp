#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <cmath>

#include "aquant/engine/qdq_fusion.h"
#include "aquant/export/qdq_export.h"
#include "aquant/export/weight_quant.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "aquant/ir/verify.h"
#include "aquant/quant/quantize.h"
#include "aquant/quant/range.h"
#include "export/export_test_util.h"

namespace aquant::qdq {
namespace {

using ::testing::HasSubstr;
using testing::ModelBuilder;
using testing::nodes_of;
using testing::random_tensor;

// x[2,3,6,6] -> Conv(4x3x3x3, bias) -> Relu -> Flatten -> Gemm(transB=1, [5,64], bias) -> "logits"
std::shared_ptr<ir::Model> conv_gemm_model(std::int64_t opset) {
    ModelBuilder b(opset, opset >= 21 ? 10 : 8);
    auto x = b.input("x", {2, 3, 6, 6});
    auto c = b.node("Conv", "conv",
                    {x, b.init("conv.w", random_tensor({4, 3, 3, 3}, 1)),
                     b.init("conv.b", random_tensor({4}, 2, -0.2f, 0.2f))});
    auto r = b.node("Relu", "relu", {c});
    auto f = b.node("Flatten", "flatten", {r}, {testing::attr_int("axis", 1)});
    ir::Node gemm;
    gemm.op_type = "Gemm";
    gemm.name = "fc";
    gemm.inputs = {f, b.init("fc.w", random_tensor({5, 64}, 3, -0.3f, 0.3f)),
                   b.init("fc.b", random_tensor({5}, 4))};
    gemm.attributes = {testing::attr_int("transB", 1)};
    gemm.outputs = {b.graph().value_named("logits")};
    b.graph().add_node(gemm);
    b.output(*b.graph().find_value("logits"));
    return b.build();
}

quant::QuantParams act_params(float lo, float hi) {
    quant::QuantParams p;
    const quant::QuantScheme s = activation_scheme();
    const quant::AffineParams a = quant::params_from_range(lo, hi, s);
    p.scale = {a.scale};
    p.zero_point = {a.zero_point};
    p.scheme = s;
    return p;
}

ExportPlan plan_for(const ir::Graph& g, int bits) {
    ExportPlan plan;
    plan.weight_bits = {{"conv", bits}, {"fc", bits}};
    for (const auto& name : activation_tensors(g, plan)) {
        plan.activation_params[name] = act_params(-4.0f, 6.0f);
    }
    return plan;
}

const Tensor& init(const ir::Graph& g, const std::string& name) {
    const auto v = g.find_value(name);
    EXPECT_TRUE(v.has_value()) << name;
    return *g.value(*v).initializer;
}

const ir::Node* producer_of(const ir::Graph& g, ir::ValueId v) {
    const ir::NodeId p = g.producer(v);
    return p.valid() ? &g.node(p) : nullptr;
}

TEST(QdqExport, ActivationTensorsAreLayerInputsAndOutputsOnce) {
    auto m = conv_gemm_model(13);
    ExportPlan plan;
    plan.weight_bits = {{"conv", 8}, {"fc", 8}};
    EXPECT_EQ(activation_tensors(*m->graph, plan),
              (std::vector<std::string>{"x", "conv_out", "flatten_out", "logits"}));
    plan.weight_bits["conv"] = 0;
    EXPECT_EQ(activation_tensors(*m->graph, plan),
              (std::vector<std::string>{"flatten_out", "logits"}));
    plan.act_bits = 0;
    EXPECT_TRUE(activation_tensors(*m->graph, plan).empty());
}

TEST(QdqExport, Int8GraphStructureAtOpset13) {
    auto m = conv_gemm_model(13);
    m->ir_version = 6;
    const ExportPlan plan = plan_for(*m->graph, 8);
    const ExportResult r = export_qdq(*m, plan);
    const ir::Graph& g = *m->graph;
    ir::verify_graph(g);
    EXPECT_EQ(m->opset(), 13);
    EXPECT_EQ(m->ir_version, 7);  // raised to what opset 13 needs
    EXPECT_EQ(r.activation_pairs, 4);
    EXPECT_EQ(nodes_of(g, "QuantizeLinear").size(), 4u);
    EXPECT_EQ(nodes_of(g, "DequantizeLinear").size(), 4u + 2 + 2);  // acts + weights + biases
    // Weights: int8 codes in the narrow range, per output channel on axis 0 (Conv, Gemm transB=1).
    const Tensor& cw = init(g, "conv.w_quantized");
    EXPECT_EQ(cw.dtype(), DType::kI8);
    EXPECT_EQ(cw.dims(), (Dims{4, 3, 3, 3}));
    for (double v : cw.to_f64()) EXPECT_GE(v, -127);
    EXPECT_EQ(init(g, "conv.w_scale").dims(), (Dims{4}));
    EXPECT_EQ(init(g, "fc.w_scale").dims(), (Dims{5}));
    for (const ir::Node* dq : nodes_of(g, "DequantizeLinear")) {
        if (g.value(dq->inputs[0]).name == "conv.w_quantized" ||
            g.value(dq->inputs[0]).name == "fc.w_quantized") {
            EXPECT_EQ(dq->attr_int("axis", -99), 0) << dq->name;
        }
    }
    // The float weights are gone; the layers read DequantizeLinear outputs.
    EXPECT_FALSE(g.find_value("conv.w") && g.value(*g.find_value("conv.w")).initializer);
    const ir::Node* conv = nodes_of(g, "Conv")[0];
    EXPECT_EQ(producer_of(g, conv->inputs[1])->op_type, "DequantizeLinear");
    EXPECT_EQ(producer_of(g, conv->inputs[0])->op_type, "DequantizeLinear");
    // The graph output keeps its name and is written by a DequantizeLinear.
    EXPECT_EQ(g.value(g.outputs[0]).name, "logits");
    EXPECT_EQ(producer_of(g, g.outputs[0])->op_type, "DequantizeLinear");
    // Activations: int8 asymmetric per tensor.
    EXPECT_EQ(init(g, "x_zero_point").dtype(), DType::kI8);
    EXPECT_EQ(init(g, "x_scale").rank(), 0u);
}

TEST(QdqExport, BiasIsInt32WithInputTimesWeightScale) {
    auto m = conv_gemm_model(13);
    const Tensor b = m->graph->constant(*m->graph->find_value("conv.b"))->clone();
    const ExportPlan plan = plan_for(*m->graph, 8);
    export_qdq(*m, plan);
    const ir::Graph& g = *m->graph;
    const Tensor& q = init(g, "conv.b_quantized");
    const Tensor& s = init(g, "conv.b_scale");
    const Tensor& sw = init(g, "conv.w_scale");
    const float s_in = plan.activation_params.at("x").scale[0];
    ASSERT_EQ(q.dtype(), DType::kI32);
    ASSERT_EQ(s.dims(), (Dims{4}));
    EXPECT_EQ(init(g, "conv.b_zero_point").dtype(), DType::kI32);
    for (int c = 0; c < 4; ++c) {
        EXPECT_EQ(s.data<float>()[c], s_in * sw.data<float>()[c]) << c;
        const double expect = std::nearbyint(b.data<float>()[c] / s.data<float>()[c]);
        EXPECT_EQ(q.data<std::int32_t>()[c], static_cast<std::int32_t>(expect)) << c;
    }
}

TEST(QdqExport, StoredWeightsDequantizeToFakeQuantizedWeights) {
    for (int bits : {8, 4, 3, 2}) {
        auto m = conv_gemm_model(21);
        const Tensor w = m->graph->constant(*m->graph->find_value("fc.w"))->clone();
        ExportPlan plan = plan_for(*m->graph, bits);
        export_qdq(*m, plan);
        // DequantizeLinear of the stored codes, computed by the engine's kernel.
        engine::Executor exec(m);
        engine::ValueMap values;
        const ir::ValueId dq_out = *m->graph->find_value("fc.w_DequantizeLinear_Output");
        values[m->graph->find_value("x")->index] = random_tensor({2, 3, 6, 6}, 9);
        exec.run(values, {dq_out});
        const Tensor& got = values.at(dq_out.index);
        // The oracle: quant::fake_quantize with the params the scheme and estimator give.
        quant::WeightQuantConfig cfg;
        cfg.range = "mmse";
        const quant::QuantScheme s = quant::weight_scheme(bits, cfg, {0, 1}, w.rank());
        const auto p = quant::estimate_params(w, s, quant::range_estimator("mmse"));
        const Tensor want = quant::fake_quantize(w, p);
        ASSERT_EQ(got.numel(), want.numel());
        for (std::int64_t i = 0; i < got.numel(); ++i) {
            ASSERT_EQ(got.data<float>()[i], want.data<float>()[i]) << "bits " << bits << " i " << i;
        }
        const Tensor& codes = init(*m->graph, "fc.w_quantized");
        EXPECT_EQ(codes.dtype(), bits <= 4 ? DType::kI4 : DType::kI8) << bits;
        const int qmax = (1 << (bits - 1)) - 1;  // narrow range: 2^b - 1 levels
        for (double v : codes.to_f64()) {
            ASSERT_LE(std::abs(v), qmax) << "bits " << bits;
        }
    }
}

TEST(QdqExport, Int4IsPackedAndSurvivesAWriteReadRoundTrip) {
    auto m = conv_gemm_model(21);
    export_qdq(*m, plan_for(*m->graph, 4));
    const Tensor& codes = init(*m->graph, "conv.w_quantized");
    ASSERT_EQ(codes.dtype(), DType::kI4);
    EXPECT_EQ(codes.size_bytes(), 54u);  // 108 codes, two per byte
    EXPECT_EQ(init(*m->graph, "conv.w_zero_point").dtype(), DType::kI4);
    EXPECT_EQ(m->ir_version, 10);
    auto back = io::read_model_from_bytes(io::serialize_model(*m), "w4.onnx");
    const Tensor& again = init(*back->graph, "conv.w_quantized");
    EXPECT_TRUE(again.same_as(codes));
    auto twice = io::read_model_from_bytes(io::serialize_model(*back), "w4.onnx");
    EXPECT_TRUE(init(*twice->graph, "conv.w_quantized").same_as(codes));
}

// INT4 weights of layers with quantized activations pass QuantizeLinear(int8) ->
// DequantizeLinear (ExportPlan::int4_int8_compute) so that ONNX Runtime runs them with int8
// kernels. The chain is exact: the model computes the same outputs with and without it, as
// written (float QDQ simulation) and fused into integer kernels, where aquant reads the INT4
// codes through it.
TEST(QdqExport, Int4WeightsGetAnExactInt8ChainForOnnxRuntime) {
    auto base = conv_gemm_model(21);
    auto chained = testing::copy_model(*base);
    auto plain = testing::copy_model(*base);
    ExportPlan plan = plan_for(*base->graph, 4);
    const ExportResult rc = export_qdq(*chained, plan);
    plan.int4_int8_compute = false;
    export_qdq(*plain, plan);
    const ir::Graph& g = *chained->graph;
    // Structure: layer <- DQ(int8) <- Q(int8) <- DQ(INT4 codes), one scale initializer.
    for (const char* layer : {"conv", "fc"}) {
        const ir::Node* n = nullptr;
        for (const ir::Node& node : g.nodes()) {
            if (node.name == layer) n = &node;
        }
        ASSERT_NE(n, nullptr) << layer;
        const ir::Node* dq8 = producer_of(g, n->inputs[1]);
        ASSERT_TRUE(dq8 && dq8->op_type == "DequantizeLinear") << layer;
        const ir::Node* q8 = producer_of(g, dq8->inputs[0]);
        ASSERT_TRUE(q8 && q8->op_type == "QuantizeLinear") << layer;
        const ir::Node* dq4 = producer_of(g, q8->inputs[0]);
        ASSERT_TRUE(dq4 && dq4->op_type == "DequantizeLinear") << layer;
        EXPECT_EQ(g.constant(dq4->inputs[0])->dtype(), DType::kI4) << layer;
        EXPECT_EQ(g.constant(q8->inputs[2])->dtype(), DType::kI8) << layer;
        EXPECT_EQ(q8->inputs[1], dq4->inputs[1]) << layer;   // the same scale initializer
        EXPECT_EQ(dq8->inputs[1], dq4->inputs[1]) << layer;
        EXPECT_EQ(q8->attr_int("axis", 1), dq4->attr_int("axis", 1)) << layer;
    }
    int chain_decisions = 0;
    for (const Decision& d : rc.decisions) {
        if (d.kind == "int4-int8-compute") {
            ++chain_decisions;
            EXPECT_THAT(d.what, HasSubstr("2 INT4 weights"));
        }
    }
    EXPECT_EQ(chain_decisions, 1);
    EXPECT_EQ(nodes_of(*plain->graph, "QuantizeLinear").size() + 2,
              nodes_of(g, "QuantizeLinear").size());

    // Same outputs, float simulation and integer kernels.
    const Tensor x = random_tensor({2, 3, 6, 6}, 7);
    EXPECT_TRUE(testing::run_model(chained, {{"x", x}})[0].same_as(
        testing::run_model(plain, {{"x", x}})[0]));
    const engine::QdqFusionReport fc = engine::fuse_qdq(*chained);
    const engine::QdqFusionReport fp = engine::fuse_qdq(*plain);
    ASSERT_EQ(fc.fused.size(), 2u) << fc.summary();
    ASSERT_EQ(fp.fused.size(), 2u) << fp.summary();
    for (const auto& f : fc.fused) EXPECT_EQ(f.weight_type, "int4") << f.node;
    // Nothing of the chain is left to run.
    EXPECT_TRUE(nodes_of(*chained->graph, "DequantizeLinear").size() ==
                nodes_of(*plain->graph, "DequantizeLinear").size());
    EXPECT_TRUE(testing::run_model(chained, {{"x", x}})[0].same_as(
        testing::run_model(plain, {{"x", x}})[0]));

    // No chain for weight-only plans, INT8 weights, or INT4 stored as INT8 (--max-opset 17).
    auto wo = testing::copy_model(*base);
    ExportPlan plan_wo = plan_for(*wo->graph, 4);
    plan_wo.act_bits = 0;
    plan_wo.activation_params.clear();
    export_qdq(*wo, plan_wo);
    EXPECT_TRUE(nodes_of(*wo->graph, "QuantizeLinear").empty());
    auto w8 = testing::copy_model(*base);
    export_qdq(*w8, plan_for(*w8->graph, 8));
    EXPECT_EQ(nodes_of(*w8->graph, "QuantizeLinear").size(), 4u);  // activations only
    auto m17 = conv_gemm_model(17);
    ExportPlan plan17 = plan_for(*m17->graph, 4);
    plan17.max_opset = 17;
    export_qdq(*m17, plan17);
    EXPECT_EQ(nodes_of(*m17->graph, "QuantizeLinear").size(), 4u);
}

TEST(QdqExport, Int4NeedsOpset21OrAnExplicitMaxOpset) {
    auto m = conv_gemm_model(17);
    ExportPlan plan = plan_for(*m->graph, 4);
    try {
        export_qdq(*m, plan);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("INT4 weights need opset 21, model has opset 17"));
    }
    plan.max_opset = 17;
    const ExportResult r = export_qdq(*m, plan);
    EXPECT_EQ(m->opset(), 17);
    const Tensor& codes = init(*m->graph, "conv.w_quantized");
    EXPECT_EQ(codes.dtype(), DType::kI8);
    for (double v : codes.to_f64()) ASSERT_LE(std::abs(v), 7);
    int int4_as_int8 = 0;
    for (const Decision& d : r.decisions) int4_as_int8 += d.kind == "int4-as-int8";
    EXPECT_EQ(int4_as_int8, 2);
}

TEST(QdqExport, SharedInputGetsOnePair) {
    ModelBuilder b(13);
    auto x = b.input("x", {1, 2, 4, 4});
    auto a = b.node("Conv", "a", {x, b.init("wa", random_tensor({3, 2, 1, 1}, 1))});
    auto c = b.node("Conv", "c", {x, b.init("wc", random_tensor({3, 2, 1, 1}, 2))});
    b.output(b.node("Add", "add", {a, c}));
    auto m = b.build();
    ExportPlan plan;
    plan.weight_bits = {{"a", 8}, {"c", 8}};
    for (const auto& n : activation_tensors(*m->graph, plan)) plan.activation_params[n] = act_params(-1, 1);
    EXPECT_EQ(export_qdq(*m, plan).activation_pairs, 3);  // x, a_out, c_out
    int readers_of_x = 0;
    for (const ir::Node& n : m->graph->nodes()) {
        for (ir::ValueId v : n.inputs) readers_of_x += v.valid() && m->graph->value(v).name == "x";
    }
    EXPECT_EQ(readers_of_x, 1);  // only the QuantizeLinear
}

TEST(QdqExport, WeightOnlyKeepsActivationsAndBiasFloat) {
    auto m = conv_gemm_model(13);
    ExportPlan plan;
    plan.weight_bits = {{"conv", 8}, {"fc", 0}};
    plan.act_bits = 0;
    const ExportResult r = export_qdq(*m, plan);
    EXPECT_TRUE(nodes_of(*m->graph, "QuantizeLinear").empty());
    EXPECT_EQ(nodes_of(*m->graph, "DequantizeLinear").size(), 1u);
    ASSERT_EQ(r.layers.size(), 2u);
    EXPECT_EQ(r.layers[1].storage, "float");
    EXPECT_EQ(r.layers[1].bytes_stored, 4 * (5 * 64 + 5));
    EXPECT_FALSE(r.layers[0].bias_quantized);
}

TEST(QdqExport, BlockScalesRunAlongTheReductionAxis) {
    auto m = conv_gemm_model(21);
    ExportPlan plan = plan_for(*m->graph, 4);
    plan.weights.granularity = quant::Granularity::kBlock;
    plan.weights.block_size = 16;
    const ExportResult r = export_qdq(*m, plan);
    EXPECT_EQ(init(*m->graph, "fc.w_scale").dims(), (Dims{5, 4}));  // [N, ceil(64 / 16)]
    for (const ir::Node* dq : nodes_of(*m->graph, "DequantizeLinear")) {
        if (m->graph->value(dq->inputs[0]).name != "fc.w_quantized") continue;
        EXPECT_EQ(dq->attr_int("axis", -1), 1);
        EXPECT_EQ(dq->attr_int("block_size", -1), 16);
    }
    int bias_float = 0;
    for (const Decision& d : r.decisions) bias_float += d.kind == "bias-float";
    EXPECT_EQ(bias_float, 2);
    auto m17 = conv_gemm_model(17);
    ExportPlan p17 = plan_for(*m17->graph, 8);
    p17.weights.granularity = quant::Granularity::kBlock;
    p17.weights.block_size = 16;
    EXPECT_THROW(export_qdq(*m17, p17), ConfigError);
}

TEST(QdqExport, QuantizedModelRunsCloseToFloat) {
    auto fp = conv_gemm_model(21);
    auto q = testing::copy_model(*fp);
    ExportPlan plan = plan_for(*q->graph, 8);
    // Realistic activation ranges from one float run.
    const Tensor x = random_tensor({2, 3, 6, 6}, 7);
    engine::Executor exec(fp);
    engine::ValueMap values;
    values[fp->graph->find_value("x")->index] = x;
    engine::RunOptions ro;
    ro.keep_intermediates = true;
    exec.run(values, {}, ro);
    for (auto& [name, p] : plan.activation_params) {
        const auto v = values.at(fp->graph->find_value(name)->index).to_f32();
        p = act_params(*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    }
    export_qdq(*q, plan);
    const auto y0 = testing::run_model(fp, {{"x", x}});
    const auto y1 = testing::run_model(q, {{"x", x}});
    const auto a = y0[0].to_f32();
    const auto b = y1[0].to_f32();
    double sig = 0, err = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sig += a[i] * a[i];
        err += (a[i] - b[i]) * (a[i] - b[i]);
    }
    // W8A8 on a 2-layer net: the output SQNR stays above 30 dB (8-bit noise is ~40-50 dB).
    EXPECT_GT(10 * std::log10(sig / err), 30.0);
}

TEST(QdqExport, PlanErrorsNameTheNodeOrFlag) {
    auto m = conv_gemm_model(13);
    ExportPlan plan = plan_for(*m->graph, 8);
    plan.weight_bits["nope"] = 8;
    try {
        export_qdq(*m, plan);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("plan names node 'nope', which is not a quantizable layer"));
    }
    plan = plan_for(*m->graph, 9);
    EXPECT_THROW(export_qdq(*m, plan), ConfigError);
    plan = plan_for(*m->graph, 8);
    plan.activation_params.erase("conv_out");
    try {
        export_qdq(*m, plan);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("no calibrated parameters for activation 'conv_out'"));
    }
}

TEST(QdqExport, MinIrVersionFollowsTheOnnxTable) {
    EXPECT_EQ(min_ir_version(13), 7);
    EXPECT_EQ(min_ir_version(17), 8);
    EXPECT_EQ(min_ir_version(19), 9);
    EXPECT_EQ(min_ir_version(21), 10);
}

}  // namespace
}  // namespace aquant::qdq
