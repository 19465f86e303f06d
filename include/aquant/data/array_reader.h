// Row access to arrays stored in files: .npy files, stored or deflated .npz members, raw or
// gzipped IDX files, and tensors already in memory. A ByteSource is random-access bytes; an
// ArrayRowReader slices rows (along axis 0) out of one, so a batch costs O(batch) memory and a
// data set larger than memory streams.
#pragma once

#include "aquant/core/tensor.h"

#include <cstdint>
#include <memory>
#include <string>

namespace aquant::data {

/// Random-access bytes. Implementations are thread-safe: read_at may be called concurrently.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t size() const = 0;
    /// Copies bytes [offset, offset + n) to dst. Throws DataError naming where() when the range
    /// is past the end or the underlying data is corrupt, IoError when the file cannot be read.
    virtual void read_at(std::uint64_t offset, void* dst, std::size_t n) const = 0;
    /// Names the data in messages: "a.npy", "data.npz: member 'x.npy'".
    virtual const std::string& where() const = 0;
};

using ByteSourcePtr = std::shared_ptr<const ByteSource>;

/// A plain file read with pread. Throws IoError naming the path when it cannot be opened.
ByteSourcePtr open_file_source(const std::string& path);
/// A gzip file, decompressed with zlib. The whole stream is decompressed once when opened to
/// learn its size and to find truncation or a CRC mismatch early (DataError naming the file).
/// Reads seek forward by decompressing; a read before the current position restarts the
/// stream, so sequential batches are cheap and random access is slow.
ByteSourcePtr open_gzip_source(const std::string& path);
/// The file at `path`, gzip-decompressed when its first bytes are the gzip magic (1f 8b).
ByteSourcePtr open_maybe_gzip_source(const std::string& path);
/// Bytes [offset, offset + size) of another source.
ByteSourcePtr sub_source(ByteSourcePtr parent, std::uint64_t offset, std::uint64_t size,
                         std::string where);
/// The storage bytes of a tensor (little-endian, C order).
ByteSourcePtr memory_source(const Tensor& t, std::string where);
/// Bytes held in memory.
ByteSourcePtr memory_source(std::string bytes, std::string where);

/// How an array is laid out in its source.
struct ArrayLayout {
    DType dtype = DType::kUndefined;
    Dims dims;
    std::uint64_t data_offset = 0;  // first element's byte offset in the source
    bool big_endian = false;        // elements are byte-swapped to host (little-endian) order
    bool fortran_order = false;     // column-major; rows are transposed into C order
};

/// Element size in bytes of the dtypes the readers produce (1, 2, 4 or 8).
std::size_t element_size(DType t);

/// Reads rows [start, start + count) of an array as a C-order, host-endian Tensor
/// [count, dims[1:]...]. Checks at construction that the source holds all the bytes the
/// layout promises (DataError naming the source, the dims and both byte counts).
class ArrayRowReader {
public:
    ArrayRowReader() = default;
    ArrayRowReader(ByteSourcePtr source, ArrayLayout layout);

    const ArrayLayout& layout() const { return layout_; }

    DType dtype() const { return layout_.dtype; }

    const Dims& dims() const { return layout_.dims; }

    /// dims[0]; a rank-0 array has no rows (read_rows throws DataError).
    std::int64_t rows() const;
    /// dims[1:].
    Dims sample_dims() const;
    const std::string& where() const;

    Tensor read_rows(std::int64_t start, std::int64_t count) const;
    Tensor read_all() const;

private:
    ByteSourcePtr source_;
    ArrayLayout layout_;
};

}  // namespace aquant::data
