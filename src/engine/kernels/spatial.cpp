#include "spatial.h"

#include <algorithm>

namespace aquant::engine::spatial {
namespace {

std::string ints_str(const std::vector<std::int64_t>& v) { return dims_str(Dims(v)); }

AutoPad parse_auto_pad(const KernelBuildInfo& info) {
    const std::string s = info.node.attr_string("auto_pad", "NOTSET");
    if (s == "NOTSET" || s.empty()) return AutoPad::kNotSet;
    if (s == "SAME_UPPER") return AutoPad::kSameUpper;
    if (s == "SAME_LOWER") return AutoPad::kSameLower;
    if (s == "VALID") return AutoPad::kValid;
    info.fail("attribute 'auto_pad': expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '" + s +
              "'");
}

// Pads the per-axis vectors of the real spatial rank `r` to 3 axes.
void to_3d(int r, std::array<std::int64_t, kMaxRank>& a, std::int64_t fill) {
    const int shift = static_cast<int>(kMaxRank) - r;
    for (int i = static_cast<int>(kMaxRank) - 1; i >= 0; --i) {
        a[static_cast<std::size_t>(i)] = i >= shift ? a[static_cast<std::size_t>(i - shift)] : fill;
    }
}

std::string check_common(const WindowAttrs& attrs, std::size_t r,
                         const std::vector<std::int64_t>& kernel, Geometry* g) {
    if (r == 0 || r > kMaxRank) {
        return "spatial rank " + std::to_string(r) + " is not supported, expected 1 to 3";
    }
    if (kernel.size() != r) {
        return "kernel " + ints_str(kernel) + " does not match spatial rank " + std::to_string(r);
    }
    auto check_len = [&](const std::vector<std::int64_t>& v, std::size_t want,
                         const char* name) -> std::string {
        if (!v.empty() && v.size() != want) {
            return std::string("attribute '") + name + "' has " + std::to_string(v.size()) +
                   " values, expected " + std::to_string(want);
        }
        return {};
    };
    for (auto err : {check_len(attrs.strides, r, "strides"),
                     check_len(attrs.dilations, r, "dilations"), check_len(attrs.pads, 2 * r, "pads"),
                     check_len(attrs.kernel_shape, r, "kernel_shape")}) {
        if (!err.empty()) return err;
    }
    g->rank = static_cast<int>(r);
    for (std::size_t i = 0; i < r; ++i) {
        if (kernel[i] <= 0) return "kernel " + ints_str(kernel) + " has a non-positive size";
        g->kernel[i] = kernel[i];
        g->stride[i] = attrs.strides.empty() ? 1 : attrs.strides[i];
        g->dilation[i] = attrs.dilations.empty() ? 1 : attrs.dilations[i];
        g->pad_begin[i] = attrs.pads.empty() ? 0 : attrs.pads[i];
        g->pad_end[i] = attrs.pads.empty() ? 0 : attrs.pads[r + i];
    }
    return {};
}

void finish_3d(Geometry* g) {
    const int r = g->rank;
    to_3d(r, g->in, 1);
    to_3d(r, g->out, 1);
    to_3d(r, g->kernel, 1);
    to_3d(r, g->stride, 1);
    to_3d(r, g->dilation, 1);
    to_3d(r, g->pad_begin, 0);
    to_3d(r, g->pad_end, 0);
}

}  // namespace

WindowAttrs read_window_attrs(const KernelBuildInfo& info) {
    WindowAttrs a;
    const ir::Node& n = info.node;
    a.kernel_shape = n.attr_ints("kernel_shape");
    a.strides = n.attr_ints("strides");
    a.dilations = n.attr_ints("dilations");
    a.pads = n.attr_ints("pads");
    a.auto_pad = parse_auto_pad(info);
    a.ceil_mode = n.attr_int("ceil_mode", 0) != 0;
    for (auto v : a.strides) {
        if (v <= 0) info.fail("attribute 'strides': expected positive values, got " +
                              ints_str(a.strides));
    }
    for (auto v : a.dilations) {
        if (v <= 0) info.fail("attribute 'dilations': expected positive values, got " +
                              ints_str(a.dilations));
    }
    for (auto v : a.kernel_shape) {
        if (v <= 0) info.fail("attribute 'kernel_shape': expected positive values, got " +
                              ints_str(a.kernel_shape));
    }
    if (a.pads.size() % 2 != 0) {
        info.fail("attribute 'pads': expected an even number of values, got " + ints_str(a.pads));
    }
    return a;
}

std::string resolve_window(const WindowAttrs& attrs, const Dims& in_spatial,
                           const std::vector<std::int64_t>& kernel, WindowKind kind, Geometry* g) {
    const std::size_t r = in_spatial.size();
    *g = Geometry{};
    if (auto err = check_common(attrs, r, kernel, g); !err.empty()) return err;
    for (std::size_t i = 0; i < r; ++i) {
        const std::int64_t in = in_spatial[i], s = g->stride[i];
        const std::int64_t k_eff = (g->kernel[i] - 1) * g->dilation[i] + 1;
        g->in[i] = in;
        if (attrs.auto_pad == AutoPad::kSameUpper || attrs.auto_pad == AutoPad::kSameLower) {
            const std::int64_t out = (in + s - 1) / s;
            const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + k_eff - in);
            const std::int64_t small = total / 2;
            g->pad_begin[i] = attrs.auto_pad == AutoPad::kSameUpper ? small : total - small;
            g->pad_end[i] = total - g->pad_begin[i];
            g->out[i] = out;
            continue;
        }
        if (attrs.auto_pad == AutoPad::kValid) g->pad_begin[i] = g->pad_end[i] = 0;
        if (g->pad_begin[i] < 0 || g->pad_end[i] < 0) {
            return "attribute 'pads' " + ints_str(attrs.pads) + " has a negative value";
        }
        const std::int64_t span = in + g->pad_begin[i] + g->pad_end[i] - k_eff;
        if (span < 0) {
            return "input spatial dims " + dims_str(in_spatial) +
                   " (padded) are smaller than the dilated kernel " + ints_str(kernel);
        }
        std::int64_t out = span / s + 1;
        if (kind == WindowKind::kPool && attrs.ceil_mode) {
            out = (span + s - 1) / s + 1;
            // A window must start inside the input or the leading padding (as PyTorch and ONNX
            // Runtime): drop a last window that would start in the trailing padding.
            if ((out - 1) * s >= in + g->pad_begin[i]) --out;
        }
        g->out[i] = out;
    }
    finish_3d(g);
    return {};
}

