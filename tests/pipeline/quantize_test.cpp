// End-to-end `quantize --bits N` on the bundled LeNet-5 (Fashion-MNIST): accuracy of the written
// QDQ model as our engine measures it, provenance read back, atomic and reproducible output.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aquant/core/parallel.h"
#include "aquant/export/provenance.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/pipeline/quantize.h"

namespace aquant::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string bundled(const std::string& name) {
    return (fs::path(AQUANT_SOURCE_DIR) / "models" / (name + ".onnx")).string();
}

bool have_lenet() {
    return fs::exists(bundled("lenet5_fmnist")) &&
           fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
}

class QuantizeLenet : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_lenet()) GTEST_SKIP() << "models/lenet5_fmnist.onnx or Fashion-MNIST absent";
        dir_ = fs::temp_directory_path() / ("aquant_quantize_test_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }

    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    QuantizeOptions options(int bits, const std::string& out) const {
        QuantizeOptions o;
        o.model_path = bundled("lenet5_fmnist");
        o.output_path = (dir_ / out).string();
        o.bits = bits;
        o.eval.limit = 1000;  // the first 1,000 test images
        return o;
    }

    static std::string bytes_of(const std::string& path) {
        std::ifstream f(path, std::ios::binary);
        std::ostringstream s;
        s << f.rdbuf();
        return s.str();
    }

    fs::path dir_;
};

// Accuracy bounds from issue #5: W8A8 within 0.5 points of fp32, W4A8 within 2 points, both on
// all 10,000 test images (paired: the same samples through both models; on 1,000 images one
// point is 10 images, too coarse for a 0.5-point bound).
TEST_F(QuantizeLenet, W8A8StaysWithinHalfAPointOfFloat) {
    QuantizeOptions o = options(8, "w8.onnx");
    o.eval.limit.reset();
    const QuantizeResult r = quantize(o);
    ASSERT_TRUE(r.fp32.top1 && r.quantized.top1);
    EXPECT_EQ(r.quantized.samples, 10000);
    EXPECT_GE(*r.quantized.top1, *r.fp32.top1 - 0.005);
    EXPECT_GT(*r.quantized.agreement, 0.98);
    auto m = io::read_model((dir_ / "w8.onnx").string());
    EXPECT_EQ(m->opset(), 17);  // INT8 stays at the model's opset
    EXPECT_EQ(m->graph->value(*m->graph->find_value("conv1.weight_quantized")).initializer->dtype(),
              DType::kI8);
}

TEST_F(QuantizeLenet, W4A8IsPackedInt4AtOpset21WithinTwoPoints) {
    QuantizeOptions o4 = options(4, "w4.onnx");
    o4.eval.limit.reset();
    const QuantizeResult r = quantize(o4);
    EXPECT_GE(*r.quantized.top1, *r.fp32.top1 - 0.02);
    auto m = io::read_model((dir_ / "w4.onnx").string());
    EXPECT_EQ(m->opset(), 21);
    EXPECT_EQ(m->ir_version, 10);
    const Tensor& w = *m->graph->value(*m->graph->find_value("fc1.weight_quantized")).initializer;
    EXPECT_EQ(w.dtype(), DType::kI4);
    EXPECT_EQ(w.size_bytes(), 48000u / 2);
    // The report read back from metadata_props equals the one quantize returned.
    const nlohmann::json back = read_report((dir_ / "w4.onnx").string());
    EXPECT_EQ(back["plan"], r.report["plan"]);
    EXPECT_EQ(back["metrics"]["quantized"]["top1"].get<double>(), *r.quantized.top1);
    EXPECT_THAT(back["command"].get<std::string>(), HasSubstr("--bits 4"));
    const auto& layers = back["plan"]["layers"];
    ASSERT_EQ(layers.size(), 5u);
    for (const auto& l : layers) {
        EXPECT_EQ(l["weight_bits"], 4);
        EXPECT_EQ(l["storage"], "int4");
        EXPECT_GT(l["weight_sqnr_db"].get<double>(), 15.0);
    }
    bool upgraded = false;
    for (const auto& d : back["decisions"]) upgraded = upgraded || d["kind"] == "opset-upgrade";
    EXPECT_TRUE(upgraded);
    EXPECT_THAT(format_report(back), HasSubstr("/fc1/Gemm"));
}

