// NumPy .npy files, format versions 1.0, 2.0 and 3.0 (numpy/lib/format.py).
// Element types: <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1, either byte order ('>'
// arrays are byte-swapped on read), C or Fortran order (Fortran arrays are transposed into C
// order on read). Object, string, complex, datetime and structured dtypes are refused with a
// DataError naming the file and the dtype.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/data/array_reader.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace aquant::data {

struct NpyHeader {
    int major_version = 1;
    std::string descr;   // as written: "<f4", ">i8", "|u1"
    ArrayLayout layout;  // data_offset relative to the start of the .npy bytes
};

/// Parses the header at the start of `source` (a file or an .npz member). DataError names
/// source.where() for a bad magic, a malformed header dict or an unsupported dtype.
NpyHeader read_npy_header(const ByteSource& source);

/// The numpy dtype string for a tensor type ("<f4"); DataError for types numpy cannot hold
/// (bfloat16, 4-bit, float8, string, complex).
std::string npy_descr(DType t);

/// Whole array. IoError for a missing/unreadable file, DataError for bad contents (including
/// a header whose shape needs more bytes than the file holds).
Tensor read_npy(const std::string& path);
/// Streaming access to rows of a (possibly larger than memory) .npy file.
ArrayRowReader open_npy_rows(const std::string& path);

/// Serialized .npy bytes (format 1.0, or 2.0 when the header needs it; C order, little-endian;
/// header padded so the data starts at a multiple of 64 bytes, as numpy does).
std::string npy_bytes(const Tensor& t);
/// Writes atomically (temporary file in the same folder, then rename). IoError on failure.
void write_npy(const Tensor& t, const std::string& path);

}  // namespace aquant::data
