// `quantize` with a target (issue #6) on the bundled LeNet-5 and Fashion-MNIST: an accuracy
// target is met on the evaluation split as an independent `eval` of the written file measures
// it, a budget is respected, a missed target is reported (and the best model still written), a
// profile re-allocates without re-measuring, a dry run writes nothing, outputs are reproducible.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aquant/export/provenance.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/pipeline/quantize.h"
#include "aquant/pipeline/sensitivity.h"

namespace aquant::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string bundled(const std::string& name) {
    return (fs::path(AQUANT_SOURCE_DIR) / "models" / (name + ".onnx")).string();
}

class QuantizeTarget : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(bundled("lenet5_fmnist")) ||
            !fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
            GTEST_SKIP() << "models/lenet5_fmnist.onnx or Fashion-MNIST (dataset-fashion-mnist) "
                            "absent";
        }
        dir_ = fs::temp_directory_path() / ("aquant_target_test_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    QuantizeOptions options(const std::string& out) const {
        QuantizeOptions o;
        o.model_path = bundled("lenet5_fmnist");
        o.output_path = (dir_ / out).string();
        o.calib_samples = 256;
        o.eval.limit = 2000;  // the first 2,000 test images
        o.max_evals = 8;
        return o;
    }

    // Top-1 of a written model on the same evaluation images, measured by `eval`'s code path.
    double eval_top1(const std::string& path) const {
        EvalOptions e;
        e.model_path = path;
        e.data.path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
        e.data.labels_path = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
        e.data.scale = 1.0 / 255;
        e.data.mean = {0.2860};
        e.data.std = {0.3530};
        e.data.limit = 2000;
        return evaluate(e).top1.value();
    }

    static std::string bytes_of(const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        std::ostringstream s;
        s << f.rdbuf();
        return s.str();
    }

    fs::path dir_;
};

TEST_F(QuantizeTarget, AccuracyTargetIsMetOnTheEvalSplitWithFewerBitsThanEight) {
    // fp32 LeNet is 90.25 % on all 10,000 test images; ask for at most one point less.
    QuantizeOptions o = options("acc.onnx");
    o.max_drop = 0.01;
    const QuantizeResult r = quantize(o);
    ASSERT_TRUE(r.fp32.top1 && r.quantized.top1);
    const double goal = *r.fp32.top1 - 0.01;
    EXPECT_TRUE(r.target_met) << r.target_message;
    EXPECT_GE(*r.quantized.top1, goal);
    // An independent evaluation of the file on disk agrees with what quantize reported.
    const double measured = eval_top1(o.output_path);
    EXPECT_DOUBLE_EQ(measured, *r.quantized.top1);
    EXPECT_GE(measured, goal);
    // The search found something smaller than 8 bits everywhere (uniform 4-bit already meets
    // a one-point drop on LeNet: 89.79 % on 10,000 images).
    const auto& totals = r.report.at("plan").at("totals");
    EXPECT_LT(totals.at("avg_weight_bits").get<double>(), 5.0);
    EXPECT_GT(totals.at("avg_weight_bits").get<double>(), 2.0);
    const auto& alloc = r.report.at("allocation");
    EXPECT_EQ(alloc.at("allocator"), kDefaultAllocator);
    EXPECT_GE(alloc.at("search").size(), 3u);
    EXPECT_EQ(alloc.at("target").at("met"), true);
    // Every layer carries its sensitivity at the chosen bits.
    for (const auto& l : alloc.at("layers")) EXPECT_TRUE(l.contains("cost")) << l.dump();
    EXPECT_THAT(format_report(r.report), HasSubstr("sensitiv."));
}

TEST_F(QuantizeTarget, UnreachableTargetWritesTheBestModelAndSaysWhatItReached) {
    QuantizeOptions o = options("miss.onnx");
    o.target_acc = 0.99;  // LeNet on Fashion-MNIST cannot reach this
    o.max_evals = 2;
    const QuantizeResult r = quantize(o);
    EXPECT_FALSE(r.target_met);
    EXPECT_THAT(r.target_message, HasSubstr("not met"));
    EXPECT_THAT(r.target_message, HasSubstr("--exclude"));
    ASSERT_TRUE(fs::exists(o.output_path));
    // The best candidate is the largest one: every layer at 8 bits.
    for (const auto& l : r.report.at("plan").at("layers")) EXPECT_EQ(l.at("weight_bits"), 8);
    EXPECT_EQ(r.report.at("metrics").at("target").at("met"), false);
}

TEST_F(QuantizeTarget, BudgetsAreRespectedForEveryAllocator) {
    for (const std::string alloc : {"adaptive", "mmse", "loss-aware"}) {
        QuantizeOptions o = options("avg_" + alloc + ".onnx");
        o.allocator = alloc;
        o.avg_bits = 3.5;
        o.act_bits = 0;  // weight-only: faster, the budget is about weights
        const QuantizeResult r = quantize(o);
        const auto& totals = r.report.at("plan").at("totals");
        // avg-bits bounds the stored bits per weight including fp32 scales (allocator.h).
        const double packed_bits = 8.0 * totals.at("bytes_packed").get<double>();
        const double params = totals.at("params").get<double>();
        EXPECT_LE(r.report.at("allocation").at("avg_size_bits").get<double>(), 3.5) << alloc;
        EXPECT_LE(totals.at("avg_weight_bits").get<double>(), 3.5) << alloc;
        EXPECT_GT(totals.at("avg_weight_bits").get<double>(), 2.5) << alloc;
        // Packed bytes count codes, scales, zero points and the float bias: a little above.
        EXPECT_LT(packed_bits / params, 3.5 + 1.0) << alloc;
    }
    QuantizeOptions o = options("size.onnx");
    o.size_bytes = 30000;
    o.act_bits = 0;
    const QuantizeResult r = quantize(o);
    EXPECT_LE(r.report.at("allocation").at("avg_size_bits").get<double>() *
                  r.report.at("plan").at("totals").at("params").get<double>() / 8.0,
              30000.0);
}

