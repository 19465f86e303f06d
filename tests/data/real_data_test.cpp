// Real data sets: Fashion-MNIST from Debian, the MNIST test split and the ONNX model zoo test
// data in ../shared/models. Expected values come from the raw files via zlib here, never from
// the readers under test.
#include "data_test_util.h"

#include "aquant/data/dataset.h"
#include "aquant/data/npz.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <zlib.h>

namespace aquant::data {
namespace {

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

// Whole decompressed file, read with zlib directly.
std::string gunzip(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    EXPECT_NE(f, nullptr) << path;
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof(buf))) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    return out;
}

std::uint32_t be32(const std::string& b, std::size_t off) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[off])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[off + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[off + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[off + 3]));
}

// Reads the test split with preprocessing and checks it against the raw bytes.
void check_idx_test_split(const std::string& images, const std::string& labels, double mean,
                          double stdv) {
    const std::string raw_images = gunzip(images);
    const std::string raw_labels = gunzip(labels);
    ASSERT_EQ(be32(raw_images, 0), 0x00000803u);
    ASSERT_EQ(be32(raw_labels, 0), 0x00000801u);
    const std::int64_t n = be32(raw_images, 4);

    DataSpec spec;
    spec.path = images;  // labels found by the images-idx3 -> labels-idx1 rule
    spec.inputs = {InputSpec{"input", DType::kF32, Dims{-1, 1, 28, 28}}};
    spec.preprocess = Preprocess{1.0 / 255.0, {mean}, {stdv}, Layout::kNCHW};
    const DatasetPtr ds = open_dataset(spec);
    ASSERT_EQ(ds->size(), 10000);
    ASSERT_EQ(n, 10000);
    ASSERT_TRUE(ds->has_labels());

    std::array<std::int64_t, 10> counts{};
    std::array<std::int64_t, 10> raw_counts{};
    std::int64_t checked_pixels = 0;
    for_each_batch(*ds, 1024, [&](const Batch& b) {
        const Tensor& x = b.inputs.at("input");
        ASSERT_EQ(dims_str(x.dims()), "[" + std::to_string(b.size()) + ",1,28,28]");
        const auto* lab = b.labels->data<std::int64_t>();
        for (std::int64_t i = 0; i < b.size(); ++i) {
            const auto want = static_cast<unsigned char>(raw_labels[8 + b.first_index + i]);
            ASSERT_EQ(lab[i], want) << "sample " << b.first_index + i;
            ASSERT_LT(lab[i], 10);
            ++counts[static_cast<std::size_t>(lab[i])];
            ++raw_counts[want];
        }
        // Preprocessing math on a spread of pixels of every batch (tolerance: float32 vs
        // double reference, 1e-6 relative + 1e-6 absolute).
        for (std::int64_t k = 0; k < x.numel(); k += 997) {
            const double p = static_cast<unsigned char>(raw_images[16 + b.first_index * 784 + k]);
            const double want = (p / 255.0 - mean) / stdv;
            ASSERT_NEAR(x.data<float>()[k], want, 1e-6 * std::fabs(want) + 1e-6) << k;
            ++checked_pixels;
        }
    });
    EXPECT_EQ(counts, raw_counts);
    EXPECT_GT(checked_pixels, 7000);
    // The first label, as python's gzip + numpy would read it.
    EXPECT_EQ(ds->read(0, 1).labels->data<std::int64_t>()[0],
              static_cast<unsigned char>(raw_labels[8]));
}

TEST(RealData, FashionMnistTestSplit) {
    const std::string images = kFashionDir + "/t10k-images-idx3-ubyte.gz";
    if (!std::filesystem::exists(images)) {
        GTEST_SKIP() << images << " is absent (Debian package dataset-fashion-mnist)";
    }
    check_idx_test_split(images, kFashionDir + "/t10k-labels-idx1-ubyte.gz", 0.2860, 0.3530);
    // Fashion-MNIST's test split is balanced: 1000 images per class.
    const std::string raw_labels = gunzip(kFashionDir + "/t10k-labels-idx1-ubyte.gz");
    DataSpec spec;
    spec.path = images;
    const DatasetPtr ds = open_dataset(spec);
    const Batch all = ds->read(0, ds->size());
    std::array<int, 10> counts{};
    for (std::int64_t i = 0; i < all.size(); ++i)
        ++counts[all.labels->data<std::int64_t>()[i]];
    for (int c : counts)
        EXPECT_EQ(c, 1000);
}

TEST(RealData, MnistTestSplit) {
    const std::string dir = testing::shared_models_dir() + "/mnist-test";
    if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
        GTEST_SKIP() << dir << " is absent";
    }
    check_idx_test_split(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz",
                         0.1307, 0.3081);
}

TEST(RealData, ModelZooTestDataSets) {
    const std::string dir = testing::shared_models_dir() + "/mnist8_zoo";
    if (!std::filesystem::exists(dir + "/test_data_set_0"))
        GTEST_SKIP() << dir << " is absent";
    DataSpec spec;
    spec.path = dir;
    spec.inputs = {InputSpec{"Input3", DType::kF32, Dims{1, 1, 28, 28}}};
    const DatasetPtr ds = open_dataset(spec);
    ASSERT_EQ(ds->size(), 2);
    const Batch b = ds->read(0, 2);
    const Tensor& x = b.inputs.at("Input3");
    EXPECT_EQ(dims_str(x.dims()), "[2,1,28,28]");
    // Raw pixel values 0..255 (README: no scaling), with some ink in each image.
    for (std::int64_t s = 0; s < 2; ++s) {
        float mx = 0;
        for (std::int64_t i = 0; i < 784; ++i) {
            const float v = x.data<float>()[s * 784 + i];
            ASSERT_GE(v, 0.0f);
            ASSERT_LE(v, 255.0f);
            mx = std::max(mx, v);
        }
        EXPECT_GT(mx, 1.0f) << s;
    }
    ASSERT_EQ(b.reference_outputs.size(), 1u);
    EXPECT_EQ(dims_str(b.reference_outputs.begin()->second.dims()), "[2,10]");
}

TEST(RealData, TractLstmIoNpz) {
    const std::string path = testing::shared_models_dir() + "/lstm_tract_sb/io.npz";
    if (!std::filesystem::exists(path))
        GTEST_SKIP() << path << " is absent";
    const NpzArchive npz(path);
    ASSERT_TRUE(npz.contains("input")) << npz.names_str();
    const Tensor in = npz.read("input");
    EXPECT_EQ(in.dtype(), DType::kU8);
    EXPECT_EQ(dims_str(in.dims()), "[2,58]");
    const Tensor out = npz.read("Add_26");
    EXPECT_EQ(out.dtype(), DType::kF32);
    EXPECT_EQ(dims_str(out.dims()), "[2,58,2]");
    // Streaming rows agree with the whole array.
    const Tensor row1 = npz.rows("Add_26").read_rows(1, 1);
    for (std::int64_t i = 0; i < row1.numel(); ++i) {
        ASSERT_EQ(row1.data<float>()[i], out.data<float>()[116 + i]);
    }
}

}  // namespace
}  // namespace aquant::data
