// engine::fuse_qdq (include/aquant/engine/qdq_fusion.h) on QDQ models built here by hand, as
// aquant's exporter writes them: x -> QuantizeLinear -> DequantizeLinear -> Conv / Gemm / MatMul
// (weight: DequantizeLinear of int8 or packed INT4 codes, per channel or per tensor; bias:
// DequantizeLinear of int32 codes at scale s_x * s_w) -> QuantizeLinear -> DequantizeLinear.
//
// Each test runs the model twice through the Executor: as written (the float QDQ simulation,
// using the QuantizeLinear / DequantizeLinear kernels) and after fuse_qdq (integer kernels), and
// compares the quantized output codes y_q. Criterion, for single-layer models: every element at
// most 1 quantization step apart, and at least 99.9 % of the elements identical (the two differ
// only by float rounding of the sum before QuantizeLinear). Measured: every single-layer case
// here is 100 % identical (e.g. 200,704 of 200,704 codes in LargeConvLayer; int8 and INT4 / 3-bit
// weights, per channel and per tensor, with and without bias), and the four-layer chain 96 of 96.
// On whole quantized models the fraction is lower because a one-step difference in one layer
// moves later ones: tests/cli/cli_test.cpp (ResNet, `--qdq int` vs `--qdq float`) measures
// 99.7 % identical logits, all within one step. The structure after fusion is checked too (which
// nodes were replaced and removed), as are the reasons for layers kept in float.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "aquant/engine/executor.h"
#include "aquant/engine/qdq_fusion.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"
#include "aquant/quant/int4_pack.h"
#include "int_test_util.h"
#include "model_builder.h"

