// IDX files (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/), raw or gzip
// (detected from the content, not the name). Header: two zero bytes, an element-type byte, the
// rank, then one big-endian uint32 per dimension; elements are big-endian.
//   0x08 uint8  0x09 int8  0x0B int16  0x0C int32  0x0D float32  0x0E float64
// MNIST images are magic 0x00000803 (uint8 [N,28,28]), labels 0x00000801 (uint8 [N]).
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/data/array_reader.h"

#include <cstdint>
#include <string>

namespace aquant::data {

struct IdxHeader {
    std::uint32_t magic = 0;
    ArrayLayout layout;  // big_endian is set; data_offset = 4 + 4 * rank
};

/// DataError naming the file and the magic found (hex) when the magic is not an IDX magic.
IdxHeader read_idx_header(const ByteSource& source);

Tensor read_idx(const std::string& path);
/// Streaming rows; gzip files decompress sequentially (see open_gzip_source).
ArrayRowReader open_idx_rows(const std::string& path);

/// IDX bytes for uint8, int8, int16, int32, float32 or float64 tensors (DataError otherwise).
std::string idx_bytes(const Tensor& t);
/// Writes an IDX file, gzip-compressed when `gzip` is set.
void write_idx(const Tensor& t, const std::string& path, bool gzip);

}  // namespace aquant::data
