#include "quant_layout.h"

#include "kernel_util.h"

namespace aquant::engine {

std::string resolve_quant_layout(const Tensor& x, const Tensor& scale, const Tensor* zero_point,
                                 std::int64_t axis, std::int64_t block_size, QuantLayout* out) {
    *out = QuantLayout{};
    if (zero_point && zero_point->dims() != scale.dims()) {
        return "zero point " + dims_str(zero_point->dims()) + " does not match scale " +
               dims_str(scale.dims());
    }
    const auto rank = static_cast<std::int64_t>(x.rank());
    if (scale.numel() == 1 && block_size == 0 && scale.rank() <= 1) {
        out->inner = x.numel();
        return {};
    }
    if (!normalize_axis(axis, rank)) {
        return "attribute 'axis' " + std::to_string(axis) + " is out of range for input " +
               dims_str(x.dims());
    }
    for (std::int64_t d = 0; d < axis; ++d) out->outer *= x.dim(static_cast<std::size_t>(d));
    out->axis_len = x.dim(static_cast<std::size_t>(axis));
    for (std::int64_t d = axis + 1; d < rank; ++d) out->inner *= x.dim(static_cast<std::size_t>(d));
    if (block_size == 0) {
        if (scale.rank() != 1 || scale.dim(0) != out->axis_len) {
            return "scale " + dims_str(scale.dims()) + ": expected a scalar or [" +
                   std::to_string(out->axis_len) + "] for axis " + std::to_string(axis) +
                   " of input " + dims_str(x.dims());
        }
        out->kind = QuantLayout::Kind::kPerAxis;
        return {};
    }
    if (block_size < 0) return "attribute 'block_size' must be >= 0, got " + std::to_string(block_size);
    Dims want = x.dims();
    want[static_cast<std::size_t>(axis)] = (out->axis_len + block_size - 1) / block_size;
    if (scale.dims() != want) {
        return "scale " + dims_str(scale.dims()) + ": expected " + dims_str(want) +
               " for block_size " + std::to_string(block_size) + " on axis " +
               std::to_string(axis) + " of input " + dims_str(x.dims());
    }
    out->kind = QuantLayout::Kind::kBlocked;
    out->block = block_size;
    out->nblocks = want[static_cast<std::size_t>(axis)];
    return {};
}

bool quant_range(DType t, std::int64_t* lo, std::int64_t* hi) {
    switch (t) {
        case DType::kU8: *lo = 0; *hi = 255; return true;
        case DType::kI8: *lo = -128; *hi = 127; return true;
        case DType::kU16: *lo = 0; *hi = 65535; return true;
        case DType::kI16: *lo = -32768; *hi = 32767; return true;
        case DType::kI32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
        case DType::kU4: *lo = 0; *hi = 15; return true;
        case DType::kI4: *lo = -8; *hi = 7; return true;
        default: return false;
    }
}

std::int64_t quant_value(const Tensor& t, std::int64_t i) {
    const void* p = t.raw();
    switch (t.dtype()) {
        case DType::kU8: return static_cast<const std::uint8_t*>(p)[i];
        case DType::kI8: return static_cast<const std::int8_t*>(p)[i];
        case DType::kU16: return static_cast<const std::uint16_t*>(p)[i];
        case DType::kI16: return static_cast<const std::int16_t*>(p)[i];
        case DType::kI32: return static_cast<const std::int32_t*>(p)[i];
        case DType::kU4:
        case DType::kI4: {
            const std::uint8_t byte = static_cast<const std::uint8_t*>(p)[i / 2];
            const int nib = (i % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
            return t.dtype() == DType::kI4 && nib >= 8 ? nib - 16 : nib;
        }
        default: return 0;
    }
}

float scale_value(const Tensor& t, std::int64_t i) {
    if (t.dtype() == DType::kF16) return half_to_float(static_cast<const std::uint16_t*>(t.raw())[i]);
    return static_cast<const float*>(t.raw())[i];
}

}  // namespace aquant::engine
