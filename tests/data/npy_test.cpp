#include "aquant/data/npy.h"

#include "data_test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace aquant::data {
namespace {

using ::testing::AllOf;
using testing::expect_matches;
using testing::expected_json;
using testing::fixture;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::write_bytes;

const char* const kDtypeFiles[] = {"dtype_f2.npy", "dtype_f4.npy", "dtype_f8.npy", "dtype_i1.npy",
                                   "dtype_u1.npy", "dtype_i2.npy", "dtype_u2.npy", "dtype_i4.npy",
                                   "dtype_u4.npy", "dtype_i8.npy", "dtype_u8.npy", "dtype_b1.npy"};

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// Counts the bytes a reader pulls, to prove row reads do not load the whole file.
class CountingSource final : public ByteSource {
public:
    explicit CountingSource(ByteSourcePtr inner) : inner_(std::move(inner)) {}

    std::uint64_t size() const override { return inner_->size(); }

    const std::string& where() const override { return inner_->where(); }

    void read_at(std::uint64_t offset, void* dst, std::size_t n) const override {
        bytes_ += n;
        inner_->read_at(offset, dst, n);
    }

    mutable std::atomic<std::uint64_t> bytes_{0};

private:
    ByteSourcePtr inner_;
};

TEST(Npy, ReadsEveryDtypeWrittenByNumpy) {
    for (const char* name : kDtypeFiles) {
        SCOPED_TRACE(name);
        const Tensor t = read_npy(fixture(name));
        expect_matches(t, expected_json()["arrays"][name], 0, name);
    }
}

TEST(Npy, WriterReproducesNumpyFilesByteForByte) {
    // numpy 1.24 writes format 1.0, little-endian, C order, header padded to 64 bytes: the same
    // layout npy_bytes promises, so the files must be identical.
    for (const char* name : kDtypeFiles) {
        SCOPED_TRACE(name);
        const Tensor t = read_npy(fixture(name));
        EXPECT_EQ(npy_bytes(t), testing::read_bytes(fixture(name)));
    }
}

TEST(Npy, WriteReadRoundTripEveryDtype) {
    TempDir tmp;
    for (const char* name : kDtypeFiles) {
        SCOPED_TRACE(name);
        const Tensor t = read_npy(fixture(name));
        const std::string out = tmp.file(name);
        write_npy(t, out);
        EXPECT_TRUE(read_npy(out).same_as(t));
    }
    // Rank 0, rank 1 and an empty array, made here rather than by numpy.
    for (const Tensor& t :
         {Tensor::scalar<std::int64_t>(-7), Tensor::from_vector<float>({3}, {1.0f, -2.0f, 0.5f}),
          Tensor(DType::kF32, {0, 5})}) {
        write_npy(t, tmp.file("x.npy"));
        EXPECT_TRUE(read_npy(tmp.file("x.npy")).same_as(t)) << dims_str(t.dims());
    }
}

TEST(Npy, WriterRefusesTypesNumpyCannotHold) {
    TempDir tmp;
    const std::string msg =
        error_of([&] { write_npy(Tensor(DType::kBF16, {2}), tmp.file("b.npy")); });
    EXPECT_THAT(msg, AllOf(HasSubstr("b.npy"), HasSubstr("bfloat16")));
}

TEST(Npy, FortranOrderIsTransposedToCOrder) {
    const auto& rec = expected_json()["arrays"]["fortran_f8.npy"];
    const Tensor whole = read_npy(fixture("fortran_f8.npy"));
    expect_matches(whole, rec);
    const ArrayRowReader rows = open_npy_rows(fixture("fortran_f8.npy"));
    EXPECT_TRUE(rows.layout().fortran_order);
    for (auto [start, count] : {std::pair{0, 1}, {1, 3}, {4, 1}, {2, 0}}) {
        SCOPED_TRACE(start);
        expect_matches(rows.read_rows(start, count), rec, start);
    }
}

TEST(Npy, BigEndianIsByteSwapped) {
    for (const char* name : {"bigendian_f4.npy", "bigendian_f2.npy", "bigendian_fortran_i4.npy"}) {
        SCOPED_TRACE(name);
        expect_matches(read_npy(fixture(name)), expected_json()["arrays"][name]);
    }
    const ArrayRowReader rows = open_npy_rows(fixture("bigendian_fortran_i4.npy"));
    EXPECT_TRUE(rows.layout().big_endian);
    expect_matches(rows.read_rows(2, 2), expected_json()["arrays"]["bigendian_fortran_i4.npy"], 2);
}

TEST(Npy, HeaderVersions2And3) {
    for (const char* name : {"version2_i2.npy", "version3_i2.npy"}) {
        SCOPED_TRACE(name);
        auto src = open_file_source(fixture(name));
        EXPECT_EQ(read_npy_header(*src).major_version, name[7] - '0');
        expect_matches(read_npy(fixture(name)), expected_json()["arrays"][name]);
    }
}

TEST(Npy, ScalarAndEmptyArrays) {
    const Tensor s = read_npy(fixture("scalar_f4.npy"));
    EXPECT_EQ(s.rank(), 0u);
    EXPECT_EQ(s.get_f64(0), 2.5);
    EXPECT_THAT(error_of([] { open_npy_rows(fixture("scalar_f4.npy")).read_rows(0, 0); }),
                HasSubstr("no rows"));
    const Tensor e = read_npy(fixture("empty_f4.npy"));
    EXPECT_EQ(dims_str(e.dims()), "[0,3]");
}

TEST(Npy, RowReadsTouchOnlyTheRowsAsked) {
    TempDir tmp;
    const std::int64_t rows = 2000, cols = 257;
    std::vector<float> v(static_cast<std::size_t>(rows * cols));
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<float>(i) * 0.25f - 3.0f;
    const Tensor t = Tensor::from_vector<float>({rows, cols}, v);
    write_npy(t, tmp.file("big.npy"));
    auto counting = std::make_shared<CountingSource>(open_file_source(tmp.file("big.npy")));
    const NpyHeader h = read_npy_header(*counting);
    const ArrayRowReader reader(counting, h.layout);
    counting->bytes_ = 0;
    const Tensor part = reader.read_rows(1500, 10);
    EXPECT_EQ(counting->bytes_.load(), 10u * cols * sizeof(float));
    ASSERT_EQ(dims_str(part.dims()), "[10,257]");
    for (std::int64_t i = 0; i < part.numel(); ++i) {
        ASSERT_EQ(part.data<float>()[i], v[static_cast<std::size_t>(1500 * cols + i)]) << i;
    }
}

TEST(Npy, ConcurrentRowReadsAgree) {
    TempDir tmp;
    std::vector<std::int32_t> v(64 * 33);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<std::int32_t>(i * 7919 % 100003);
    write_npy(Tensor::from_vector<std::int32_t>({64, 33}, v), tmp.file("c.npy"));
    const ArrayRowReader reader = open_npy_rows(tmp.file("c.npy"));
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&, k] {
            for (int rep = 0; rep < 50; ++rep) {
                const std::int64_t start = (k * 13 + rep * 7) % 60;
                const Tensor r = reader.read_rows(start, 4);
                for (std::int64_t i = 0; i < r.numel(); ++i) {
                    if (r.data<std::int32_t>()[i] != v[static_cast<std::size_t>(start * 33 + i)])
                        ++bad;
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(bad.load(), 0);
}

TEST(NpyErrors, MissingFileIsAnIoErrorNamingThePath) {
    const std::string path = "/nonexistent/dir/x.npy";
    EXPECT_THROW(read_npy(path), IoError);
    EXPECT_THAT(error_of([&] { read_npy(path); }),
                AllOf(HasSubstr(path), HasSubstr("No such file")));
}

TEST(NpyErrors, HeaderShapeLargerThanTheData) {
    TempDir tmp;
    std::string bytes = testing::read_bytes(fixture("dtype_f4.npy"));
    // The file ends 8 bytes early: the header's (2, 3) float32 needs 24 bytes, 16 remain.
    write_bytes(tmp.file("short.npy"), bytes.substr(0, bytes.size() - 8));
    EXPECT_THROW(read_npy(tmp.file("short.npy")), DataError);
    EXPECT_THAT(error_of([&] { read_npy(tmp.file("short.npy")); }),
                AllOf(HasSubstr("short.npy"), HasSubstr("[2,3]"), HasSubstr("needs 24 bytes"),
                      HasSubstr("only 16")));
    // A header that claims more rows than the file holds (same header length).
    const auto pos = bytes.find("(2, 3)");
    ASSERT_NE(pos, std::string::npos);
    bytes.replace(pos, 6, "(9, 3)");
    write_bytes(tmp.file("lying.npy"), bytes);
    EXPECT_THAT(error_of([&] { open_npy_rows(tmp.file("lying.npy")); }),
                AllOf(HasSubstr("lying.npy"), HasSubstr("[9,3]"), HasSubstr("needs 108 bytes"),
                      HasSubstr("only 24")));
}

TEST(NpyErrors, UnsupportedDtypesAreRefusedByName) {
    EXPECT_THAT(error_of([] { read_npy(fixture("bad_object.npy")); }),
                AllOf(HasSubstr("bad_object.npy"), HasSubstr("object arrays"), HasSubstr("|O")));
    EXPECT_THAT(error_of([] { read_npy(fixture("bad_structured.npy")); }),
                AllOf(HasSubstr("bad_structured.npy"), HasSubstr("structured dtype")));
    EXPECT_THAT(error_of([] { read_npy(fixture("bad_complex.npy")); }),
                AllOf(HasSubstr("bad_complex.npy"), HasSubstr("unsupported dtype '<c8'")));
    EXPECT_THROW(read_npy(fixture("bad_complex.npy")), DataError);
}

TEST(NpyErrors, NotAnNpyFileOrBrokenHeader) {
    TempDir tmp;
    write_bytes(tmp.file("text.npy"), "hello, this is not numpy data");
    EXPECT_THAT(error_of([&] { read_npy(tmp.file("text.npy")); }),
                AllOf(HasSubstr("text.npy"), HasSubstr("bad magic")));
    std::string bytes = testing::read_bytes(fixture("dtype_i4.npy"));
    bytes.replace(bytes.find("'shape'"), 7, "'shapX'");
    write_bytes(tmp.file("nokey.npy"), bytes);
    EXPECT_THAT(error_of([&] { read_npy(tmp.file("nokey.npy")); }),
                AllOf(HasSubstr("nokey.npy"), HasSubstr("malformed .npy header")));
    bytes = testing::read_bytes(fixture("dtype_i4.npy"));
    bytes[6] = 7;  // format version 7.0
    write_bytes(tmp.file("v7.npy"), bytes);
    EXPECT_THAT(error_of([&] { read_npy(tmp.file("v7.npy")); }), HasSubstr("version 7.0"));
}

}  // namespace
}  // namespace aquant::data
