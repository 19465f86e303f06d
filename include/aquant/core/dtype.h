// Element types. The numeric values are ONNX TensorProto.DataType codes, so io/ converts with a
// cast and every other module stays free of protobuf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aquant {

enum class DType : int {
    kUndefined = 0,
    kF32 = 1,
    kU8 = 2,
    kI8 = 3,
    kU16 = 4,
    kI16 = 5,
    kI32 = 6,
    kI64 = 7,
    kString = 8,
    kBool = 9,
    kF16 = 10,
    kF64 = 11,
    kU32 = 12,
    kU64 = 13,
    kC64 = 14,
    kC128 = 15,
    kBF16 = 16,
    kF8E4M3FN = 17,
    kF8E4M3FNUZ = 18,
    kF8E5M2 = 19,
    kF8E5M2FNUZ = 20,
    kU4 = 21,  // two per byte, first element in the low nibble (ONNX IR 10)
    kI4 = 22,
};

struct DTypeTraits {
    DType dtype;
    const char* name;       // ONNX spelling: "float", "int8", "int4", ...
    int bits;               // storage bits per element (4 for INT4/UINT4, 0 for string)
    bool is_float;
    bool is_signed;
};

/// Row of the type table; throws ModelError for a code that is not a known ONNX element type.
const DTypeTraits& dtype_traits(DType t);
std::optional<DType> dtype_from_code(int code);
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);  // "float", "int8", "uint4", ...

/// Bytes needed for n elements (packed for 4-bit types; 0 for strings).
std::size_t dtype_storage_bytes(DType t, std::int64_t n);

inline bool dtype_is_4bit(DType t) { return t == DType::kI4 || t == DType::kU4; }

template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kF32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kF64; };
template <> struct DTypeOf<std::uint8_t> { static constexpr DType value = DType::kU8; };
template <> struct DTypeOf<std::int8_t> { static constexpr DType value = DType::kI8; };
template <> struct DTypeOf<std::uint16_t> { static constexpr DType value = DType::kU16; };
template <> struct DTypeOf<std::int16_t> { static constexpr DType value = DType::kI16; };
template <> struct DTypeOf<std::int32_t> { static constexpr DType value = DType::kI32; };
template <> struct DTypeOf<std::int64_t> { static constexpr DType value = DType::kI64; };
template <> struct DTypeOf<std::uint32_t> { static constexpr DType value = DType::kU32; };
template <> struct DTypeOf<std::uint64_t> { static constexpr DType value = DType::kU64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };

}  // namespace aquant
