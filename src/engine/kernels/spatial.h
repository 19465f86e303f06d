// Window geometry shared by Conv, ConvTranspose, MaxPool and AveragePool: the attributes read once
// at build time (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode) and their resolution
// against the input's spatial dims at run time. 1-D and 2-D windows are resolved as 3-D ones with
// leading unit axes, so every kernel has one 3-D loop nest.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "aquant/engine/kernel.h"

namespace aquant::engine::spatial {

constexpr std::size_t kMaxRank = 3;  // spatial axes a kernel supports (1-D, 2-D, 3-D)

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

struct WindowAttrs {
    std::vector<std::int64_t> kernel_shape;  // empty: from the weight (Conv) / required (pools)
    std::vector<std::int64_t> strides;       // empty: all 1
    std::vector<std::int64_t> dilations;     // empty: all 1
    std::vector<std::int64_t> pads;          // empty: all 0; else begins then ends
    AutoPad auto_pad = AutoPad::kNotSet;
    bool ceil_mode = false;
};

/// Reads and validates the window attributes of `info.node` (auto_pad spelling, non-positive
/// strides/dilations, negative pads, mismatched lengths); throws ModelError naming the node.
WindowAttrs read_window_attrs(const KernelBuildInfo& info);

/// A window resolved for one input shape, always as 3 axes (d, h, w); unused leading axes have
/// in = out = kernel = stride = dilation = 1 and no padding.
struct Geometry {
    int rank = 0;  // spatial rank of the real tensor (1..3)
    std::array<std::int64_t, kMaxRank> in{}, out{}, kernel{}, stride{}, dilation{}, pad_begin{},
        pad_end{};
    std::int64_t in_size() const { return in[0] * in[1] * in[2]; }
    std::int64_t out_size() const { return out[0] * out[1] * out[2]; }
    std::int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
};

enum class WindowKind { kConv, kPool };

/// Output geometry for a sliding window (Conv, pools). `kernel` has one entry per spatial axis.
/// Returns an empty string on success, else what is wrong ("input spatial dims [2,2] are smaller
/// than the dilated kernel [3,3]").
std::string resolve_window(const WindowAttrs& attrs, const Dims& in_spatial,
                           const std::vector<std::int64_t>& kernel, WindowKind kind, Geometry* out);

/// Output geometry for ConvTranspose: `output_shape` (spatial, may be empty) and
/// `output_padding` (may be empty) as in ONNX ConvTranspose-11.
std::string resolve_transpose(const WindowAttrs& attrs, const Dims& in_spatial,
                              const std::vector<std::int64_t>& kernel,
                              const std::vector<std::int64_t>& output_shape,
                              const std::vector<std::int64_t>& output_padding, Geometry* out);

/// For a window offset `off` (= k * dilation - pad_begin) on one axis: the output index range
/// [lo, hi) whose input index o * stride + off lies in [0, in).
inline void valid_range(std::int64_t off, std::int64_t stride, std::int64_t in, std::int64_t out,
                        std::int64_t* lo, std::int64_t* hi) {
    // smallest o with o*stride + off >= 0, largest o with o*stride + off <= in - 1
    std::int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    std::int64_t h = in - 1 - off < 0 ? -1 : (in - 1 - off) / stride;
    *lo = l;
    *hi = std::max<std::int64_t>(l, std::min(out, h + 1));
}

/// The taps of one output position on one axis: the window starts at input position `start`
/// (o * stride - pad_begin); taps k in [first, first + count) land inside the bounds asked for.
struct TapRange {
    std::int64_t start, first, count;
};

/// TapRange for every output index of `axis` (0..2) whose tap positions lie in [lo, hi).
inline std::vector<TapRange> tap_ranges(const Geometry& g, int axis, std::int64_t lo,
                                        std::int64_t hi) {
    const auto a = static_cast<std::size_t>(axis);
    const std::int64_t d = g.dilation[a], k = g.kernel[a];
    std::vector<TapRange> out(static_cast<std::size_t>(g.out[a]));
    for (std::int64_t o = 0; o < g.out[a]; ++o) {
        const std::int64_t start = o * g.stride[a] - g.pad_begin[a];
        const std::int64_t k0 = start >= lo ? 0 : (lo - start + d - 1) / d;
        const std::int64_t k1 = start >= hi ? 0 : std::min(k, (hi - start + d - 1) / d);
        out[static_cast<std::size_t>(o)] = {start, k0, std::max<std::int64_t>(0, k1 - k0)};
    }
    return out;
}

}  // namespace aquant::engine::spatial
