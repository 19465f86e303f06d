#include "aquant/data/dataset.h"

#include "data_test_util.h"

#include "aquant/data/idx.h"
#include "aquant/data/npy.h"
#include "aquant/data/npz.h"
#include "aquant/io/tensor_pb.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace aquant::data {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using testing::expect_matches;
using testing::expected_json;
using testing::fixture;
using ::testing::HasSubstr;
using testing::TempDir;

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::vector<std::int64_t> labels_of(const Batch& b) {
    const Tensor& l = *b.labels;
    return std::vector<std::int64_t>(l.data<std::int64_t>(), l.data<std::int64_t>() + l.numel());
}

std::vector<std::int64_t> json_ints(const nlohmann::json& rec, std::size_t begin, std::size_t n) {
    std::vector<std::int64_t> out;
    for (std::size_t i = begin; i < begin + n; ++i)
        out.push_back(rec["values"][i].get<std::int64_t>());
    return out;
}

Tensor idx_images(std::int64_t n) {
    Tensor t(DType::kU8, {n, 4, 4});
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i % 251);
    return t;
}

Tensor idx_labels(std::int64_t n) {
    Tensor t(DType::kU8, {n});
    for (std::int64_t i = 0; i < n; ++i)
        t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 3) % 10);
    return t;
}

TEST(Dataset, NpzFeedsModelInputsByNameWithInt64Labels) {
    for (const char* name : {"stored.npz", "deflated.npz"}) {
        SCOPED_TRACE(name);
        DataSpec spec;
        spec.path = fixture(name);
        spec.inputs = {InputSpec{"x", DType::kU8, Dims{-1, 2, 3}},
                       InputSpec{"aux", DType::kF32, Dims{-1, 4}}};
        const DatasetPtr ds = open_dataset(spec);
        EXPECT_EQ(ds->size(), 6);
        EXPECT_TRUE(ds->has_labels());
        EXPECT_THAT(ds->input_names(), ElementsAre("x", "aux"));
        const Batch b = ds->read(1, 3);
        EXPECT_EQ(b.first_index, 1);
        EXPECT_EQ(b.size(), 3);
        expect_matches(b.inputs.at("x"), expected_json()["npz"]["x"], 1, "x");
        expect_matches(b.inputs.at("aux"), expected_json()["npz"]["aux"], 1, "aux");
        ASSERT_EQ(b.labels->dtype(), DType::kI64);
        EXPECT_EQ(labels_of(b), json_ints(expected_json()["npz"]["labels"], 1, 3));
    }
}

TEST(Dataset, NpzWithoutAModelUsesAllArrays) {
    DataSpec spec;
    spec.path = fixture("stored.npz");
    const DatasetPtr ds = open_dataset(spec);
    EXPECT_THAT(ds->input_names(), ElementsAre("x", "aux"));
    EXPECT_THAT(ds->description(), AllOf(HasSubstr("6 samples"), HasSubstr("labels")));
}

TEST(Dataset, NpyFolderWithIntegerLabels) {
    DataSpec spec;
    spec.path = fixture("npy_folder");
    spec.inputs = {InputSpec{"features", DType::kF32, Dims{-1, 3}}};
    EXPECT_EQ(detect_data_format(spec.path), DataFormat::kNpyFolder);
    const DatasetPtr ds = open_dataset(spec);
    ASSERT_EQ(ds->size(), 4);
    const Batch b = ds->read(0, 4);
    expect_matches(b.inputs.at("features"), expected_json()["folder"]["features"]);
    EXPECT_EQ(labels_of(b), json_ints(expected_json()["folder"]["labels"], 0, 4));
    spec.inputs = {InputSpec{"pixels", DType::kF32, Dims{-1, 3}}};
    EXPECT_THAT(
        error_of([&] { open_dataset(spec); }),
        AllOf(HasSubstr("no file 'pixels.npy'"), HasSubstr("'features.npy', 'labels.npy'")));
}