std::string resolve_transpose(const WindowAttrs& attrs, const Dims& in_spatial,
                              const std::vector<std::int64_t>& kernel,
                              const std::vector<std::int64_t>& output_shape,
                              const std::vector<std::int64_t>& output_padding, Geometry* g) {
    const std::size_t r = in_spatial.size();
    *g = Geometry{};
    if (auto err = check_common(attrs, r, kernel, g); !err.empty()) return err;
    if (!output_padding.empty() && output_padding.size() != r) {
        return "attribute 'output_padding' has " + std::to_string(output_padding.size()) +
               " values, expected " + std::to_string(r);
    }
    // output_shape may also be given with the batch and channel dims in front.
    std::vector<std::int64_t> out_shape = output_shape;
    if (out_shape.size() == r + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    if (!out_shape.empty() && out_shape.size() != r) {
        return "attribute 'output_shape' " + ints_str(output_shape) + " does not match spatial rank " +
               std::to_string(r);
    }
    for (std::size_t i = 0; i < r; ++i) {
        const std::int64_t in = in_spatial[i], s = g->stride[i];
        const std::int64_t k_eff = (g->kernel[i] - 1) * g->dilation[i] + 1;
        const std::int64_t adj = output_padding.empty() ? 0 : output_padding[i];
        const std::int64_t full = s * (in - 1) + adj + k_eff;  // output length with no padding
        g->in[i] = in;
        const bool same = attrs.auto_pad == AutoPad::kSameUpper ||
                          attrs.auto_pad == AutoPad::kSameLower;
        if (!out_shape.empty() || same) {
            const std::int64_t out = !out_shape.empty() ? out_shape[i] : in * s;
            const std::int64_t total = full - out;
            if (total < 0) {
                // A requested output longer than the full one: the tail is never written.
                g->pad_begin[i] = 0;
            } else if (attrs.auto_pad == AutoPad::kSameUpper) {
                g->pad_begin[i] = total / 2;
            } else {
                g->pad_begin[i] = total - total / 2;
            }
            g->pad_end[i] = total - g->pad_begin[i];
            g->out[i] = out;
            continue;
        }
        if (attrs.auto_pad == AutoPad::kValid) g->pad_begin[i] = g->pad_end[i] = 0;
        g->out[i] = full - g->pad_begin[i] - g->pad_end[i];
        if (g->out[i] <= 0) {
            return "output spatial size " + std::to_string(g->out[i]) + " on axis " +
                   std::to_string(i) + " is not positive";
        }
    }
    finish_3d(g);
    return {};
}

}  // namespace aquant::engine::spatial