TEST_F(QuantizeLenet, MaxOpset17StoresInt4AsInt8AndRecordsIt) {
    QuantizeOptions o = options(4, "w4_17.onnx");
    o.max_opset = 17;
    o.evaluate = false;
    quantize(o);
    auto m = io::read_model(o.output_path);
    EXPECT_EQ(m->opset(), 17);
    EXPECT_EQ(m->ir_version, 8);
    const Tensor& w = *m->graph->value(*m->graph->find_value("fc1.weight_quantized")).initializer;
    EXPECT_EQ(w.dtype(), DType::kI8);
    const std::string decisions = *m->metadata(qdq::kMetaDecisions);
    EXPECT_THAT(decisions, HasSubstr("int4-as-int8"));
    EXPECT_FALSE(m->metadata(qdq::kMetaMetrics).has_value());
}

TEST_F(QuantizeLenet, ExcludeAndOverrideShapeThePlan) {
    QuantizeOptions o = options(8, "mixed.onnx");
    o.evaluate = false;
    o.exclude = {"^/fc3/"};
    o.overrides = {{"fc", 4}, {"fc2", 3}};
    const QuantizeResult r = quantize(o);
    std::map<std::string, int> bits;
    for (const auto& l : r.report["plan"]["layers"]) bits[l["name"]] = l["weight_bits"];
    EXPECT_EQ(bits["/conv1/Conv"], 8);
    EXPECT_EQ(bits["/fc1/Gemm"], 4);
    EXPECT_EQ(bits["/fc2/Gemm"], 3);
    EXPECT_EQ(bits["/fc3/Gemm"], 0);
}

TEST_F(QuantizeLenet, SameJobGivesTheSameBytesForAnyThreadCount) {
    QuantizeOptions a = options(4, "a.onnx");
    QuantizeOptions b = options(4, "b.onnx");
    set_num_threads(1);
    quantize(a);
    set_num_threads(2);
    quantize(b);
    set_num_threads(0);
    const std::string x = bytes_of(a.output_path), y = bytes_of(b.output_path);
    EXPECT_GT(x.size(), 10000u);
    EXPECT_TRUE(x == y) << "outputs differ for 1 and 2 threads";
}

TEST_F(QuantizeLenet, NeverOverwritesTheInput) {
    QuantizeOptions o = options(8, "unused.onnx");
    o.output_path = o.model_path;
    try {
        quantize(o);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("is the input model"));
    }
    // No temporary file is left next to the output when the job fails early.
    o.output_path = (dir_ / "bad.onnx").string();
    o.weights.range = "nope";
    EXPECT_THROW(quantize(o), ConfigError);
    EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(QuantizeLenet, ErrorsNameTheFlag) {
    QuantizeOptions o = options(9, "x.onnx");
    try {
        quantize(o);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("--bits: weight bits 9"));
    }
    o = options(8, "x.onnx");
    o.overrides = {{"(", 4}};
    try {
        quantize(o);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("--override: invalid regular expression '('"));
    }
}

// mnist-8 (opset 8, raw 0..255 pixels, no sidecar): one data set split into calibration and
// evaluation rows, the opset converted to 13, the Reshape'd MatMul weight folded and quantized.
TEST(QuantizeShared, Mnist8WithOneDataSet) {
    const fs::path shared = fs::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models";
    if (!fs::exists(shared / "mnist8_zoo")) GTEST_SKIP() << "../shared/models absent";
    const fs::path out = fs::temp_directory_path() / ("aquant_mnist8_" + std::to_string(::getpid()) + ".onnx");
    QuantizeOptions o;
    o.model_path = (shared / "mnist8_zoo" / "model.onnx").string();
    o.output_path = out.string();
    o.bits = 8;
    o.eval.path = (shared / "mnist-test" / "t10k-images-idx3-ubyte.gz").string();
    o.eval.limit = 1512;
    o.calib_samples = 512;
    o.batch = 16;
    const QuantizeResult r = quantize(o);
    fs::remove(out);
    EXPECT_EQ(r.quantized.samples, 1000);
    EXPECT_GE(*r.quantized.top1, *r.fp32.top1 - 0.005);
    std::map<std::string, int> bits;
    for (const auto& l : r.report["plan"]["layers"]) bits[l["op"]] += l["weight_bits"].get<int>();
    EXPECT_EQ(bits["MatMul"], 8);
    bool converted = false;
    for (const auto& d : r.report["decisions"]) converted = converted || d["kind"] == "opset-convert";
    EXPECT_TRUE(converted);
}

}  // namespace
}  // namespace aquant::pipeline
