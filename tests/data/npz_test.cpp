#include "aquant/data/npz.h"

#include "data_test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
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

Tensor ramp_f32(Dims dims, float step) {
    Tensor t(DType::kF32, std::move(dims));
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t.data<float>()[i] = static_cast<float>(i) * step - 1.0f;
    return t;
}

TEST(Npz, ReadsStoredAndDeflatedArchivesWrittenByNumpy) {
    for (const char* name : {"stored.npz", "deflated.npz"}) {
        SCOPED_TRACE(name);
        const NpzArchive npz(fixture(name));
        EXPECT_THAT(npz.names(), ElementsAre("x", "aux", "labels"));
        for (const char* array : {"x", "aux", "labels"}) {
            expect_matches(npz.read(array), expected_json()["npz"][array], 0, array);
        }
    }
}

TEST(Npz, StreamsRowsForwardAndBackward) {
    for (const char* name : {"stored.npz", "deflated.npz"}) {
        SCOPED_TRACE(name);
        const NpzArchive npz(fixture(name));
        const ArrayRowReader rows = npz.rows("aux");
        // Backward steps restart a deflated member; each read must still be right.
        for (std::int64_t start : {4, 1, 5, 0, 2}) {
            expect_matches(rows.read_rows(start, 1), expected_json()["npz"]["aux"], start);
        }
        expect_matches(rows.read_rows(1, 4), expected_json()["npz"]["aux"], 1);
    }
}

TEST(Npz, WriterRoundTripsStoredDeflatedAndZip64) {
    TempDir tmp;
    std::vector<std::pair<std::string, Tensor>> arrays;
    for (const char* f : {"dtype_f2.npy", "dtype_f8.npy", "dtype_i1.npy", "dtype_u8.npy",
                          "dtype_b1.npy", "fortran_f8.npy"}) {
        arrays.emplace_back(std::string(f).substr(0, std::string(f).size() - 4),
                            read_npy(fixture(f)));
    }
    arrays.emplace_back("ramp", ramp_f32({300, 17}, 0.125f));
    for (bool compress : {false, true}) {
        for (bool zip64 : {false, true}) {
            SCOPED_TRACE(std::to_string(compress) + std::to_string(zip64));
            const std::string path = tmp.file("rt.npz");
            write_npz(path, arrays, {compress, zip64});
            const NpzArchive npz(path);
            ASSERT_EQ(npz.names().size(), arrays.size());
            for (const auto& [name, t] : arrays) {
                EXPECT_TRUE(npz.read(name).same_as(t)) << name;
            }
            const Tensor rows = npz.rows("ramp").read_rows(250, 3);
            for (std::int64_t i = 0; i < rows.numel(); ++i) {
                ASSERT_EQ(rows.data<float>()[i], arrays.back().second.data<float>()[250 * 17 + i]);
            }
        }
    }
    // Deflate really compresses this ramp; stored does not.
    write_npz(tmp.file("s.npz"), arrays, {false, false});
    write_npz(tmp.file("d.npz"), arrays, {true, false});
    EXPECT_LT(testing::read_bytes(tmp.file("d.npz")).size(),
              testing::read_bytes(tmp.file("s.npz")).size());
}

TEST(Npz, ConcurrentReadsOfADeflatedMember) {
    TempDir tmp;
    const Tensor big = ramp_f32({512, 64}, 0.5f);
    write_npz(tmp.file("c.npz"), {{"big", big}}, {true, false});
    const NpzArchive npz(tmp.file("c.npz"));
    const ArrayRowReader rows = npz.rows("big");
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 3; ++k) {
        threads.emplace_back([&, k] {
            for (int rep = 0; rep < 20; ++rep) {
                const std::int64_t start = (k * 97 + rep * 31) % 500;
                const Tensor r = rows.read_rows(start, 8);
                for (std::int64_t i = 0; i < r.numel(); ++i) {
                    if (r.data<float>()[i] != big.data<float>()[start * 64 + i])
                        ++bad;
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(bad.load(), 0);
}

TEST(NpzErrors, MissingArrayListsTheArchiveContents) {
    const NpzArchive npz(fixture("stored.npz"));
    EXPECT_FALSE(npz.contains("input"));
    EXPECT_THROW(npz.read("input"), DataError);
    EXPECT_THAT(error_of([&] { npz.read("input"); }),
                AllOf(HasSubstr("stored.npz"), HasSubstr("no array 'input'"),
                      HasSubstr("'x', 'aux', 'labels'")));
}

TEST(NpzErrors, CorruptedDataFailsTheCrcOrInflate) {
    TempDir tmp;
    const Tensor t = ramp_f32({64, 8}, 0.25f);
    for (bool compress : {false, true}) {
        SCOPED_TRACE(compress);
        write_npz(tmp.file("ok.npz"), {{"t", t}}, {compress, false});
        std::string bytes = testing::read_bytes(tmp.file("ok.npz"));
        bytes[200] = static_cast<char>(bytes[200] ^ 0x5A);  // inside the member data
        write_bytes(tmp.file("bad.npz"), bytes);
        const NpzArchive npz(tmp.file("bad.npz"));
        const std::string msg = error_of([&] { npz.read("t"); });
        EXPECT_THAT(msg, AllOf(HasSubstr("bad.npz"), HasSubstr("'t'")));
        EXPECT_TRUE(msg.find("CRC-32") != std::string::npos ||
                    msg.find("corrupt deflate") != std::string::npos ||
                    msg.find("deflate stream") != std::string::npos)
            << msg;
    }
}

TEST(NpzErrors, TruncatedOrNonZipFile) {
    TempDir tmp;
    const std::string bytes = testing::read_bytes(fixture("deflated.npz"));
    write_bytes(tmp.file("half.npz"), bytes.substr(0, bytes.size() / 2));
    EXPECT_THAT(error_of([&] { NpzArchive npz(tmp.file("half.npz")); }),
                AllOf(HasSubstr("half.npz"), HasSubstr("not a zip archive")));
    EXPECT_THROW(NpzArchive(fixture("no_such.npz")), IoError);
}

TEST(NpzErrors, HeaderLargerThanTheMember) {
    // Made by make_fixtures.py: member x.npy's header says (9, 3) float32, the data is 2x3.
    const NpzArchive npz(fixture("bad_lying.npz"));
    EXPECT_THAT(error_of([&] { npz.rows("x"); }),
                AllOf(HasSubstr("bad_lying.npz"), HasSubstr("'x'"), HasSubstr("[9,3]"),
                      HasSubstr("needs 108 bytes"), HasSubstr("only 24")));
    EXPECT_THROW(npz.read("x"), DataError);
}

}  // namespace
}  // namespace aquant::data
