// write_model: atomic replacement, input protection, external data (forced on a small model; the
// > 2 GiB decision through plan_external_data, from sizes only) and the INT4/UINT4 encoding.
#include "io_test_models.h"
#include "io_test_util.h"

#include "aquant/io/onnx_reader.h"
#include "aquant/io/onnx_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace aquant::io {
namespace {

using namespace iotest;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void expect_equal(const ir::Model& a, const ir::Model& b) {
    std::string why;
    EXPECT_TRUE(ir::models_equal(a, b, &why)) << why;
}

TEST(Writer, WriteReadIsEqual) {
    TempDir dir;
    const auto m = conv_model();
    write_model(*m, dir.file("m.onnx"));
    ReadOptions opts;
    opts.infer_shapes = false;
    expect_equal(*m, *read_model(dir.file("m.onnx"), opts));
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"m.onnx"});  // no temp, no .data
}

TEST(Writer, ForcedExternalDataRoundTrips) {
    TempDir dir;
    const auto m = conv_model();
    WriteOptions w;
    w.force_external = true;
    w.external_threshold_bytes = 64;  // conv.w (144 B) and fc.w (2560 B); the rest stays inline
    const std::string path = dir.file("m.onnx");
    write_model(*m, path, w);
    ASSERT_EQ(files_in(dir.path()), (std::vector<std::string>{"m.onnx", "m.onnx.data"}));
    // Data file: conv.w at 0 (144 bytes), fc.w at the next 64-byte boundary (192), 2560 bytes.
    EXPECT_EQ(fs::file_size(dir.file("m.onnx.data")), 192u + 2560u);
    const std::string data = read_file(dir.file("m.onnx.data"));
    const Tensor& fcw = *m->graph->constant(*m->graph->find_value("fc.w"));
    EXPECT_EQ(data.compare(192, 2560, static_cast<const char*>(fcw.raw()), 2560), 0);
    // The .onnx no longer holds the 2560 bytes of fc.w.
    EXPECT_LT(fs::file_size(path), 2560u);
    EXPECT_NE(read_file(path).find("m.onnx.data"), std::string::npos);

    ReadOptions opts;
    opts.infer_shapes = false;
    const auto back = read_model(path, opts);
    expect_equal(*m, *back);
    // Written again without forcing, everything is inline again and still equal.
    write_model(*back, dir.file("inline.onnx"));
    expect_equal(*m, *read_model(dir.file("inline.onnx"), opts));
    EXPECT_FALSE(fs::exists(dir.file("inline.onnx.data")));
}

TEST(Writer, ExternalDataNotLoadedKeepsTypes) {
    TempDir dir;
    WriteOptions w;
    w.force_external = true;
    w.external_threshold_bytes = 64;
    write_model(*conv_model(), dir.file("m.onnx"), w);
    ReadOptions opts;
    opts.load_external_data = false;
    const auto m = read_model(dir.file("m.onnx"), opts);
    const ir::Value& v = m->graph->value(*m->graph->find_value("fc.w"));
    EXPECT_FALSE(v.initializer.has_value());
    ASSERT_TRUE(v.type.has_value());
    EXPECT_EQ(v.type->str(), "float[64,10]");
    // Such a model lacks data: writing it is refused rather than producing a broken file.
    EXPECT_THROW(write_model(*m, dir.file("out.onnx")), ModelError);
    EXPECT_FALSE(fs::exists(dir.file("out.onnx")));
}

TEST(Writer, RefusesToOverwriteInputModel) {
    TempDir dir;
    const std::string path = dir.file("model.onnx");
    write_model(*conv_model(), path);
    const std::string before = read_file(path);
    auto m = read_model(path);
    m->producer_name = "changed";
    try {
        write_model(*m, path, {}, path);
        FAIL() << "overwrote the input";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("refusing to overwrite the input model"));
        EXPECT_EQ(e.exit_code(), 2);
    }
    // Another spelling of the same file is caught too.
    const std::string other = (dir.path() / "." / "model.onnx").string();
    EXPECT_THROW(write_model(*m, other, {}, path), ConfigError);
    EXPECT_EQ(read_file(path), before);
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"model.onnx"});
}

TEST(Writer, ReplacesExistingFileAtomically) {
    TempDir dir;
    const std::string path = dir.file("m.onnx");
    write_file(path, "old contents");
    auto m = conv_model();
    WriteOptions w;
    w.fsync = true;
    write_model(*m, path, w);
    EXPECT_EQ(read_model(path)->producer_name, "io_test");
    // A failing write (dangling input found by verify_graph) leaves the old file and no temp.
    const std::string good = read_file(path);
    iotest::add(*m->graph, "bad", "Relu", {"nowhere"}, {"z"});
    m->graph->rebuild_uses();
    EXPECT_THROW(write_model(*m, path), ModelError);
    EXPECT_EQ(read_file(path), good);
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"m.onnx"});
}

