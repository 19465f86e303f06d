// `aquant quantize` exit codes and messages for targets (PRODUCT.md: 0 met, 3 missed with the
// best model written, 2 usage error), on the bundled LeNet-5.
#include <unistd.h>

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

class QuantizeCli : public ::testing::Test {
protected:
    void SetUp() override {
        model_ = (fs::path(source_dir()) / "models" / "lenet5_fmnist.onnx").string();
        if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
            GTEST_SKIP() << "Fashion-MNIST (dataset-fashion-mnist) absent";
        }
        dir_ = fs::temp_directory_path() / ("aquant_qcli_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }
    std::string model_;
    fs::path dir_;
};

TEST_F(QuantizeCli, MissedTargetExitsThreeAndWritesTheBestModel) {
    const auto out = (dir_ / "miss.onnx").string();
    const CmdResult r = run_aquant("-q quantize " + model_ + " --target-acc 0.99 --max-evals 2 " +
                                   "--calib-samples 128 --limit 1000 -o " + out);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_THAT(r.err, HasSubstr("not met"));
    EXPECT_THAT(r.err, HasSubstr("reached"));
    EXPECT_TRUE(fs::exists(out));
    EXPECT_THAT(r.out, HasSubstr("NOT MET"));
}

TEST_F(QuantizeCli, MetTargetExitsZeroAndReportReadsBack) {
    const auto out = (dir_ / "met.onnx").string();
    const CmdResult r = run_aquant("-q quantize " + model_ + " --target-acc 0.85 --max-evals 4 " +
                                   "--calib-samples 128 --limit 1000 -o " + out +
                                   " --report " + (dir_ / "r.json").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("sensitiv."));
    const CmdResult rep = run_aquant("report " + out + " --json");
    ASSERT_EQ(rep.exit_code, 0) << rep.err;
    const auto j = nlohmann::json::parse(rep.out);
    EXPECT_EQ(j.at("allocation").at("target").at("kind"), "target-acc");
    EXPECT_GE(j.at("metrics").at("quantized").at("top1").get<double>(), 0.85);
    EXPECT_TRUE(fs::exists(dir_ / "r.json"));
}

TEST_F(QuantizeCli, TargetUsageErrorsExitTwo) {
    const auto out = (dir_ / "x.onnx").string();
    EXPECT_EQ(run_aquant("quantize " + model_ + " -o " + out).exit_code, 2);  // no target
    EXPECT_EQ(run_aquant("quantize " + model_ + " --bits 4 --avg-bits 4 -o " + out).exit_code, 2);
    const CmdResult size = run_aquant("quantize " + model_ + " --size 12parsecs -o " + out);
    EXPECT_EQ(size.exit_code, 2);
    EXPECT_THAT(size.err, HasSubstr("--size"));
    EXPECT_EQ(run_aquant("quantize " + model_ + " --avg-bits 4 --weight-bits 1,4 -o " + out)
                  .exit_code,
              2);
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(QuantizeCli, BatchRunsEveryJobAndGatesOnTheWorst) {
    fs::create_directories(dir_ / "out");
    {
        std::ofstream m(dir_ / "jobs.txt");
        m << "# two jobs that run and one that cannot\n\n"
          << model_ << " --target-acc 0.85 --max-evals 3 --limit 1000 --calib-samples 128 "
          << "-o 'out/met model.onnx'\n"
          << model_ << " --target-acc 0.99 --max-evals 2 --limit 1000 --calib-samples 128 "
          << "-o out/missed.onnx  # cannot be reached\n";
    }
    const CmdResult r = run_aquant("-q batch " + (dir_ / "jobs.txt").string() + " -o " +
                                   (dir_ / "summary.json").string());
    EXPECT_EQ(r.exit_code, 3) << r.err;  // a missed target, no failed job
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.at("jobs").size(), 2u);
    EXPECT_EQ(j.at("jobs")[0].at("status"), "met");
    EXPECT_EQ(j.at("jobs")[1].at("status"), "missed");
    EXPECT_EQ(j.at("met"), 1);
    EXPECT_EQ(j.at("missed"), 1);
    // Relative outputs land beside the manifest; quotes keep the space in the name.
    EXPECT_TRUE(fs::exists(dir_ / "out" / "met model.onnx"));
    EXPECT_TRUE(fs::exists(dir_ / "out" / "missed.onnx"));
    EXPECT_TRUE(fs::exists(dir_ / "summary.json"));

    {
        std::ofstream m(dir_ / "bad.txt");
        m << model_ << " --bits 4 -o out/ok.onnx --limit 500 --calib-samples 64\n"
          << "no_such_model.onnx --bits 4 -o out/x.onnx\n";
    }
    const CmdResult bad = run_aquant("-q batch " + (dir_ / "bad.txt").string());
    EXPECT_EQ(bad.exit_code, 1);  // a failed job beats a met one
    EXPECT_THAT(bad.err, HasSubstr("bad.txt:2"));
    EXPECT_THAT(bad.err, HasSubstr("no_such_model.onnx"));
    EXPECT_TRUE(fs::exists(dir_ / "out" / "ok.onnx"));  // the other job still ran
}

}  // namespace
}  // namespace aquant::test
