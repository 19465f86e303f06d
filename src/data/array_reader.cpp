#include "aquant/data/array_reader.h"

#include "data/util.h"

#include <cstring>
#include <vector>

namespace aquant::data {

using detail::checked_mul;
using detail::fail;

std::size_t element_size(DType t) {
    switch (t) {
        case DType::kU8:
        case DType::kI8:
        case DType::kBool:
            return 1;
        case DType::kU16:
        case DType::kI16:
        case DType::kF16:
        case DType::kBF16:
            return 2;
        case DType::kU32:
        case DType::kI32:
        case DType::kF32:
            return 4;
        case DType::kU64:
        case DType::kI64:
        case DType::kF64:
            return 8;
        default:
            throw InternalError("element_size: unsupported type " + std::string(dtype_name(t)));
    }
}

ArrayRowReader::ArrayRowReader(ByteSourcePtr source, ArrayLayout layout)
    : source_(std::move(source)), layout_(std::move(layout)) {
    const std::string& where = source_->where();
    std::uint64_t numel = 1;
    for (auto d : layout_.dims) {
        if (d < 0)
            fail(where, "negative dimension in shape " + dims_str(layout_.dims));
        numel = checked_mul(numel, static_cast<std::uint64_t>(d), where);
    }
    const std::uint64_t need = checked_mul(numel, element_size(layout_.dtype), where);
    const std::uint64_t have =
        source_->size() > layout_.data_offset ? source_->size() - layout_.data_offset : 0;
    if (need > have) {
        fail(where, "header shape " + dims_str(layout_.dims) + " (" +
                        std::string(dtype_name(layout_.dtype)) + ") needs " + std::to_string(need) +
                        " bytes of data, but the file holds only " + std::to_string(have));
    }
}

std::int64_t ArrayRowReader::rows() const {
    return layout_.dims.empty() ? 0 : layout_.dims[0];
}

Dims ArrayRowReader::sample_dims() const {
    if (layout_.dims.empty())
        return {};
    return Dims(layout_.dims.begin() + 1, layout_.dims.end());
}

const std::string& ArrayRowReader::where() const {
    static const std::string kNone = "(no data)";
    return source_ ? source_->where() : kNone;
}

Tensor ArrayRowReader::read_all() const {
    if (layout_.dims.empty()) {
        Tensor t(layout_.dtype, {});
        source_->read_at(layout_.data_offset, t.raw(), t.size_bytes());
        if (layout_.big_endian)
            detail::byteswap_elements(t.raw(), element_size(t.dtype()), 1);
        return t;
    }
    return read_rows(0, rows());
}

Tensor ArrayRowReader::read_rows(std::int64_t start, std::int64_t count) const {
    if (!source_)
        throw InternalError("ArrayRowReader: no source");
    if (layout_.dims.empty())
        fail(where(), "a scalar (rank-0) array has no rows");
    const std::int64_t n_rows = rows();
    if (start < 0 || count < 0 || start > n_rows || count > n_rows - start) {
        throw InternalError(where() + ": rows [" + std::to_string(start) + ", " +
                            std::to_string(start + count) + ") outside [0, " +
                            std::to_string(n_rows) + ")");
    }
    Dims out_dims = layout_.dims;
    out_dims[0] = count;
    Tensor out(layout_.dtype, out_dims);
    const std::size_t esize = element_size(layout_.dtype);
    const auto row_elems = static_cast<std::uint64_t>(dims_numel(sample_dims()));
    auto* dst = static_cast<unsigned char*>(out.raw());

    if (!layout_.fortran_order || layout_.dims.size() == 1 || count == 0 || row_elems == 0) {
        const std::uint64_t row_bytes = row_elems * esize;
        source_->read_at(layout_.data_offset + static_cast<std::uint64_t>(start) * row_bytes, dst,
                         static_cast<std::size_t>(row_bytes * static_cast<std::uint64_t>(count)));
    } else {
        // Column-major: element (r, j1..jk) sits at r + N * (j1 + d1 * (j2 + ...)). For each
        // trailing index m (j1 fastest) the requested rows are one contiguous run of `count`
        // elements; each run is scattered to C-order positions.
        const Dims sd = sample_dims();
        const std::size_t k = sd.size();
        std::vector<std::int64_t> j(k, 0);
        std::vector<std::uint64_t> c_stride(k, 1);
        for (std::size_t a = k - 1; a > 0; --a)
            c_stride[a - 1] = c_stride[a] * sd[a];
        const bool whole = count == n_rows;
        std::vector<unsigned char> run(whole ? 0 : static_cast<std::size_t>(count) * esize);
        std::vector<unsigned char> all;
        if (whole) {
            all.resize(static_cast<std::size_t>(row_elems * n_rows) * esize);
            source_->read_at(layout_.data_offset, all.data(), all.size());
        }
        for (std::uint64_t m = 0; m < row_elems; ++m) {
            const unsigned char* src;
            if (whole) {
                src = all.data() + m * static_cast<std::uint64_t>(n_rows) * esize;
            } else {
                const std::uint64_t elem =
                    static_cast<std::uint64_t>(start) + m * static_cast<std::uint64_t>(n_rows);
                source_->read_at(layout_.data_offset + elem * esize, run.data(), run.size());
                src = run.data();
            }
            std::uint64_t c_index = 0;
            for (std::size_t a = 0; a < k; ++a)
                c_index += static_cast<std::uint64_t>(j[a]) * c_stride[a];
            for (std::int64_t r = 0; r < count; ++r) {
                std::memcpy(dst + (static_cast<std::uint64_t>(r) * row_elems + c_index) * esize,
                            src + static_cast<std::size_t>(r) * esize, esize);
            }
            for (std::size_t a = 0; a < k; ++a) {  // next Fortran-order index, j1 fastest
                if (++j[a] < sd[a])
                    break;
                j[a] = 0;
            }
        }
    }
    if (layout_.big_endian) {
        detail::byteswap_elements(dst, esize, static_cast<std::size_t>(out.numel()));
    }
    return out;
}

}  // namespace aquant::data
