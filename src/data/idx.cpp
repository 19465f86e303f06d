#include "aquant/data/idx.h"

#include "data/util.h"

#include <cstdio>
#include <vector>
#include <zlib.h>

namespace aquant::data {
namespace {

using detail::fail;

struct IdxType {
    unsigned char code;
    DType dtype;
};

constexpr IdxType kIdxTypes[] = {
    {0x08, DType::kU8},  {0x09, DType::kI8},  {0x0B, DType::kI16},
    {0x0C, DType::kI32}, {0x0D, DType::kF32}, {0x0E, DType::kF64},
};

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%08X", v);
    return buf;
}

}  // namespace

IdxHeader read_idx_header(const ByteSource& source) {
    const std::string& where = source.where();
    if (source.size() < 4) {
        fail(where, "not an IDX file (" + std::to_string(source.size()) + " bytes, no header)");
    }
    unsigned char m[4];
    source.read_at(0, m, 4);
    IdxHeader h;
    h.magic = detail::load_u32be(m);
    const IdxType* type = nullptr;
    for (const auto& t : kIdxTypes) {
        if (t.code == m[2])
            type = &t;
    }
    if (m[0] != 0 || m[1] != 0 || !type) {
        fail(where, "not an IDX file: magic number " + hex32(h.magic) +
                        "; expected 0x0000TTRR with element type TT in 08,09,0B,0C,0D,0E and "
                        "rank RR (MNIST images 0x00000803, labels 0x00000801)");
    }
    const std::size_t rank = m[3];
    if (source.size() < 4 + 4 * rank) {
        fail(where, "truncated IDX header: rank " + std::to_string(rank) + " needs " +
                        std::to_string(4 + 4 * rank) + " bytes");
    }
    std::vector<unsigned char> dims(4 * rank);
    source.read_at(4, dims.data(), dims.size());
    h.layout.dtype = type->dtype;
    for (std::size_t i = 0; i < rank; ++i) {
        h.layout.dims.push_back(detail::load_u32be(&dims[4 * i]));
    }
    h.layout.data_offset = 4 + 4 * rank;
    h.layout.big_endian = true;
    return h;
}

ArrayRowReader open_idx_rows(const std::string& path) {
    auto source = open_maybe_gzip_source(path);
    const IdxHeader h = read_idx_header(*source);
    return ArrayRowReader(source, h.layout);
}

Tensor read_idx(const std::string& path) {
    return open_idx_rows(path).read_all();
}

std::string idx_bytes(const Tensor& t) {
    const IdxType* type = nullptr;
    for (const auto& row : kIdxTypes) {
        if (row.dtype == t.dtype())
            type = &row;
    }
    if (!type) {
        throw DataError("IDX files cannot hold " + std::string(dtype_name(t.dtype())) +
                        " elements (uint8, int8, int16, int32, float, double)");
    }
    if (t.rank() > 255)
        throw DataError("IDX files hold at most rank 255");
    std::string out;
    out.push_back(0);
    out.push_back(0);
    out.push_back(static_cast<char>(type->code));
    out.push_back(static_cast<char>(t.rank()));
    for (auto d : t.dims()) {
        if (d > 0xFFFFFFFFLL)
            throw DataError("IDX dimensions must fit in 32 bits");
        detail::put_u32be(out, static_cast<std::uint32_t>(d));
    }
    const std::size_t data_start = out.size();
    out.append(static_cast<const char*>(t.raw()), t.size_bytes());
    detail::byteswap_elements(out.data() + data_start, element_size(t.dtype()),
                              static_cast<std::size_t>(t.numel()));
    return out;
}

void write_idx(const Tensor& t, const std::string& path, bool gzip) {
    std::string bytes;
    try {
        bytes = idx_bytes(t);
    } catch (const DataError& e) {
        throw DataError(path + ": " + e.what());
    }
    if (!gzip) {
        detail::write_file_atomic(path, bytes);
        return;
    }
    if (bytes.size() > 0xFFFFFFFFu)
        throw DataError(path + ": too large for write_idx with gzip");
    // gzip member with no name and mtime 0, so the same tensor gives the same file.
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw InternalError("deflateInit2 failed");
    }
    std::string out(deflateBound(&zs, static_cast<uLong>(bytes.size())), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(bytes.data());
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int ret = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (ret != Z_STREAM_END)
        throw InternalError("gzip compression failed");
    detail::write_file_atomic(path, out);
}

}  // namespace aquant::data
