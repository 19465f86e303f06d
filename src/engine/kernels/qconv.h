// Integer convolution shared by QLinearConv and ConvInteger (NCHW, 1-D to 3-D, groups): weights
// are packed once (zero point subtracted, int16, qgemm row tiles per group), activations go
// through im2col with the input zero point as the padding value, the GEMM accumulates exact
// int32, and the qgemm output stage writes int32 or requantized uint8/int8. Depthwise layers
// (one input channel per group) take a direct loop instead. Work is split over (group, column
// block) or (image, channel plane); every output element is computed by the same exact integer
// arithmetic whatever the split, so results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qgemm.h"
#include "spatial.h"

namespace aquant::engine::qconv {

/// Weights [M, C/group, k...] with the zero point subtracted, packed for the kernel.
struct PackedWeights {
    Dims dims;
    std::int64_t m = 0, cg = 0, group = 1, mg = 0;
    std::int64_t ksize = 0;  // spatial kernel elements
    std::int64_t depth = 0;  // cg * ksize
    std::int64_t max_abs = 0;  // largest |w - w_zero_point|
    std::vector<std::int32_t> rows;      // GEMM path: group g at g * group_stride
    std::size_t group_stride = 0;
    std::vector<std::int16_t> depthwise;  // depthwise path (cg == 1): [M][ksize]
    bool is_depthwise() const { return cg == 1; }
};

/// Packs w (uint8 or int8 elements, dims [M, C/group, k...]); `zero_point` holds one value or
/// one per output channel. Throws InternalError on inconsistent sizes (callers validate).
template <typename W>
PackedWeights pack_weights(const W* w, const Dims& dims, std::int64_t group,
                           const std::vector<std::int32_t>& zero_point);

struct Shape {
    std::int64_t n = 0, c = 0, m = 0, group = 1, cg = 0, mg = 0;
    spatial::Geometry g;
    Dims out_dims;  // [N, M, out...]
};

/// Shape of a run; returns an error text ("input 3 (w) [8,3,3,3] does not match ...") or empty.
std::string resolve_shape(const spatial::WindowAttrs& attrs, const Dims& x_dims,
                          const PackedWeights& w, Shape* out);

/// y = conv(x - x_zero_point, w) through `stage` (kI32 output: stage.requantize = false).
/// X: uint8 / int8; Y: uint8 / int8 / int32.
template <typename X, typename Y>
void run(const Shape& s, const X* x, std::int32_t x_zero_point, const PackedWeights& w,
         const qgemm::OutputStage& stage, Y* y);

}  // namespace aquant::engine::qconv
