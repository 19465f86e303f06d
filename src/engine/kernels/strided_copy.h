// Gathers a strided view of a source buffer into a contiguous output: dst[i0,...,ik] =
// src[offset + sum(i_d * src_strides[d])]. Transpose, Slice and Expand are this with different
// strides (permuted, scaled by the step, 0 for broadcast dims).
#pragma once

#include "aquant/core/parallel.h"
#include "aquant/core/tensor.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace aquant::engine {

template <typename T>
void strided_copy(const T* src, std::int64_t offset, const Dims& out_dims,
                  const std::vector<std::int64_t>& src_strides, T* dst) {
    const std::int64_t numel = dims_numel(out_dims);
    if (numel == 0) {
        return;
    }
    if (out_dims.empty()) {
        dst[0] = src[offset];
        return;
    }
    const std::size_t rank = out_dims.size();
    const std::int64_t inner = out_dims[rank - 1];
    const std::int64_t inner_stride = src_strides[rank - 1];
    const std::int64_t rows = numel / inner;
    const std::int64_t grain = std::max<std::int64_t>(1, (std::int64_t{1} << 14) / inner);
    parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
            std::int64_t rem = r, off = offset;
            for (std::size_t d = rank - 1; d-- > 0;) {
                off += (rem % out_dims[d]) * src_strides[d];
                rem /= out_dims[d];
            }
            T* out = dst + r * inner;
            const T* in = src + off;
            if (inner_stride == 1) {
                std::copy(in, in + inner, out);
            } else {
                for (std::int64_t i = 0; i < inner; ++i) {
                    out[i] = in[i * inner_stride];
                }
            }
        }
    });
}

}  // namespace aquant::engine