TEST(Dataset, SingleNpyWithLabelsFileAndPreprocessing) {
    TempDir tmp;
    const Tensor x = idx_images(10);
    write_npy(x, tmp.file("images.npy"));
    write_npy(Tensor::from_vector<std::int32_t>({10, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
              tmp.file("y.npy"));
    DataSpec spec;
    spec.path = tmp.file("images.npy");
    spec.labels_path = tmp.file("y.npy");
    spec.inputs = {InputSpec{"input", DType::kF32, Dims{-1, 1, 4, 4}}};
    spec.preprocess = Preprocess{0.5, {1.0}, {2.0}, Layout::kNCHW};
    const DatasetPtr ds = open_dataset(spec);
    const Batch b = ds->read(8, 100);  // clipped to the 2 remaining rows
    ASSERT_EQ(b.size(), 2);
    const Tensor& in = b.inputs.at("input");
    EXPECT_EQ(dims_str(in.dims()), "[2,1,4,4]");
    for (std::int64_t i = 0; i < in.numel(); ++i) {
        const double raw = x.data<std::uint8_t>()[8 * 16 + i];
        ASSERT_NEAR(in.data<float>()[i], (raw * 0.5 - 1.0) / 2.0, 1e-6 * (1 + raw)) << i;
    }
    EXPECT_THAT(labels_of(b), ElementsAre(8, 9));
}

TEST(Dataset, IdxPairWithDerivedLabelsPath) {
    TempDir tmp;
    write_idx(idx_images(12), tmp.file("demo-images-idx3-ubyte.gz"), true);
    write_idx(idx_labels(12), tmp.file("demo-labels-idx1-ubyte.gz"), true);
    DataSpec spec;
    spec.path = tmp.file("demo-images-idx3-ubyte.gz");
    EXPECT_EQ(detect_data_format(spec.path), DataFormat::kIdx);
    spec.inputs = {InputSpec{"input", DType::kF32, Dims{-1, 1, 4, 4}}};
    const DatasetPtr ds = open_dataset(spec);
    EXPECT_TRUE(ds->has_labels());
    const Batch b = ds->read(3, 2);
    EXPECT_THAT(labels_of(b), ElementsAre(9, 2));
    EXPECT_EQ(b.inputs.at("input").dtype(), DType::kF32);  // float model input, raw values
    EXPECT_EQ(b.inputs.at("input").data<float>()[0], static_cast<float>(3 * 16 % 251));
}

TEST(Dataset, OffsetLimitSubsetAndSplit) {
    DataSpec spec;
    spec.path = fixture("stored.npz");
    spec.offset = 1;
    spec.limit = 4;
    const DatasetPtr ds = open_dataset(spec);
    ASSERT_EQ(ds->size(), 4);  // rows 1..4 of 6
    const auto& labels = expected_json()["npz"]["labels"];
    EXPECT_EQ(labels_of(ds->read(0, 4)), json_ints(labels, 1, 4));

    spec.limit = 100;  // at most 100: clipped to the 5 remaining
    EXPECT_EQ(open_dataset(spec)->size(), 5);
    spec.offset = 7;
    EXPECT_THAT(error_of([&] { open_dataset(spec); }), HasSubstr("offset 7 is outside the 6"));

    const DatasetSplit split = split_dataset(ds, 1);
    EXPECT_EQ(split.calib->size(), 1);
    EXPECT_EQ(split.eval->size(), 3);
    EXPECT_EQ(labels_of(split.calib->read(0, 1)), json_ints(labels, 1, 1));
    const Batch e = split.eval->read(0, 3);
    EXPECT_EQ(e.first_index, 0);
    EXPECT_EQ(labels_of(e), json_ints(labels, 2, 3));  // disjoint: starts after the calib row
    EXPECT_THROW(split_dataset(ds, 0), DataError);
    EXPECT_THROW(split_dataset(ds, 4), DataError);

    std::vector<std::int64_t> sizes, firsts;
    for_each_batch(*split.eval, 2, [&](const Batch& b) {
        sizes.push_back(b.size());
        firsts.push_back(b.first_index);
    });
    EXPECT_THAT(sizes, ElementsAre(2, 1));
    EXPECT_THAT(firsts, ElementsAre(0, 2));
}

TEST(Dataset, OnnxTestDataFoldersAreConcatenated) {
    TempDir tmp;
    for (int s = 0; s < 3; ++s) {
        const std::string dir = tmp.file("test_data_set_" + std::to_string(s));
        std::filesystem::create_directory(dir);
        Tensor a(DType::kF32, {1, 2, 2});
        for (int i = 0; i < 4; ++i)
            a.data<float>()[i] = static_cast<float>(s * 10 + i);
        io::write_tensor_pb(a, "image", dir + "/input_0.pb");
        io::write_tensor_pb(Tensor::from_vector<std::int64_t>({1}, {s}), "", dir + "/input_1.pb");
        io::write_tensor_pb(Tensor::from_vector<float>({1, 2}, {float(s), -float(s)}), "prob",
                            dir + "/output_0.pb");
    }
    DataSpec spec;
    spec.path = tmp.path();
    EXPECT_EQ(detect_data_format(spec.path), DataFormat::kOnnxTestData);
    // input_0 is matched by its TensorProto name, input_1 (unnamed) by position.
    spec.inputs = {InputSpec{"image", DType::kF32, Dims{-1, 2, 2}},
                   InputSpec{"step", DType::kI64, Dims{-1}}};
    const DatasetPtr ds = open_dataset(spec);
    ASSERT_EQ(ds->size(), 3);
    EXPECT_FALSE(ds->has_labels());
    const Batch b = ds->read(1, 2);
    EXPECT_EQ(b.inputs.at("image").data<float>()[0], 10.0f);
    EXPECT_EQ(b.inputs.at("image").data<float>()[4], 20.0f);
    EXPECT_EQ(b.inputs.at("step").data<std::int64_t>()[1], 2);
    EXPECT_EQ(dims_str(b.reference_outputs.at("prob").dims()), "[2,2]");
    EXPECT_EQ(b.reference_outputs.at("prob").data<float>()[3], -2.0f);
    // A single test_data_set folder works too.
    spec.path = tmp.file("test_data_set_2");
    EXPECT_EQ(open_dataset(spec)->size(), 1);
}

TEST(Dataset, ConcurrentReadsOfAGzipIdxDataset) {
    TempDir tmp;
    const Tensor images = idx_images(300);
    write_idx(images, tmp.file("c-images-idx3-ubyte.gz"), true);
    write_idx(idx_labels(300), tmp.file("c-labels-idx1-ubyte.gz"), true);
    DataSpec spec;
    spec.path = tmp.file("c-images-idx3-ubyte.gz");
    const DatasetPtr ds = open_dataset(spec);
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 3; ++k) {
        threads.emplace_back([&, k] {
            for (int rep = 0; rep < 10; ++rep) {
                const std::int64_t start = (k * 41 + rep * 29) % 290;
                const Batch b = ds->read(start, 10);
                const Tensor& x = b.inputs.at("images");
                for (std::int64_t i = 0; i < x.numel(); ++i) {
                    if (x.data<std::uint8_t>()[i] != images.data<std::uint8_t>()[start * 16 + i])
                        ++bad;
                }
                if (b.labels->data<std::int64_t>()[0] != (start * 3) % 10)
                    ++bad;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(bad.load(), 0);
}

TEST(Dataset, FormatNames) {
    EXPECT_EQ(data_format_from_name("IDX"), DataFormat::kIdx);
    EXPECT_EQ(data_format_from_name("npy_folder"), DataFormat::kNpyFolder);
    EXPECT_EQ(data_format_from_name("onnx-test-data"), DataFormat::kOnnxTestData);
    EXPECT_FALSE(data_format_from_name("csv").has_value());
    EXPECT_EQ(detect_data_format(fixture("dtype_f4.npy")), DataFormat::kNpy);
    EXPECT_EQ(detect_data_format(fixture("deflated.npz")), DataFormat::kNpz);
    EXPECT_EQ(detect_data_format(fixture("int16-idx3.idx")), DataFormat::kIdx);
}

TEST(DatasetErrors, MissingFile) {
    DataSpec spec;
    spec.path = "/nonexistent/calib.npz";
    EXPECT_THROW(open_dataset(spec), IoError);
    EXPECT_THAT(error_of([&] { open_dataset(spec); }), HasSubstr("/nonexistent/calib.npz"));
}

TEST(DatasetErrors, NpzWithoutTheModelInputListsItsArrays) {
    DataSpec spec;
    spec.path = fixture("deflated.npz");
    spec.inputs = {InputSpec{"input", DType::kF32, Dims{-1, 2, 3}}};
    EXPECT_THROW(open_dataset(spec), DataError);
    EXPECT_THAT(error_of([&] { open_dataset(spec); }),
                AllOf(HasSubstr("deflated.npz"), HasSubstr("no array 'input' for model input"),
                      HasSubstr("'x', 'aux', 'labels'")));
}

TEST(DatasetErrors, LabelsCountDiffersFromImagesCount) {
    TempDir tmp;
    write_idx(idx_images(10), tmp.file("m-images-idx3-ubyte.gz"), true);
    write_idx(idx_labels(9), tmp.file("m-labels-idx1-ubyte.gz"), true);
    DataSpec spec;
    spec.path = tmp.file("m-images-idx3-ubyte.gz");
    EXPECT_THROW(open_dataset(spec), DataError);
    EXPECT_THAT(error_of([&] { open_dataset(spec); }),
                AllOf(HasSubstr("m-labels-idx1-ubyte.gz"), HasSubstr("9 labels"),
                      HasSubstr("m-images-idx3-ubyte.gz has 10 samples")));
}

TEST(DatasetErrors, InputsWithDifferentRowCounts) {
    TempDir tmp;
    write_npz(tmp.file("two.npz"),
              {{"a", Tensor(DType::kF32, {6, 2})}, {"b", Tensor(DType::kF32, {5, 2})}});
    DataSpec spec;
    spec.path = tmp.file("two.npz");
    EXPECT_THAT(error_of([&] { open_dataset(spec); }),
                AllOf(HasSubstr("array 'b'"), HasSubstr("5 samples"), HasSubstr("has 6")));
}

TEST(DatasetErrors, DataShapeDoesNotMatchTheModelInput) {
    TempDir tmp;
    write_idx(idx_images(5), tmp.file("s-images-idx3-ubyte"), false);
    DataSpec spec;
    spec.path = tmp.file("s-images-idx3-ubyte");
    spec.inputs = {InputSpec{"input", DType::kF32, Dims{-1, 3, 32, 32}}};
    spec.preprocess = Preprocess{1.0 / 255, {}, {}, Layout::kNCHW};
    EXPECT_THROW(open_dataset(spec), DataError);
    EXPECT_THAT(error_of([&] { open_dataset(spec); }),
                AllOf(HasSubstr("s-images-idx3-ubyte"), HasSubstr("input 'input'"),
                      HasSubstr("expected float[?,3,32,32]"), HasSubstr("got uint8[5,4,4]")));
}

TEST(DatasetErrors, SingleArrayForATwoInputModel) {
    DataSpec spec;
    spec.path = fixture("dtype_f4.npy");
    spec.inputs = {InputSpec{"a", DType::kF32, std::nullopt},
                   InputSpec{"b", DType::kF32, std::nullopt}};
    EXPECT_THAT(error_of([&] { open_dataset(spec); }),
                AllOf(HasSubstr("dtype_f4.npy"), HasSubstr("'a', 'b'")));
}

TEST(DatasetErrors, FloatLabelsAndUnrecognizedFiles) {
    TempDir tmp;
    write_npy(Tensor::from_vector<float>({2}, {1.0f, 0.0f}), tmp.file("y.npy"));
    DataSpec spec;
    spec.path = fixture("dtype_f4.npy");
    spec.labels_path = tmp.file("y.npy");
    EXPECT_THAT(error_of([&] { open_dataset(spec); }),
                AllOf(HasSubstr("y.npy"), HasSubstr("integer class indices")));
    testing::write_bytes(tmp.file("data.csv"), "1,2,3\n");
    EXPECT_THAT(error_of([&] { detect_data_format(tmp.file("data.csv")); }),
                AllOf(HasSubstr("data.csv"), HasSubstr("unrecognized data file")));
}

}  // namespace
}  // namespace aquant::data
