// How a QuantizeLinear / DequantizeLinear scale (and zero point) maps onto the data: per tensor,
// per axis (1-D of length x.shape[axis]) or blocked (opset 21: same rank as x, the axis dim
// ceil(x.shape[axis] / block_size)). The data is viewed as [outer, axis_len, inner].
#pragma once

#include <cstdint>
#include <string>

#include "aquant/core/tensor.h"

namespace aquant::engine {

struct QuantLayout {
    enum class Kind { kPerTensor, kPerAxis, kBlocked };
    Kind kind = Kind::kPerTensor;
    std::int64_t outer = 1, axis_len = 1, inner = 1;
    std::int64_t block = 0;    // block_size (kBlocked)
    std::int64_t nblocks = 1;  // ceil(axis_len / block) (kBlocked)

    /// Scale index of element (o, a, i).
    std::int64_t scale_index(std::int64_t o, std::int64_t a, std::int64_t i) const {
        switch (kind) {
            case Kind::kPerTensor: return 0;
            case Kind::kPerAxis: return a;
            case Kind::kBlocked: break;
        }
        return (o * nblocks + a / block) * inner + i;
    }
};

/// Resolves the layout of `scale` for data `x`; returns an error text or empty. `zero_point`
/// (may be null) must have the scale's dims.
std::string resolve_quant_layout(const Tensor& x, const Tensor& scale, const Tensor* zero_point,
                                 std::int64_t axis, std::int64_t block_size, QuantLayout* out);

/// Saturation range of an integer element type used by Q/DQ; false for other types.
bool quant_range(DType t, std::int64_t* lo, std::int64_t* hi);

/// Element i of an integer tensor (INT4/UINT4 unpacked, sign-extended) as int64.
std::int64_t quant_value(const Tensor& t, std::int64_t i);

/// Scale element i as float (float32 or float16 storage).
float scale_value(const Tensor& t, std::int64_t i);

}  // namespace aquant::engine
