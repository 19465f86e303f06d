#include "aquant/data/sidecar.h"

#include "data_test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace aquant::data {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::write_bytes;

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

const char* const kFashionDir = "/usr/share/datasets/fashion-mnist";

// The sidecar tools/gen_models/train_fashion.py writes for lenet5_fmnist.
const char* const kLenetSidecar = R"({
  "model": "lenet5_fmnist.onnx", "task": "classification", "input": "input", "output": "logits",
  "data": { "format": "idx",
    "calib": {"images": "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
              "labels": "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"},
    "eval": {"images": "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
             "labels": "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"} },
  "preprocess": {"scale": 0.00392156862745098, "mean": [0.2860], "std": [0.3530],
                 "layout": "NCHW"},
  "fp32_top1": 0.9012 })";

TEST(Sidecar, FindsAndParsesTheBundledModelSchema) {
    TempDir tmp;
    write_bytes(tmp.file("lenet5_fmnist.aquant.json"), kLenetSidecar);
    const auto s = find_sidecar(tmp.file("lenet5_fmnist.onnx"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, tmp.file("lenet5_fmnist.aquant.json"));
    EXPECT_EQ(s->model, tmp.file("lenet5_fmnist.onnx"));
    EXPECT_EQ(s->task, "classification");
    EXPECT_EQ(s->input, "input");
    EXPECT_EQ(s->output, "logits");
    ASSERT_TRUE(s->fp32_top1.has_value());
    EXPECT_DOUBLE_EQ(*s->fp32_top1, 0.9012);
    EXPECT_DOUBLE_EQ(*s->preprocess.scale, 1.0 / 255.0);
    EXPECT_THAT(s->preprocess.mean, ElementsAre(0.2860));
    EXPECT_THAT(s->preprocess.std, ElementsAre(0.3530));
    EXPECT_EQ(s->preprocess.layout, Layout::kNCHW);
    ASSERT_TRUE(s->calib && s->eval);
    EXPECT_EQ(s->calib->format, DataFormat::kIdx);
    EXPECT_EQ(s->calib->path, std::string(kFashionDir) + "/train-images-idx3-ubyte.gz");
    EXPECT_EQ(s->eval->labels_path, std::string(kFashionDir) + "/t10k-labels-idx1-ubyte.gz");
    EXPECT_DOUBLE_EQ(*s->eval->preprocess.scale, 1.0 / 255.0);
    ASSERT_EQ(s->eval->inputs.size(), 1u);
    EXPECT_EQ(s->eval->inputs[0].name, "input");
    // find_sidecar also accepts the path without ".onnx" and finds nothing for other models.
    EXPECT_TRUE(find_sidecar(tmp.file("lenet5_fmnist")).has_value());
    EXPECT_FALSE(find_sidecar(tmp.file("resnet_fmnist.onnx")).has_value());
}

TEST(Sidecar, RelativePathsAndPlainStringEntries) {
    TempDir tmp;
    std::filesystem::create_directory(tmp.file("models"));
    write_bytes(tmp.file("models/m.aquant.json"),
                R"({"model": "m.onnx", "input": "x",
                    "data": {"calib": "../data/calib.npz",
                             "eval": {"path": "/abs/eval", "labels": "y.npy"}}})");
    const Sidecar s = read_sidecar(tmp.file("models/m.aquant.json"));
    EXPECT_EQ(s.calib->path, tmp.file("models/../data/calib.npz"));
    EXPECT_EQ(s.calib->format, DataFormat::kAuto);
    EXPECT_EQ(s.eval->path, "/abs/eval");
    EXPECT_EQ(s.eval->labels_path, tmp.file("models/y.npy"));
    EXPECT_FALSE(s.preprocess.active());
    EXPECT_FALSE(s.fp32_top1.has_value());
}

TEST(SidecarErrors, BadJsonAndBadValuesNameTheFile) {
    TempDir tmp;
    write_bytes(tmp.file("a.aquant.json"), "{ \"model\": ");
    EXPECT_THROW(read_sidecar(tmp.file("a.aquant.json")), DataError);
    EXPECT_THAT(error_of([&] { read_sidecar(tmp.file("a.aquant.json")); }),
                AllOf(HasSubstr("a.aquant.json"), HasSubstr("invalid JSON")));
    write_bytes(tmp.file("b.aquant.json"), R"({"preprocess": {"layout": "CHW"}})");
    EXPECT_THAT(error_of([&] { read_sidecar(tmp.file("b.aquant.json")); }),
                AllOf(HasSubstr("b.aquant.json"), HasSubstr("unknown layout 'CHW'")));
    write_bytes(tmp.file("c.aquant.json"), R"({"data": {"format": "csv", "eval": "x"}})");
    EXPECT_THAT(error_of([&] { read_sidecar(tmp.file("c.aquant.json")); }),
                HasSubstr("unknown format 'csv'"));
    write_bytes(tmp.file("d.aquant.json"), R"({"preprocess": {"mean": ["a"]}})");
    EXPECT_THAT(error_of([&] { read_sidecar(tmp.file("d.aquant.json")); }),
                HasSubstr("'mean' must hold numbers"));
    EXPECT_THROW(read_sidecar(tmp.file("missing.aquant.json")), IoError);
}

TEST(Sidecar, EvalSpecOpensFashionMnist) {
    if (!std::filesystem::exists(std::string(kFashionDir) + "/t10k-images-idx3-ubyte.gz")) {
        GTEST_SKIP() << kFashionDir << " is absent (Debian package dataset-fashion-mnist)";
    }
    TempDir tmp;
    write_bytes(tmp.file("lenet5_fmnist.aquant.json"), kLenetSidecar);
    const auto s = find_sidecar(tmp.file("lenet5_fmnist.onnx"));
    DataSpec spec = *s->eval;
    spec.inputs = {InputSpec{"input", DType::kF32, Dims{-1, 1, 28, 28}}};
    spec.limit = 100;
    const DatasetPtr ds = open_dataset(spec);
    EXPECT_EQ(ds->size(), 100);
    EXPECT_TRUE(ds->has_labels());
    EXPECT_EQ(dims_str(ds->read(0, 8).inputs.at("input").dims()), "[8,1,28,28]");
}

}  // namespace
}  // namespace aquant::data