namespace aquant::engine {
namespace {

using test::attr_int;
using test::attr_ints;
using test::GraphBuilder;

constexpr double kMinIdentical = 0.999;  // fraction of identical codes (single layer)

struct Layer {
    std::string op;  // "Conv", "Gemm" (transB = 1), "MatMul"
    Dims x;          // float input dims
    Dims w;          // Conv [M, C/g, k...]; Gemm [N, K]; MatMul [K, N]
    bool bias = true;
    int weight_bits = 8;  // 8: int8 storage; 2..4: INT4 storage
    bool per_channel = true;
    DType act = DType::kU8;
    std::int64_t group = 1;
    std::vector<std::int64_t> pads, strides;
};

std::int64_t out_channels(const Layer& l) {
    return l.op == "MatMul" ? l.w[1] : l.w[0];
}

// Asymmetric per-tensor parameters covering [lo, hi] (extended to contain 0) for `type`.
std::pair<float, std::int32_t> act_params(float lo, float hi, DType type) {
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
    const int qmin = type == DType::kU8 ? 0 : -128, qmax = type == DType::kU8 ? 255 : 127;
    const float scale = (hi - lo) / static_cast<float>(qmax - qmin);
    const auto zp = static_cast<std::int32_t>(std::nearbyint(qmin - lo / scale));
    return {scale, std::clamp(zp, qmin, qmax)};
}

Tensor zero_point_tensor(DType type, std::int32_t zp) {
    if (type == DType::kU8) return Tensor::scalar(static_cast<std::uint8_t>(zp));
    return Tensor::scalar(static_cast<std::int8_t>(zp));
}

// Float weights and bias of a layer, fixed seeds.
struct FloatLayer {
    std::vector<float> w, b;
};

FloatLayer float_layer(const Layer& l, std::uint32_t seed) {
    FloatLayer f;
    f.w = test::random_floats(static_cast<std::size_t>(dims_numel(l.w)), seed);
    const std::int64_t fan_in = dims_numel(l.w) / out_channels(l);
    for (auto& v : f.w) v /= std::sqrt(static_cast<float>(fan_in));
    f.b = test::random_floats(static_cast<std::size_t>(out_channels(l)), seed + 1);
    for (auto& v : f.b) v *= 0.2f;
    return f;
}

void add_layer_node(GraphBuilder& b, const Layer& l, const std::string& x, const std::string& w,
                    const std::string& bias, const std::string& y, const std::string& name) {
    std::vector<std::string> inputs{x, w};
    if (!bias.empty()) inputs.push_back(bias);
    std::vector<ir::Attribute> attrs;
    if (l.op == "Conv") {
        if (!l.pads.empty()) attrs.push_back(attr_ints("pads", l.pads));
        if (!l.strides.empty()) attrs.push_back(attr_ints("strides", l.strides));
        attrs.push_back(attr_int("group", l.group));
    } else if (l.op == "Gemm") {
        attrs.push_back(attr_int("transB", 1));
    }
    b.node(l.op, inputs, {y}, attrs, name);
}

// Runs a model on x and returns output `index`.
Tensor run_model(const std::shared_ptr<ir::Model>& m, const Tensor& x, std::size_t index = 0) {
    Executor exec(m);
    return exec.run({{"x", x}}).at(index);
}

// The layer in float alone (to calibrate the output range).
Tensor run_float(const Layer& l, const FloatLayer& f, const Tensor& x) {
    GraphBuilder b;
    b.input("x", DType::kF32, std::vector<test::DimSpec>(l.x.begin(), l.x.end()));
    b.initializer("w", Tensor::from_vector(l.w, f.w));
    if (l.bias) b.initializer("b", Tensor::from_vector<float>({out_channels(l)}, f.b));
    add_layer_node(b, l, "x", "w", l.bias ? "b" : "", "y", "layer");
    b.output("y");
    return run_model(b.model(17), x);
}

struct QdqModel {
    std::shared_ptr<ir::Model> model;
    float y_scale;
};

// x -> Q -> DQ -> layer(DQ(W_q), DQ(bias_q)) -> Q -> DQ -> "out"; graph outputs: out, y_q.
QdqModel build_qdq(const Layer& l, const Tensor& x, std::uint32_t seed) {
    const FloatLayer f = float_layer(l, seed);
    const auto xv = x.to_f32();
    const auto [xs, xz] = act_params(*std::min_element(xv.begin(), xv.end()),
                                     *std::max_element(xv.begin(), xv.end()), l.act);
    const Tensor yf = run_float(l, f, x);
    const auto yv = yf.to_f32();
    const auto [ys, yz] = act_params(*std::min_element(yv.begin(), yv.end()),
                                     *std::max_element(yv.begin(), yv.end()), l.act);
    // Weights: symmetric per output channel (or per tensor), codes in [-(2^(b-1) - 1), 2^(b-1) - 1].
    const std::int64_t ch = out_channels(l);
    const int qmax = (1 << (l.weight_bits - 1)) - 1;
    const int axis = l.op == "MatMul" ? 1 : 0;
    std::vector<float> ws(l.per_channel ? static_cast<std::size_t>(ch) : 1, 0.0f);
    auto channel_of = [&](std::size_t i) -> std::size_t {
        if (!l.per_channel) return 0;
        return axis == 0 ? i / static_cast<std::size_t>(dims_numel(l.w) / ch)
                         : i % static_cast<std::size_t>(ch);
    };
    for (std::size_t i = 0; i < f.w.size(); ++i) {
        ws[channel_of(i)] = std::max(ws[channel_of(i)], std::abs(f.w[i]));
    }
    for (auto& s : ws) s /= static_cast<float>(qmax);
    std::vector<std::int8_t> wq(f.w.size());
    for (std::size_t i = 0; i < f.w.size(); ++i) {
        const float q = std::nearbyint(f.w[i] / ws[channel_of(i)]);
        wq[i] = static_cast<std::int8_t>(std::clamp(q, -static_cast<float>(qmax), static_cast<float>(qmax)));
    }
    Tensor w_codes = Tensor::from_vector(l.w, wq);
    if (l.weight_bits <= 4) w_codes = quant::pack_int4_tensor(w_codes);
    const DType w_type = w_codes.dtype();
    Tensor w_zero(w_type, l.per_channel ? Dims{ch} : Dims{});  // zeros (packed for INT4)

    GraphBuilder b;
    b.input("x", DType::kF32, std::vector<test::DimSpec>(l.x.begin(), l.x.end()));
    b.initializer("s_x", Tensor::scalar(xs));
    b.initializer("z_x", zero_point_tensor(l.act, xz));
    b.initializer("w_q", w_codes);
    b.initializer("s_w", l.per_channel ? Tensor::from_vector<float>({ch}, ws) : Tensor::scalar(ws[0]));
    b.initializer("z_w", w_zero);
    b.initializer("s_y", Tensor::scalar(ys));
    b.initializer("z_y", zero_point_tensor(l.act, yz));
    b.node("QuantizeLinear", {"x", "s_x", "z_x"}, {"x_q"}, {}, "q_x");
    b.node("DequantizeLinear", {"x_q", "s_x", "z_x"}, {"x_dq"}, {}, "dq_x");
    b.node("DequantizeLinear", {"w_q", "s_w", "z_w"}, {"w_dq"}, {attr_int("axis", axis)}, "dq_w");
    std::string bias;
    if (l.bias) {
        std::vector<std::int32_t> bq(static_cast<std::size_t>(ch));
        std::vector<float> bs(static_cast<std::size_t>(ch));
        for (std::size_t c = 0; c < bq.size(); ++c) {
            bs[c] = xs * ws[l.per_channel ? c : 0];
            bq[c] = static_cast<std::int32_t>(std::nearbyint(f.b[c] / bs[c]));
        }
        b.initializer("b_q", Tensor::from_vector<std::int32_t>({ch}, bq));
        b.initializer("s_b", Tensor::from_vector<float>({ch}, bs));
        b.node("DequantizeLinear", {"b_q", "s_b"}, {"b_dq"}, {attr_int("axis", 0)}, "dq_b");
        bias = "b_dq";
    }
    add_layer_node(b, l, "x_dq", "w_dq", bias, "y", "layer");
    b.node("QuantizeLinear", {"y", "s_y", "z_y"}, {"y_q"}, {}, "q_y");
    b.node("DequantizeLinear", {"y_q", "s_y", "z_y"}, {"out"}, {}, "dq_y");
    b.output("out");
    b.output("y_q");
    auto m = b.model(w_type == DType::kI4 ? 21 : 13);
    if (w_type == DType::kI4) m->ir_version = 10;
    return {m, ys};
}

std::shared_ptr<ir::Model> copy_model(const ir::Model& m) {
    auto c = std::make_shared<ir::Model>(m);
    c->graph = std::make_shared<ir::Graph>(*m.graph);
    return c;
}

struct CodeDiff {
    std::int64_t n = 0, identical = 0, max_abs = 0;
};

CodeDiff compare_codes(const Tensor& a, const Tensor& b) {
    CodeDiff d;
    d.n = a.numel();
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const auto diff = static_cast<std::int64_t>(std::llround(a.get_f64(i) - b.get_f64(i)));
        d.identical += diff == 0;
        d.max_abs = std::max(d.max_abs, diff < 0 ? -diff : diff);
    }
    return d;
}

std::string layer_str(const Layer& l) {
    return l.op + " x " + dims_str(l.x) + " w " + dims_str(l.w) + " " +
           std::to_string(l.weight_bits) + "-bit" + (l.per_channel ? " per-channel" : " per-tensor") +
           (l.bias ? " bias" : "") + " act " + std::string(dtype_name(l.act));
}

// Fuses a single-layer QDQ model and checks structure and the code-level agreement.
void check_single_layer(const Layer& l, std::uint32_t seed) {
    SCOPED_TRACE(layer_str(l));
    const Tensor x = Tensor::from_vector(l.x, test::random_floats(
                                                  static_cast<std::size_t>(dims_numel(l.x)), seed + 7));
    const QdqModel q = build_qdq(l, x, seed);
    auto fused = copy_model(*q.model);
    const QdqFusionReport report = fuse_qdq(*fused);
    ASSERT_EQ(report.fused.size(), 1u) << report.summary();
    EXPECT_TRUE(report.skipped.empty());
    EXPECT_EQ(report.fused[0].node, "layer");
    EXPECT_EQ(report.fused[0].bias, l.bias);
    EXPECT_EQ(report.fused[0].per_channel, l.per_channel);
    const auto hist = ir::op_histogram(*fused->graph);
    const std::string fused_op = l.op == "Conv" ? "QLinearConv" : "ai.aquant.QLinearGemm";
    EXPECT_EQ(hist.count(l.op), 0u);
    EXPECT_EQ(hist.at(fused_op), 1);
    EXPECT_EQ(hist.at("QuantizeLinear"), 1);    // the input's; q_y was absorbed
    EXPECT_EQ(hist.at("DequantizeLinear"), 1);  // dq_y only
    if (l.weight_bits <= 4) {
        const auto& inits = fused->graph->initializers;
        EXPECT_TRUE(std::none_of(inits.begin(), inits.end(), [&](ir::ValueId v) {
            return fused->graph->value(v).name == "w_q";
        })) << "packed INT4 codes left behind";
    }

    const Tensor y_float = run_model(q.model, x, 1);
    const Tensor y_int = run_model(fused, x, 1);
    ASSERT_EQ(y_float.dims(), y_int.dims());
    ASSERT_EQ(y_float.dtype(), y_int.dtype());
    const CodeDiff d = compare_codes(y_float, y_int);
    std::printf("[qdq-fusion] %s: %lld of %lld codes identical, max diff %lld\n",
                layer_str(l).c_str(), static_cast<long long>(d.identical),
                static_cast<long long>(d.n), static_cast<long long>(d.max_abs));
    EXPECT_LE(d.max_abs, 1);
    EXPECT_GE(static_cast<double>(d.identical), kMinIdentical * static_cast<double>(d.n))
        << d.n - d.identical << " of " << d.n << " codes differ";
    // The codes are not trivial (a saturated or constant output would agree vacuously).
    std::set<double> distinct;
    for (std::int64_t i = 0; i < y_int.numel(); ++i) distinct.insert(y_int.get_f64(i));
    EXPECT_GT(distinct.size(), 20u);
}

TEST(QdqFusionInt, ConvUint8Int8PerChannelWithBias) {
    check_single_layer({"Conv", {2, 8, 14, 14}, {16, 8, 3, 3}, true, 8, true, DType::kU8, 1, {1, 1, 1, 1}, {}}, 11);
}

TEST(QdqFusionInt, LargeConvLayer) {
    // 200,704 outputs: enough for the 99.9 % criterion to mean something.
    check_single_layer({"Conv", {4, 32, 28, 28}, {64, 32, 3, 3}, true, 8, true, DType::kU8, 1, {1, 1, 1, 1}, {}}, 17);
}

TEST(QdqFusionInt, ConvInt8ActivationsNoBiasStrided) {
    check_single_layer({"Conv", {1, 5, 17, 13}, {7, 5, 3, 3}, false, 8, true, DType::kI8, 1, {0, 1, 1, 0}, {2, 2}}, 12);
}

TEST(QdqFusionInt, ConvPerTensorWeights) {
    check_single_layer({"Conv", {2, 4, 9, 9}, {6, 4, 3, 3}, true, 8, false, DType::kU8, 1, {}, {}}, 13);
}

TEST(QdqFusionInt, DepthwiseConvInt4Weights) {
    check_single_layer({"Conv", {2, 8, 12, 12}, {8, 1, 3, 3}, true, 4, true, DType::kU8, 8, {1, 1, 1, 1}, {}}, 14);
}

TEST(QdqFusionInt, ConvInt4AndThreeBitWeights) {
    check_single_layer({"Conv", {1, 6, 10, 10}, {12, 6, 3, 3}, true, 4, true, DType::kI8, 1, {1, 1, 1, 1}, {}}, 15);
    check_single_layer({"Conv", {1, 6, 10, 10}, {12, 6, 3, 3}, true, 3, true, DType::kU8, 1, {1, 1, 1, 1}, {}}, 16);
}

TEST(QdqFusionInt, GemmTransBWithBias) {
    check_single_layer({"Gemm", {64, 40}, {37, 40}, true, 8, true, DType::kU8, 1, {}, {}}, 21);
    check_single_layer({"Gemm", {64, 32 * 9 + 17}, {23, 32 * 9 + 17}, true, 4, true, DType::kI8, 1, {}, {}}, 22);
}

TEST(QdqFusionInt, MatMulWithoutBias) {
    check_single_layer({"MatMul", {4, 16, 24}, {24, 19}, false, 8, true, DType::kU8, 1, {}, {}}, 31);
    check_single_layer({"MatMul", {50, 33}, {33, 29}, false, 4, false, DType::kI8, 1, {}, {}}, 32);
}

// x -> conv1 (uint8, int8 per channel, bias) -> Relu -> conv2 (INT4) -> Flatten -> Gemm
// (transB, bias) -> MatMul -> out: every layer between its own Q/DQ pairs.
std::shared_ptr<ir::Model> build_chain(std::vector<float> scales) {
    GraphBuilder b;
    b.input("x", DType::kF32, {16, 3, 8, 8});
    auto act = [&](const std::string& v, float s, std::uint8_t z) {
        b.initializer("s_" + v, Tensor::scalar(s));
        b.initializer("z_" + v, Tensor::scalar(z));
        b.node("QuantizeLinear", {v, "s_" + v, "z_" + v}, {v + "_q"}, {}, "q_" + v);
        b.node("DequantizeLinear", {v + "_q", "s_" + v, "z_" + v}, {v + "_dq"}, {}, "dq_" + v);
    };
    auto weight = [&](const std::string& name, Dims dims, int bits, int axis, std::uint32_t seed,
                      float x_scale, bool bias) {
        const std::int64_t ch = dims[static_cast<std::size_t>(axis)];
        auto f = test::random_floats(static_cast<std::size_t>(dims_numel(dims)), seed);
        const int qmax = (1 << (bits - 1)) - 1;
        std::vector<float> s(static_cast<std::size_t>(ch), 0.0f);
        const std::int64_t inner = axis == 0 ? dims_numel(dims) / ch : 1;
        auto c_of = [&](std::size_t i) {
            return static_cast<std::size_t>(axis == 0 ? static_cast<std::int64_t>(i) / inner
                                                      : static_cast<std::int64_t>(i) % ch);
        };
        for (std::size_t i = 0; i < f.size(); ++i) s[c_of(i)] = std::max(s[c_of(i)], std::abs(f[i]));
        for (auto& v : s) v /= static_cast<float>(qmax);
        std::vector<std::int8_t> q(f.size());
        for (std::size_t i = 0; i < f.size(); ++i) q[i] = static_cast<std::int8_t>(std::nearbyint(f[i] / s[c_of(i)]));
        Tensor codes = Tensor::from_vector(dims, q);
        if (bits <= 4) codes = quant::pack_int4_tensor(codes);
        b.initializer(name + "_q", codes);
        b.initializer(name + "_s", Tensor::from_vector<float>({ch}, s));
        b.node("DequantizeLinear", {name + "_q", name + "_s"}, {name + "_dq"}, {attr_int("axis", axis)},
               "dq_" + name);
        if (bias) {
            std::vector<float> bs(s.size());
            for (std::size_t c = 0; c < s.size(); ++c) bs[c] = x_scale * s[c];
            const auto bf = test::random_floats(s.size(), seed + 1);
            std::vector<std::int32_t> bq(s.size());
            for (std::size_t c = 0; c < s.size(); ++c) bq[c] = static_cast<std::int32_t>(std::nearbyint(0.1f * bf[c] / bs[c]));
            b.initializer(name + "_bq", Tensor::from_vector<std::int32_t>({ch}, bq));
            b.initializer(name + "_bs", Tensor::from_vector<float>({ch}, bs));
            b.node("DequantizeLinear", {name + "_bq", name + "_bs"}, {name + "_bdq"},
                   {attr_int("axis", 0)}, "dq_" + name + "_b");
        }
    };
    act("x", scales[0], 128);
    weight("w1", {8, 3, 3, 3}, 8, 0, 1, scales[0], true);
    b.node("Conv", {"x_dq", "w1_dq", "w1_bdq"}, {"c1"}, {attr_ints("pads", {1, 1, 1, 1})}, "conv1");
    act("c1", scales[1], 128);
    b.node("Relu", {"c1_dq"}, {"r1"}, {}, "relu1");
    act("r1", scales[2], 0);
    weight("w2", {8, 8, 3, 3}, 4, 0, 3, scales[2], true);
    b.node("Conv", {"r1_dq", "w2_dq", "w2_bdq"}, {"c2"}, {attr_ints("strides", {2, 2})}, "conv2");
    act("c2", scales[3], 128);
    b.node("Flatten", {"c2_dq"}, {"f"}, {}, "flatten");
    act("f", scales[3], 128);
    weight("w3", {10, 72}, 8, 0, 5, scales[3], true);
    b.node("Gemm", {"f_dq", "w3_dq", "w3_bdq"}, {"g"}, {attr_int("transB", 1)}, "fc");
    act("g", scales[4], 128);
    weight("w4", {10, 6}, 8, 1, 7, scales[4], false);
    b.node("MatMul", {"g_dq", "w4_dq"}, {"mm"}, {}, "head");
    act("mm", scales[5], 128);
    b.output("mm_dq");
    b.output("mm_q");
    auto m = b.model(21);
    m->ir_version = 10;
    return m;
}

TEST(QdqFusionInt, ChainOfLayersFusesEveryLayerAndKeepsActivationsInRange) {
    // Scales chosen from a float run of the same chain (ranges about +-3, +-2.5, ...).
    auto m = build_chain({2.0f / 255, 6.0f / 255, 3.0f / 255, 5.0f / 255, 6.0f / 255, 8.0f / 255});
    const Tensor x = Tensor::from_vector<float>({16, 3, 8, 8}, test::random_floats(3072, 99));
    auto fused = copy_model(*m);
    const QdqFusionReport report = fuse_qdq(*fused);
    ASSERT_EQ(report.fused.size(), 4u) << report.summary();
    EXPECT_EQ(report.summary(), "4 layer(s) fused (QLinearConv 2, ai.aquant.QLinearGemm 2), 0 kept in float");
    EXPECT_EQ(report.fused[1].weight_type, "int4");
    EXPECT_EQ(fused->opset("ai.aquant"), 1);
    const auto hist = ir::op_histogram(*fused->graph);
    EXPECT_EQ(hist.at("QLinearConv"), 2);
    EXPECT_EQ(hist.at("ai.aquant.QLinearGemm"), 2);
    EXPECT_EQ(hist.count("Conv") + hist.count("Gemm") + hist.count("MatMul"), 0u);
    // Q/DQ remain only around the float ops (Relu, Flatten) and at the model output.
    EXPECT_EQ(hist.at("QuantizeLinear"), 3);    // x, r1, f
    EXPECT_EQ(hist.at("DequantizeLinear"), 3);  // c1, c2, mm

    const Tensor a = run_model(m, x, 1), b = run_model(fused, x, 1);
    const CodeDiff d = compare_codes(a, b);
    std::printf("[qdq-fusion] chain: %lld of %lld codes identical, max diff %lld\n",
                static_cast<long long>(d.identical), static_cast<long long>(d.n),
                static_cast<long long>(d.max_abs));
    // Through four layers a one-step difference could propagate; measured: all 96 codes equal.
    EXPECT_LE(d.max_abs, 1);
    std::set<double> distinct;
    for (std::int64_t i = 0; i < b.numel(); ++i) distinct.insert(b.get_f64(i));
    EXPECT_GT(distinct.size(), 5u);

    // The fused model survives an ONNX round trip (QLinearConv, ai.aquant opset import).
    const std::string bytes = io::serialize_model(*fused);
    auto back = io::read_model_from_bytes(bytes, "fused.onnx");
    EXPECT_TRUE(run_model(back, x, 1).same_as(b));
}

TEST(QdqFusionInt, KeepsLayersInFloatAndSaysWhy) {
    Layer l{"Conv", {1, 4, 6, 6}, {4, 4, 3, 3}, true, 8, true, DType::kU8, 1, {1, 1, 1, 1}, {}};
    const Tensor x = Tensor::from_vector(l.x, test::random_floats(144, 5));
    // 1. The bias scale is not s_x * s_w.
    {
        auto m = build_qdq(l, x, 3).model;
        auto s_b = m->graph->find_value("s_b");
        Tensor t = m->graph->value(*s_b).initializer->clone();
        t.data<float>()[2] *= 1.01f;
        m->graph->value(*s_b).initializer = t;
        const auto report = fuse_qdq(*m);
        EXPECT_TRUE(report.fused.empty());
        ASSERT_EQ(report.skipped.size(), 1u);
        EXPECT_EQ(report.skipped[0].node, "layer");
        EXPECT_NE(report.skipped[0].reason.find("bias scale"), std::string::npos) << report.skipped[0].reason;
        EXPECT_NE(report.skipped[0].reason.find("channel 2"), std::string::npos) << report.skipped[0].reason;
        EXPECT_EQ(ir::op_histogram(*m->graph).at("Conv"), 1);
    }
    // 2. The layer output also feeds another node.
    {
        auto m = build_qdq(l, x, 3).model;
        GraphBuilder b(m->graph);
        b.node("Relu", {"y"}, {"extra"}, {}, "extra");
        b.output("extra");
        b.graph();
        const auto report = fuse_qdq(*m);
        ASSERT_EQ(report.skipped.size(), 1u);
        EXPECT_EQ(report.skipped[0].reason, "the output feeds 2 node(s), expected one QuantizeLinear");
    }
    // 3. Per-block weight scales.
    {
        Layer g{"Gemm", {8, 32}, {4, 32}, false, 8, true, DType::kU8, 1, {}, {}};
        const Tensor xg = Tensor::from_vector(g.x, test::random_floats(256, 6));
        auto m = build_qdq(g, xg, 4).model;
        for (auto& n : m->graph->nodes()) {
            if (n.name == "dq_w") n.attributes.push_back(attr_int("block_size", 16));
        }
        const auto report = fuse_qdq(*m);
        ASSERT_EQ(report.skipped.size(), 1u);
        EXPECT_EQ(report.skipped[0].reason, "weight is quantized per block");
    }
    // 4. Options: conv fusion off leaves the model alone and reports nothing.
    {
        auto m = build_qdq(l, x, 3).model;
        QdqFusionOptions opt;
        opt.conv = false;
        const auto report = fuse_qdq(*m, opt);
        EXPECT_TRUE(report.fused.empty());
        EXPECT_TRUE(report.skipped.empty());
    }
}

}  // namespace
}  // namespace aquant::engine
