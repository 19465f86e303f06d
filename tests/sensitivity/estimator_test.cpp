#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aquant/data/dataset.h"
#include "aquant/data/sidecar.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/ir/layers.h"
#include "aquant/sensitivity/estimator.h"

namespace aquant::sensitivity {
namespace {

namespace fs = std::filesystem;

const fs::path kLeNet = fs::path(AQUANT_SOURCE_DIR) / "models" / "lenet5_fmnist.onnx";

// 256 Fashion-MNIST training images, preprocessed as the sidecar says.
std::vector<CalibBatch> calib_batches(const ir::Graph& g) {
    const auto sc = data::find_sidecar(kLeNet.string());
    auto spec = *sc->calib;
    spec.preprocess = sc->preprocess;
    spec.inputs = data::model_input_specs(g);
    spec.limit = 256;
    const auto ds = data::open_dataset(spec);
    std::vector<CalibBatch> out;
    data::for_each_batch(*ds, 128, [&](const data::Batch& b) {
        out.push_back({b.inputs, b.labels});
    });
    return out;
}

// A fragile layer with the fp32 function kept: unit 0 of the layer before is made dead (bias
// -1e4 after its Gemm, so ReLU always gives 0), and the damaged layer's weights reading that unit
// get 50x the largest |w| of their row. The fp32 outputs do not change (the unit is 0), but at
// 2-3 bits every row's scale is set by the unused outlier and every other weight rounds to 0.
void damage(ir::Graph& g, const ir::Layer& before, const ir::Layer& layer) {
    const ir::Node& prev = g.node(before.node);
    Tensor& bias = *g.value(prev.inputs.at(2)).initializer;
    bias = bias.clone();
    bias.data<float>()[0] = -1e4f;
    Tensor& w = *g.value(layer.weight_source).initializer;  // Gemm transB=1: [out, in]
    w = w.clone();
    const std::int64_t rows = w.dim(0);
    const std::int64_t cols = w.dim(1);
    float* d = w.data<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
        float mx = 0;
        for (std::int64_t c = 0; c < cols; ++c) mx = std::max(mx, std::fabs(d[r * cols + c]));
        d[r * cols] = 50.0f * mx;
    }
}

class Estimators : public ::testing::TestWithParam<std::string> {};

TEST_P(Estimators, RankDeliberatelyDamagedLayerFirst) {
    if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    }
    auto model = io::read_model(kLeNet.string());
    const auto layers = ir::quantizable_layers(*model->graph);
    ASSERT_EQ(layers.size(), 5u);
    const std::size_t damaged = 3;  // /fc2/Gemm [84,120]
    damage(*model->graph, layers[damaged - 1], layers[damaged]);
    EstimatorInput in;
    in.model = model;
    in.layers = layers;
    in.calib = calib_batches(*model->graph);
    in.candidate_bits = {2, 3, 4, 8};
    const auto table = make_estimator(GetParam())->estimate(in);
    ASSERT_EQ(table.layers.size(), layers.size());
    // At 3 and 4 bits. (At 2 bits the ternary first convolutions legitimately compete: the
    // weight-error proxies (adaptive, mmse) rank conv1/conv2 above the damaged layer there.)
    for (int k = 1; k < 3; ++k) {
        std::size_t worst = 0;
        for (std::size_t l = 0; l < table.layers.size(); ++l) {
            ASSERT_EQ(table.layers[l].cost.size(), 4u);
            if (table.layers[l].cost[k] > table.layers[worst].cost[k]) worst = l;
        }
        EXPECT_EQ(worst, damaged) << GetParam() << " at " << in.candidate_bits[k] << " bits";
    }
    // More bits never cost more weight error, and the stored size grows with the bits.
    for (const auto& l : table.layers) {
        for (std::size_t k = 1; k < 4; ++k) {
            EXPECT_LE(l.weight_error[k], l.weight_error[k - 1] * (1 + 1e-9)) << l.name;
            EXPECT_GT(l.size_bits[k], l.size_bits[k - 1]) << l.name;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(All, Estimators, ::testing::Values("adaptive", "mmse", "loss-aware"));

TEST(Estimators, UnknownNameListsValidOnes) {
    try {
        make_estimator("mmes");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("unknown estimator 'mmes'; valid: adaptive"));
    }
}

}  // namespace
}  // namespace aquant::sensitivity
