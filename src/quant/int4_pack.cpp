#include "aquant/quant/int4_pack.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

namespace aquant::quant {

namespace {
template <typename T>
void pack_nibbles(const T* values, std::int64_t n, std::uint8_t* out) {
    const std::int64_t pairs = n / 2;
    for (std::int64_t i = 0; i < pairs; ++i) {
        const auto lo = static_cast<std::uint8_t>(values[2 * i]) & 0x0F;
        const auto hi = static_cast<std::uint8_t>(values[2 * i + 1]) & 0x0F;
        out[i] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
    if (n % 2)
        out[pairs] = static_cast<std::uint8_t>(values[n - 1]) & 0x0F;
}
}  // namespace

void pack_int4(const std::int8_t* values, std::int64_t n, std::uint8_t* out) {
    pack_nibbles(values, n, out);
}

void pack_uint4(const std::uint8_t* values, std::int64_t n, std::uint8_t* out) {
    pack_nibbles(values, n, out);
}

void unpack_int4(const std::uint8_t* packed, std::int64_t n, std::int8_t* out) {
    for (std::int64_t i = 0; i < n; ++i) {
        const int nibble = (packed[i / 2] >> ((i % 2) * 4)) & 0x0F;
        out[i] = static_cast<std::int8_t>(nibble >= 8 ? nibble - 16 : nibble);
    }
}

void unpack_uint4(const std::uint8_t* packed, std::int64_t n, std::uint8_t* out) {
    for (std::int64_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::uint8_t>((packed[i / 2] >> ((i % 2) * 4)) & 0x0F);
    }
}

Tensor unpack_int4_tensor(const Tensor& packed) {
    const auto* src = static_cast<const std::uint8_t*>(packed.raw());
    if (packed.dtype() == DType::kI4) {
        Tensor out(DType::kI8, packed.dims());
        unpack_int4(src, packed.numel(), out.data<std::int8_t>());
        return out;
    }
    if (packed.dtype() == DType::kU4) {
        Tensor out(DType::kU8, packed.dims());
        unpack_uint4(src, packed.numel(), out.data<std::uint8_t>());
        return out;
    }
    throw InternalError(fmt::format("unpack_int4_tensor: expected int4 or uint4, got {}",
                                    dtype_name(packed.dtype())));
}

Tensor pack_int4_tensor(const Tensor& bytes) {
    const bool is_signed = bytes.dtype() == DType::kI8;
    if (!is_signed && bytes.dtype() != DType::kU8) {
        throw InternalError(fmt::format("pack_int4_tensor: expected int8 or uint8, got {}",
                                        dtype_name(bytes.dtype())));
    }
    const int lo = is_signed ? -8 : 0;
    const int hi = is_signed ? 7 : 15;
    for (std::int64_t i = 0; i < bytes.numel(); ++i) {
        const int v = is_signed ? bytes.data<std::int8_t>()[i] : bytes.data<std::uint8_t>()[i];
        if (v < lo || v > hi) {
            throw DataError(
                fmt::format("pack_int4_tensor: element {} of {} is {}, expected a "
                            "value in [{}, {}]",
                            i, dims_str(bytes.dims()), v, lo, hi));
        }
    }
    Tensor out(is_signed ? DType::kI4 : DType::kU4, bytes.dims());
    auto* dst = static_cast<std::uint8_t*>(out.raw());
    if (is_signed) {
        pack_int4(bytes.data<std::int8_t>(), bytes.numel(), dst);
    } else {
        pack_uint4(bytes.data<std::uint8_t>(), bytes.numel(), dst);
    }
    return out;
}

}  // namespace aquant::quant
