// INT4 / UINT4 storage, as ONNX (IR 10) packs it: two elements per byte, element 2i in the low
// nibble of byte i and element 2i+1 in the high nibble. For an odd count the high nibble of the
// last byte is 0. Kernels never see packed data: they unpack to int8 / uint8 first.
#pragma once

#include "aquant/core/tensor.h"

#include <cstdint>

namespace aquant::quant {

/// Bytes holding n packed 4-bit elements: ceil(n / 2).
inline std::int64_t int4_packed_bytes(std::int64_t n) {
    return (n + 1) / 2;
}

/// Packs n values, each expected in [-8, 7] (pack_int4) or [0, 15] (pack_uint4); only the low
/// four bits of each value are stored, so out-of-range values wrap. Writes int4_packed_bytes(n)
/// bytes. No overlap between `values` and `out`.
void pack_int4(const std::int8_t* values, std::int64_t n, std::uint8_t* out);
void pack_uint4(const std::uint8_t* values, std::int64_t n, std::uint8_t* out);

/// Unpacks n elements: INT4 sign-extended to int8 in [-8, 7], UINT4 to uint8 in [0, 15].
void unpack_int4(const std::uint8_t* packed, std::int64_t n, std::int8_t* out);
void unpack_uint4(const std::uint8_t* packed, std::int64_t n, std::uint8_t* out);

/// kI4 -> kI8 and kU4 -> kU8, same dims. Other types throw InternalError.
Tensor unpack_int4_tensor(const Tensor& packed);

/// kI8 -> kI4 and kU8 -> kU4, same dims. Throws DataError naming the first element outside the
/// 4-bit range (index and value); other types throw InternalError.
Tensor pack_int4_tensor(const Tensor& bytes);

}  // namespace aquant::quant
