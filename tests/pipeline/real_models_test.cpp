// Third-party models from ../shared/models run through the library (skipped when absent).
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "aquant/core/parallel.h"
#include "aquant/data/npz.h"
#include "aquant/pipeline/runner.h"

namespace aquant::pipeline {
namespace {

namespace fs = std::filesystem;

fs::path shared_models() { return fs::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models"; }

// Issue #3: tract's bidirectional LSTM sentence splitter reproduces io.npz (Add_26 from input).
// Tolerance 1e-4 absolute: outputs are O(1) sums of sigmoid/tanh products over 58 steps.
TEST(RealModels, LstmTractReproducesIoNpz) {
    const auto dir = shared_models() / "lstm_tract_sb";
    if (!fs::exists(dir)) GTEST_SKIP() << "../shared/models absent";
    ModelRunner runner = ModelRunner::from_file((dir / "model.onnx").string());
    data::NpzArchive io((dir / "io.npz").string());
    const Tensor input = io.read("input");
    const Tensor expected = io.read("Add_26");
    const auto outs = runner.run({{"input", input}});
    const std::size_t k = 0;  // the graph output 'output'; io.npz stores it as 'Add_26'
    ASSERT_EQ(runner.output_names().size(), 1u);
    ASSERT_EQ(outs[k].dims(), expected.dims());
    const auto got = outs[k].to_f64();
    const auto want = expected.to_f64();
    double max_diff = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(got[i] - want[i]));
    }
    EXPECT_LE(max_diff, 1e-4);
}

// Thread count never changes results: mnist-8 logits bit-identical for 1 and 2 threads.
TEST(RealModels, OutputsIdenticalForAnyThreadCount) {
    const auto path = shared_models() / "mnist_onnx2c_pytorch" / "model.onnx";
    if (!fs::exists(path)) GTEST_SKIP() << "../shared/models absent";
    ModelRunner runner = ModelRunner::from_file(path.string());
    Tensor x(DType::kF32, {1, 784});
    for (std::int64_t i = 0; i < x.numel(); ++i) {
        x.data<float>()[i] = static_cast<float>((i * 37) % 255) / 255.0f;
    }
    const std::string name = runner.graph().value(runner.graph().real_inputs()[0]).name;
    set_num_threads(1);
    const auto a = runner.run({{name, x}});
    set_num_threads(2);
    const auto b = runner.run({{name, x}});
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].same_as(b[i]));
}

}  // namespace
}  // namespace aquant::pipeline
