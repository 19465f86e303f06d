// Helpers for the data tests: fixture paths, numpy's expected.json, temporary folders and
// exact value comparison.
#pragma once

#include "aquant/core/tensor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>

namespace aquant::data::testing {

inline std::string fixture(const std::string& name) {
    return std::string(AQUANT_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

inline const nlohmann::json& expected_json() {
    static const nlohmann::json j = [] {
        std::ifstream in(fixture("expected.json"));
        std::stringstream s;
        s << in.rdbuf();
        return nlohmann::json::parse(s.str());
    }();
    return j;
}

inline std::string shared_models_dir() {
    return std::string(AQUANT_SOURCE_DIR) + "/../shared/models";
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "aquant_data_XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    std::string file(const std::string& name) const { return path_ + "/" + name; }

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Element i of an integer tensor, exactly (uint64 values above INT64_MAX compare as unsigned).
inline bool int_equal(const Tensor& t, std::int64_t i, const nlohmann::json& v) {
    const void* p = t.raw();
    switch (t.dtype()) {
        case DType::kU8:
        case DType::kBool:
            return static_cast<const std::uint8_t*>(p)[i] == v.get<std::uint64_t>();
        case DType::kI8:
            return static_cast<const std::int8_t*>(p)[i] == v.get<std::int64_t>();
        case DType::kU16:
            return static_cast<const std::uint16_t*>(p)[i] == v.get<std::uint64_t>();
        case DType::kI16:
            return static_cast<const std::int16_t*>(p)[i] == v.get<std::int64_t>();
        case DType::kU32:
            return static_cast<const std::uint32_t*>(p)[i] == v.get<std::uint64_t>();
        case DType::kI32:
            return static_cast<const std::int32_t*>(p)[i] == v.get<std::int64_t>();
        case DType::kU64:
            return static_cast<const std::uint64_t*>(p)[i] == v.get<std::uint64_t>();
        case DType::kI64:
            return static_cast<const std::int64_t*>(p)[i] == v.get<std::int64_t>();
        default:
            return false;
    }
}

/// Bit-exact comparison of a float element with numpy's value (sign of zero included).
inline bool float_equal(const Tensor& t, std::int64_t i, double want) {
    const void* p = t.raw();
    switch (t.dtype()) {
        case DType::kF32: {
            const float got = static_cast<const float*>(p)[i];
            const float w = static_cast<float>(want);
            return std::memcmp(&got, &w, sizeof(float)) == 0;
        }
        case DType::kF64: {
            const double got = static_cast<const double*>(p)[i];
            return std::memcmp(&got, &want, sizeof(double)) == 0;
        }
        case DType::kF16: {
            const std::uint16_t bits = static_cast<const std::uint16_t*>(p)[i];
            return bits == float_to_half(static_cast<float>(want));
        }
        default:
            return false;
    }
}

/// numpy dtype string ("<f4", ">i8", "|u1") -> element type, byte order ignored.
inline DType numpy_dtype(const std::string& s) {
    static const std::pair<const char*, DType> kMap[] = {
        {"f2", DType::kF16}, {"f4", DType::kF32}, {"f8", DType::kF64}, {"i1", DType::kI8},
        {"i2", DType::kI16}, {"i4", DType::kI32}, {"i8", DType::kI64}, {"u1", DType::kU8},
        {"u2", DType::kU16}, {"u4", DType::kU32}, {"u8", DType::kU64}, {"b1", DType::kBool}};
    for (const auto& [k, t] : kMap) {
        if (s.substr(1) == k)
            return t;
    }
    return DType::kUndefined;
}

/// Checks dims and every value of `t` against an expected.json record
/// {"dtype": "<f4", "shape": [...], "values": [...]}, with rows [row0, row0 + t.dim(0)) of
/// the record when the tensor holds only some rows.
inline void expect_matches(const Tensor& t, const nlohmann::json& rec, std::int64_t row0 = 0,
                           const std::string& what = "") {
    Dims shape = rec["shape"].get<Dims>();
    const auto& values = rec["values"];
    std::int64_t row_elems = 1;
    for (std::size_t a = 1; a < shape.size(); ++a)
        row_elems *= shape[a];
    if (!shape.empty())
        shape[0] = t.rank() ? t.dim(0) : shape[0];
    ASSERT_EQ(dims_str(t.dims()), dims_str(shape)) << what;
    ASSERT_EQ(t.dtype(), numpy_dtype(rec["dtype"].get<std::string>())) << what;
    const bool is_float = dtype_traits(t.dtype()).is_float;
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        const auto& v = values[static_cast<std::size_t>(row0 * row_elems + i)];
        if (is_float) {
            ASSERT_TRUE(float_equal(t, i, v.get<double>()))
                << what << " element " << i << ": got " << t.get_f64(i) << ", numpy " << v;
        } else {
            ASSERT_TRUE(int_equal(t, i, v))
                << what << " element " << i << ": got " << t.get_f64(i) << ", numpy " << v;
        }
    }
}

}  // namespace aquant::data::testing
