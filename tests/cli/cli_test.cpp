#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aquant/data/dataset.h"
#include "aquant/data/npy.h"
#include "aquant/data/sidecar.h"
#include "aquant/io/onnx_reader.h"
#include "cli/cli_util.h"

namespace aquant::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string bundled(const std::string& name) {
    return (fs::path(source_dir()) / "models" / name).string();
}

TEST(Cli, VersionAndHelp) {
    auto r = run_aquant("--version");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("aquant "));
    r = run_aquant("eval --help");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("example"));
}

TEST(Cli, UsageErrorsExitWithTwo) {
    EXPECT_EQ(run_aquant("").exit_code, 2);
    EXPECT_EQ(run_aquant("inspect").exit_code, 2);          // missing model
    EXPECT_EQ(run_aquant("frobnicate x").exit_code, 2);     // unknown command
    EXPECT_EQ(run_aquant("bench m.onnx --runs 0").exit_code, 2);
    EXPECT_EQ(run_aquant("run m.onnx --qdq fast").exit_code, 2);
}

TEST(Cli, MissingModelIsOneClearLine) {
    const auto r = run_aquant("inspect /nonexistent/model.onnx");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("aquant: error: /nonexistent/model.onnx"));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(Cli, InspectJsonOnBundledLeNet) {
    const auto r = run_aquant("inspect --json " + bundled("lenet5_fmnist.onnx"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["inputs"].size(), 1u);
    EXPECT_EQ(j["inputs"][0]["name"], "input");
    EXPECT_EQ(j["op_histogram"]["Conv"], 2);
    EXPECT_EQ(j["quantizable_layers"].size(), 5u);  // 2 Conv + 3 Gemm
    EXPECT_TRUE(j["unsupported"].empty());
    std::int64_t params = 0;
    for (const auto& l : j["quantizable_layers"]) params += l["params"].get<std::int64_t>();
    EXPECT_EQ(params, j["quantizable_parameters"].get<std::int64_t>());
}

TEST(Cli, InspectMnist8ZooMatchesPythonOnnxHistogram) {
    const auto path = fs::path(shared_models()) / "mnist8_zoo" / "model.onnx";
    if (!fs::exists(path)) GTEST_SKIP() << "../shared/models absent";
    const auto r = run_aquant("inspect --json " + path.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    // From python3-onnx: collections.Counter(n.op_type for n in m.graph.node)
    EXPECT_EQ(j["op_histogram"]["Conv"], 2);
    EXPECT_EQ(j["op_histogram"]["MaxPool"], 2);
    EXPECT_EQ(j["op_histogram"]["Relu"], 2);
    EXPECT_EQ(j["op_histogram"]["Reshape"], 2);
    EXPECT_EQ(j["op_histogram"]["MatMul"], 1);
    EXPECT_EQ(j["op_histogram"]["Add"], 3);
    EXPECT_EQ(j["opsets"]["ai.onnx"], 8);
    EXPECT_EQ(j["quantizable_layers"].size(), 3u);
}

// `--qdq int` (default: QDQ layers fused into integer kernels) against `--qdq float` (the QDQ
// graph as written) on a quantized bundled ResNet (INT4 weights, the classifier at INT8) and 500
// Fashion-MNIST test images. The logits are DequantizeLinear(QuantizeLinear(...)) outputs, so
// both runs give multiples of the logits' scale s (the quantization step). Criterion: every
// element at most 1 step apart, >= 99 % identical, top-1 agreement >= 99.5 %. Measured: 99.7 %
// of the logits identical (the rest exactly 1 step), top-1 agreement 100 %.
TEST(Cli, QdqIntegerAndFloatRunsAgreeWithinOneStep) {
    const std::string model = bundled("resnet_fmnist.onnx");
    const auto side = data::find_sidecar(model);
    if (!side || !side->eval || !fs::exists(side->eval->path)) {
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    }
    const auto dir = fs::temp_directory_path() / ("aquant_cli_qdq_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string q = (dir / "resnet.w4.onnx").string();
    auto r = run_aquant("-q quantize " + model + " --bits 4 --override '^/fc/=8' --limit 64 " +
                        "--calib-samples 64 -o " + q);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    data::DataSpec spec = *side->eval;
    spec.inputs = data::model_input_specs(*io::read_model(model)->graph);
    spec.limit = 500;
    const data::Batch batch = data::open_dataset(spec)->read(0, 500);
    const std::string x = (dir / "x.npy").string();
    data::write_npy(batch.inputs.at("input"), x);

    std::map<std::string, Tensor> logits;
    for (const std::string mode : {"int", "float"}) {
        const auto out = dir / mode;
        r = run_aquant("-q run --json " + q + " --qdq " + mode + " --input input=" + x + " -o " +
                       out.string());
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto j = nlohmann::json::parse(r.out);
        if (mode == "int") {
            ASSERT_TRUE(j.contains("qdq_fusion")) << r.out;
            EXPECT_EQ(j["qdq_fusion"]["fused"], 10);  // 9 Conv + 1 Gemm
            EXPECT_EQ(j["qdq_fusion"]["kept_float"], 0);
        } else {
            EXPECT_FALSE(j.contains("qdq_fusion")) << r.out;
        }
        logits.emplace(mode, data::read_npy((out / "logits.npy").string()));
    }
    // The step: the scale of the DequantizeLinear that produces the graph output "logits".
    const auto qm = io::read_model(q);
    const ir::Graph& g = *qm->graph;
    const ir::Node& dq = g.node(g.producer(*g.find_value("logits")));
    ASSERT_EQ(dq.op_type, "DequantizeLinear");
    const double step = g.constant(dq.inputs[1])->get_f64(0);

    const Tensor& a = logits.at("int");
    const Tensor& b = logits.at("float");
    ASSERT_EQ(a.dims(), (Dims{500, 10}));
    ASSERT_EQ(b.dims(), a.dims());
    std::int64_t identical = 0, within = 0, same_top1 = 0;
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const double d = std::abs(a.get_f64(i) - b.get_f64(i));
        identical += d == 0;
        within += d <= step * 1.0001;
    }
    for (std::int64_t row = 0; row < 500; ++row) {
        std::int64_t ia = 0, ib = 0;
        for (std::int64_t c = 1; c < 10; ++c) {
            if (a.get_f64(row * 10 + c) > a.get_f64(row * 10 + ia)) ia = c;
            if (b.get_f64(row * 10 + c) > b.get_f64(row * 10 + ib)) ib = c;
        }
        same_top1 += ia == ib;
    }
    std::printf("[qdq int vs float] step %g: %lld of 5000 identical, %lld within 1 step, top-1 "
                "agreement %lld of 500\n",
                step, static_cast<long long>(identical), static_cast<long long>(within),
                static_cast<long long>(same_top1));
    EXPECT_EQ(within, a.numel());
    EXPECT_GE(identical, 4950);  // 99 %
    EXPECT_GE(same_top1, 498);   // 99.6 %
    fs::remove_all(dir);
}

}  // namespace
}  // namespace aquant::test
