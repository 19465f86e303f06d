// End-to-end runs of the real models in ../shared/models (outside the repo; skipped when
// absent) against the reference outputs stored with them. Tolerance: ONNX's backend-test
// allclose (rtol 1e-3, atol 1e-5).
#include "aquant/core/parallel.h"
#include "aquant/data/npz.h"
#include "aquant/engine/executor.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/io/tensor_pb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace aquant::engine {
namespace {

fs::path models_dir() {
    return fs::path(AQUANT_SOURCE_DIR) / ".." / "shared" / "models";
}

void expect_allclose(const Tensor& want, const Tensor& got, const std::string& what) {
    ASSERT_EQ(want.dims(), got.dims()) << what;
    int bad = 0;
    for (std::int64_t i = 0; i < want.numel(); ++i) {
        const double w = want.get_f64(i), g = got.get_f64(i);
        if (std::abs(w - g) > 1e-5 + 1e-3 * std::abs(w) && bad++ < 5) {
            ADD_FAILURE() << what << " at " << i << ": expected " << w << ", got " << g;
        }
    }
    EXPECT_EQ(bad, 0) << what;
}

TEST(RealModels, Mnist8MatchesStoredOutputsWithBoundedMemory) {
    const fs::path dir = models_dir() / "mnist8_zoo";
    if (!fs::exists(dir / "model.onnx")) {
        GTEST_SKIP() << dir << " is absent";
    }
    auto model = io::read_model((dir / "model.onnx").string());
    Executor exec(model);
    const std::string input = model->graph->value(model->graph->real_inputs().at(0)).name;
    for (const char* set : {"test_data_set_0", "test_data_set_1"}) {
        const Tensor x = io::read_tensor_pb((dir / set / "input_0.pb").string());
        const Tensor want = io::read_tensor_pb((dir / set / "output_0.pb").string());
        const auto out = exec.run({{input, x}});
        expect_allclose(want, out.at(0), set);
    }
    // A chain-like CNN: only a few intermediates are alive at any time.
    const RunStats& s = exec.last_run_stats();
    EXPECT_GE(s.nodes_run, 10);
    EXPECT_LE(s.peak_live_values, 4) << "nodes run: " << s.nodes_run;
}

TEST(RealModels, Mnist8IdenticalForOneAndTwoThreads) {
    const fs::path dir = models_dir() / "mnist8_zoo";
    if (!fs::exists(dir / "model.onnx")) {
        GTEST_SKIP() << dir << " is absent";
    }
    auto model = io::read_model((dir / "model.onnx").string());
    Executor exec(model);
    const std::string input = model->graph->value(model->graph->real_inputs().at(0)).name;
    const Tensor x = io::read_tensor_pb((dir / "test_data_set_0" / "input_0.pb").string());
    const int before = num_threads();
    set_num_threads(1);
    const Tensor one = exec.run({{input, x}}).at(0);
    set_num_threads(2);
    const Tensor two = exec.run({{input, x}}).at(0);
    set_num_threads(before);
    EXPECT_TRUE(one.same_as(two));
}

TEST(RealModels, LstmSentenceSplitterMatchesStoredOutputs) {
    const fs::path dir = models_dir() / "lstm_tract_sb";
    if (!fs::exists(dir / "model.onnx")) {
        GTEST_SKIP() << dir << " is absent";
    }
    auto model = io::read_model((dir / "model.onnx").string());
    data::NpzArchive io((dir / "io.npz").string());
    Executor exec(model);
    const auto out = exec.run({{"input", io.read("input")}});
    // io.npz names the reference after the producing node, 'Add_26'; its output is 'output'.
    expect_allclose(io.read("Add_26"), out.at(0), "output");
}

}  // namespace
}  // namespace aquant::engine
