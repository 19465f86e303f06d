#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace aquant::test