TEST(Writer, UnwritableFolderIsIoError) {
    try {
        write_model(*conv_model(), "/nonexistent-folder-aquant/m.onnx");
        FAIL() << "wrote into a missing folder";
    } catch (const IoError& e) {
        EXPECT_THAT(e.what(), HasSubstr("/nonexistent-folder-aquant/m.onnx"));
    }
}

TEST(Writer, Int4AndUint4AreNibblePackedLowFirst) {
    auto m = conv_model();
    // int4 values 1, 2, 3, -1, -8, 7, 5 -> bytes 0x21, 0xF3, 0x78, 0x05 (odd count: high nibble 0).
    Tensor i4(DType::kI4, {7});
    const std::vector<std::uint8_t> packed = {0x21, 0xF3, 0x78, 0x05};
    std::copy(packed.begin(), packed.end(), i4.data<std::uint8_t>());
    Tensor u4(DType::kU4, {3});
    u4.data<std::uint8_t>()[0] = 0xF0;  // 0, 15
    u4.data<std::uint8_t>()[1] = 0x09;  // 9
    m->graph->add_initializer("w4", i4);
    m->graph->add_initializer("u4", u4);
    const std::string bytes = serialize_model(*m);
    using namespace onnxpb;
    const std::string w4 = Pb().i(kDims, 7)
                               .i(kDataType, 22)
                               .s(kTensorName, "w4")
                               .s(kRawData, std::string(packed.begin(), packed.end()))
                               .str();
    const std::string uu = Pb().i(kDims, 3)
                               .i(kDataType, 21)
                               .s(kTensorName, "u4")
                               .s(kRawData, std::string("\xF0\x09", 2))
                               .str();
    EXPECT_NE(bytes.find(w4), std::string::npos);
    EXPECT_NE(bytes.find(uu), std::string::npos);
    ReadOptions opts;
    opts.infer_shapes = false;
    const auto back = read_model_from_bytes(bytes, "mem.onnx", opts);
    const Tensor* t = back->graph->constant(*back->graph->find_value("w4"));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->to_f64(), (std::vector<double>{1, 2, 3, -1, -8, 7, 5}));
    EXPECT_EQ(back->graph->constant(*back->graph->find_value("u4"))->to_f64(),
              (std::vector<double>{0, 15, 9}));
}

TEST(ExternalDataPlan, NothingExternalUnderTheLimit) {
    const auto plan = plan_external_data({100 * kMiB, 200 * kMiB, 512}, 10 * kMiB, {});
    EXPECT_EQ(plan.external, (std::vector<bool>{false, false, false}));
    EXPECT_EQ(plan.data_file_bytes, 0u);
}

TEST(ExternalDataPlan, OverTwoGiBMovesLargeTensorsOut) {
    // 3 x 1 GiB of weights and a small tensor: nothing is allocated, the plan uses sizes only.
    const auto plan = plan_external_data({kGiB, 512, kGiB, kGiB + 3}, 5 * kMiB, {});
    EXPECT_EQ(plan.external, (std::vector<bool>{true, false, true, true}));
    EXPECT_EQ(plan.offsets[0], 0u);
    EXPECT_EQ(plan.offsets[2], kGiB);  // already 4096-aligned
    EXPECT_EQ(plan.offsets[3], 2 * kGiB);
    EXPECT_EQ(plan.data_file_bytes, 3 * kGiB + 3);
    EXPECT_LT(plan.model_bytes_estimate, 6 * kMiB);
}

TEST(ExternalDataPlan, JustOverTheLimit) {
    // Inline total: other + tensor + per-field overhead; exactly at the limit stays inline.
    const std::uint64_t other = kProtobufLimitBytes - 2000 - 32;
    EXPECT_EQ(plan_external_data({2000}, other, {}).external, std::vector<bool>{false});
    EXPECT_EQ(plan_external_data({2001}, other, {}).external, std::vector<bool>{true});
}

TEST(ExternalDataPlan, AlignsOffsets) {
    WriteOptions w;
    w.force_external = true;
    w.external_threshold_bytes = 100;
    const auto plan = plan_external_data({100, 99, 1000, 2 * kMiB + 1, 70}, 0, w);
    EXPECT_EQ(plan.external, (std::vector<bool>{true, false, true, true, false}));
    EXPECT_EQ(plan.offsets[0], 0u);
    EXPECT_EQ(plan.offsets[2], 128u);   // 64-byte boundary after 100 bytes
    EXPECT_EQ(plan.offsets[3], 4096u);  // tensors of 1 MiB or more start on a page
    EXPECT_EQ(plan.data_file_bytes, 4096u + 2 * kMiB + 1);
}

TEST(ExternalDataPlan, TooMuchSmallDataIsAnError) {
    // 3 GiB of tensors each below the threshold cannot be moved out.
    std::vector<std::uint64_t> small(3 * 1024 * 1024, 1000);
    try {
        plan_external_data(small, 0, {});
        FAIL() << "accepted a model over 2 GiB";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("lower external_threshold_bytes"));
    }
}

}  // namespace
}  // namespace aquant::io
