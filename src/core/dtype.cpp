#include "aquant/core/dtype.h"

#include <array>

#include "aquant/core/error.h"

namespace aquant {
namespace {
constexpr std::array<DTypeTraits, 23> kTraits = {{
    {DType::kUndefined, "undefined", 0, false, false},
    {DType::kF32, "float", 32, true, true},
    {DType::kU8, "uint8", 8, false, false},
    {DType::kI8, "int8", 8, false, true},
    {DType::kU16, "uint16", 16, false, false},
    {DType::kI16, "int16", 16, false, true},
    {DType::kI32, "int32", 32, false, true},
    {DType::kI64, "int64", 64, false, true},
    {DType::kString, "string", 0, false, false},
    {DType::kBool, "bool", 8, false, false},
    {DType::kF16, "float16", 16, true, true},
    {DType::kF64, "double", 64, true, true},
    {DType::kU32, "uint32", 32, false, false},
    {DType::kU64, "uint64", 64, false, false},
    {DType::kC64, "complex64", 64, false, true},
    {DType::kC128, "complex128", 128, false, true},
    {DType::kBF16, "bfloat16", 16, true, true},
    {DType::kF8E4M3FN, "float8e4m3fn", 8, true, true},
    {DType::kF8E4M3FNUZ, "float8e4m3fnuz", 8, true, true},
    {DType::kF8E5M2, "float8e5m2", 8, true, true},
    {DType::kF8E5M2FNUZ, "float8e5m2fnuz", 8, true, true},
    {DType::kU4, "uint4", 4, false, false},
    {DType::kI4, "int4", 4, false, true},
}};
}  // namespace

std::optional<DType> dtype_from_code(int code) {
    if (code < 0 || code >= static_cast<int>(kTraits.size())) return std::nullopt;
    return static_cast<DType>(code);
}

const DTypeTraits& dtype_traits(DType t) {
    const int code = static_cast<int>(t);
    if (code < 0 || code >= static_cast<int>(kTraits.size())) {
        throw ModelError("unknown element type " + std::to_string(code));
    }
    return kTraits[static_cast<std::size_t>(code)];
}

std::string_view dtype_name(DType t) {
    const int code = static_cast<int>(t);
    if (code < 0 || code >= static_cast<int>(kTraits.size())) return "unknown";
    return kTraits[static_cast<std::size_t>(code)].name;
}

std::optional<DType> dtype_from_name(std::string_view name) {
    for (const auto& row : kTraits) {
        if (name == row.name) return row.dtype;
    }
    if (name == "float32") return DType::kF32;
    if (name == "float64") return DType::kF64;
    return std::nullopt;
}

std::size_t dtype_storage_bytes(DType t, std::int64_t n) {
    const int bits = dtype_traits(t).bits;
    return (static_cast<std::size_t>(n) * static_cast<std::size_t>(bits) + 7) / 8;
}

}  // namespace aquant
