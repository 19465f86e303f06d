#include "aquant/data/idx.h"

#include "data_test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aquant::data {
namespace {

using ::testing::AllOf;
using testing::expect_matches;
using testing::expected_json;
using testing::fixture;
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

// Pseudo-random bytes that compress poorly, so a truncated .gz really loses data.
Tensor noise_u8(Dims dims) {
    Tensor t(DType::kU8, std::move(dims));
    std::uint32_t s = 12345;
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        s = s * 1664525u + 1013904223u;
        t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(s >> 24);
    }
    return t;
}

TEST(Idx, ReadsNumpyWrittenInt16AndGzippedFloat) {
    for (const char* name : {"int16-idx3.idx", "float-idx2.idx.gz"}) {
        SCOPED_TRACE(name);
        expect_matches(read_idx(fixture(name)), expected_json()["idx"][name], 0, name);
    }
    auto src = open_maybe_gzip_source(fixture("int16-idx3.idx"));
    EXPECT_EQ(read_idx_header(*src).magic, 0x00000B03u);
    auto gz = open_maybe_gzip_source(fixture("float-idx2.idx.gz"));
    EXPECT_EQ(read_idx_header(*gz).magic, 0x00000D02u);
    // Rows of a gzipped file, out of order.
    const ArrayRowReader rows = open_idx_rows(fixture("float-idx2.idx.gz"));
    expect_matches(rows.read_rows(1, 1), expected_json()["idx"]["float-idx2.idx.gz"], 1);
    expect_matches(rows.read_rows(0, 2), expected_json()["idx"]["float-idx2.idx.gz"], 0);
}

TEST(Idx, WriteReadRoundTripEveryElementTypeRawAndGzip) {
    TempDir tmp;
    std::vector<Tensor> tensors = {noise_u8({3, 4, 5})};
    tensors.push_back(Tensor::from_vector<std::int8_t>({2, 3}, {-128, 127, 0, -1, 1, 64}));
    tensors.push_back(Tensor::from_vector<std::int16_t>({3}, {-32768, 32767, 258}));
    tensors.push_back(
        Tensor::from_vector<std::int32_t>({2, 1, 2}, {-2147483647 - 1, 1, 65536, -3}));
    tensors.push_back(Tensor::from_vector<float>({2, 2}, {0.5f, -1e30f, 3.25f, -0.0f}));
    tensors.push_back(Tensor::from_vector<double>({1, 3}, {1.0 / 3.0, -2e300, 7.0}));
    for (const Tensor& t : tensors) {
        for (bool gz : {false, true}) {
            SCOPED_TRACE(std::string(dtype_name(t.dtype())) + (gz ? " gz" : " raw"));
            const std::string path = tmp.file(gz ? "t.idx.gz" : "t.idx");
            write_idx(t, path, gz);
            EXPECT_TRUE(read_idx(path).same_as(t));
        }
    }
    EXPECT_THROW(write_idx(Tensor(DType::kI64, {2}), tmp.file("x.idx"), false), DataError);
}

TEST(Idx, GzipRowsMatchRawRows) {
    TempDir tmp;
    const Tensor t = noise_u8({500, 28, 28});
    write_idx(t, tmp.file("img.idx"), false);
    write_idx(t, tmp.file("img.idx.gz"), true);
    const ArrayRowReader raw = open_idx_rows(tmp.file("img.idx"));
    const ArrayRowReader gz = open_idx_rows(tmp.file("img.idx.gz"));
    EXPECT_EQ(gz.rows(), 500);
    for (auto [start, count] : {std::pair{0, 64}, {64, 64}, {400, 100}, {10, 5}, {499, 1}}) {
        SCOPED_TRACE(start);
        EXPECT_TRUE(gz.read_rows(start, count).same_as(raw.read_rows(start, count)));
    }
}

TEST(IdxErrors, WrongMagicNamesTheFileAndTheMagic) {
    TempDir tmp;
    write_bytes(tmp.file("bad-images-idx3-ubyte"), std::string("\x12\x34\x56\x78rest", 8));
    EXPECT_THROW(read_idx(tmp.file("bad-images-idx3-ubyte")), DataError);
    EXPECT_THAT(error_of([&] { read_idx(tmp.file("bad-images-idx3-ubyte")); }),
                AllOf(HasSubstr("bad-images-idx3-ubyte"), HasSubstr("magic number 0x12345678"),
                      HasSubstr("0x00000803")));
    // Element type 0x0A does not exist.
    write_bytes(tmp.file("t.idx"), std::string("\x00\x00\x0A\x01\x00\x00\x00\x01x", 9));
    EXPECT_THAT(error_of([&] { read_idx(tmp.file("t.idx")); }),
                HasSubstr("magic number 0x00000A01"));
}

TEST(IdxErrors, TruncatedGzipIsReportedWhenOpened) {
    TempDir tmp;
    write_idx(noise_u8({100, 28, 28}), tmp.file("full.idx.gz"), true);
    const std::string gz = testing::read_bytes(tmp.file("full.idx.gz"));
    write_bytes(tmp.file("cut-images-idx3-ubyte.gz"), gz.substr(0, gz.size() / 2));
    EXPECT_THROW(open_idx_rows(tmp.file("cut-images-idx3-ubyte.gz")), DataError);
    EXPECT_THAT(error_of([&] { open_idx_rows(tmp.file("cut-images-idx3-ubyte.gz")); }),
                AllOf(HasSubstr("cut-images-idx3-ubyte.gz"), HasSubstr("truncated")));
}

TEST(IdxErrors, HeaderCountsMoreImagesThanTheFileHolds) {
    TempDir tmp;
    std::string bytes = idx_bytes(noise_u8({5, 4, 4}));
    bytes[7] = 9;  // dims[0] = 9 (big-endian low byte)
    write_bytes(tmp.file("short.idx"), bytes);
    EXPECT_THAT(error_of([&] { read_idx(tmp.file("short.idx")); }),
                AllOf(HasSubstr("short.idx"), HasSubstr("[9,4,4]"), HasSubstr("needs 144 bytes"),
                      HasSubstr("only 80")));
}

TEST(IdxErrors, MissingFile) {
    EXPECT_THROW(read_idx("/nonexistent/t10k-images-idx3-ubyte.gz"), IoError);
}

}  // namespace
}  // namespace aquant::data