TEST_F(QuantizeTarget, ProfileReallocatesWithoutMeasuringAndMustMatchTheModel) {
    SensitivityOptions so;
    so.model_path = bundled("lenet5_fmnist");
    so.estimator = "loss-aware";
    so.calib_samples = 256;
    so.output_path = (dir_ / "lenet.profile.json").string();
    const auto table = measure_sensitivity(so);
    ASSERT_EQ(table.layers.size(), 5u);
    ASSERT_EQ(table.layers[0].top1_drop.size(), table.candidate_bits.size());

    QuantizeOptions measured = options("measured.onnx");
    measured.avg_bits = 3.0;
    measured.act_bits = 0;
    QuantizeOptions reused = measured;
    reused.output_path = (dir_ / "reused.onnx").string();
    reused.profile_path = so.output_path;
    const QuantizeResult a = quantize(measured);
    const QuantizeResult b = quantize(reused);
    // Same estimator, same calibration samples: the same plan.
    std::vector<int> bits_a, bits_b;
    for (const auto& l : a.report.at("plan").at("layers")) bits_a.push_back(l.at("weight_bits"));
    for (const auto& l : b.report.at("plan").at("layers")) bits_b.push_back(l.at("weight_bits"));
    EXPECT_EQ(bits_a, bits_b);
    EXPECT_EQ(b.report.at("allocation").at("profile"), "lenet.profile.json");
    EXPECT_LT(b.report.at("seconds").at("sensitivity").get<double>(),
              a.report.at("seconds").at("sensitivity").get<double>());

    // A profile of another model is refused, naming the profile.
    QuantizeOptions other = reused;
    other.model_path = bundled("resnet_fmnist");
    other.output_path = (dir_ / "other.onnx").string();
    try {
        quantize(other);
        FAIL() << "a LeNet profile was accepted for ResNet";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("lenet.profile.json"));
    }
    EXPECT_FALSE(fs::exists(other.output_path));
    // So is one measured with another weight quantizer.
    QuantizeOptions minmax = reused;
    minmax.weights.range = "minmax";
    EXPECT_THROW(quantize(minmax), ConfigError);
}

TEST_F(QuantizeTarget, DryRunWritesNothingAndPredicts) {
    QuantizeOptions o = options("dry.onnx");
    o.avg_bits = 3.0;
    o.dry_run = true;
    const QuantizeResult r = quantize(o);
    EXPECT_FALSE(fs::exists(o.output_path));
    EXPECT_TRUE(r.report.at("dry_run").get<bool>());
    const auto& pred = r.report.at("predicted");
    ASSERT_TRUE(pred.contains("metric"));
    // Predicted from the fp32 metric on the evaluation images minus per-layer drops.
    EXPECT_LE(pred.at("metric").get<double>(), 0.9025 + 0.02);
    EXPECT_GT(pred.at("metric").get<double>(), 0.5);
    EXPECT_GT(pred.at("bytes_packed").get<std::int64_t>(), 0);
    EXPECT_THAT(format_report(r.report), HasSubstr("dry run: nothing written"));

    QuantizeOptions t = options("dry2.onnx");
    t.target_acc = 0.89;
    t.dry_run = true;
    const QuantizeResult rt = quantize(t);
    EXPECT_FALSE(fs::exists(t.output_path));
    EXPECT_GE(rt.report.at("predicted").at("metric").get<double>(), 0.89);
}

TEST_F(QuantizeTarget, SameInputsGiveTheSameBytes) {
    QuantizeOptions o = options("r1.onnx");
    o.max_drop = 0.02;
    o.max_evals = 4;
    quantize(o);
    QuantizeOptions o2 = o;
    o2.output_path = (dir_ / "r2.onnx").string();
    quantize(o2);
    EXPECT_EQ(bytes_of(o.output_path), bytes_of(o2.output_path));
}

TEST_F(QuantizeTarget, BadTargetsAreUsageErrors) {
    QuantizeOptions two = options("x.onnx");
    two.bits = 4;
    two.avg_bits = 4;
    EXPECT_THROW(quantize(two), ConfigError);
    QuantizeOptions none = options("x.onnx");
    EXPECT_THROW(quantize(none), ConfigError);
    QuantizeOptions acc = options("x.onnx");
    acc.target_acc = 91;  // a percentage, not a fraction
    try {
        quantize(acc);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("--target-acc"));
    }
    QuantizeOptions est = options("x.onnx");
    est.avg_bits = 4;
    est.allocator = "adaptive";
    est.estimator = "mmse";
    EXPECT_THROW(quantize(est), ConfigError);
    QuantizeOptions alloc = options("x.onnx");
    alloc.avg_bits = 4;
    alloc.allocator = "greedy";
    try {
        quantize(alloc);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("loss-aware"));  // lists the valid names
    }
    EXPECT_FALSE(fs::exists(dir_ / "x.onnx"));
}

}  // namespace
}  // namespace aquant::pipeline
