// ONNX AveragePool-1/7/10/11/19 (fp32; 1-D to 3-D): pads, strides, dilations, ceil_mode,
// auto_pad, count_include_pad. The divisor counts the window taps inside the input, or with
// count_include_pad the taps inside the padded input [-pad_begin, in + pad_end) (a ceil_mode
// window hanging past the end padding counts only its taps inside it, as ONNX Runtime).
#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "spatial.h"

namespace aquant::engine {
namespace {

using spatial::Geometry;

struct Windows {
    std::vector<spatial::TapRange> d, h, w;     // taps inside the input
    std::vector<std::int64_t> pd, ph, pw;       // taps inside the padded input, per output index
};

std::vector<std::int64_t> padded_counts(const Geometry& g, int axis) {
    const auto a = static_cast<std::size_t>(axis);
    std::vector<std::int64_t> out;
    for (const auto& r : spatial::tap_ranges(g, axis, -g.pad_begin[a], g.in[a] + g.pad_end[a])) {
        out.push_back(r.count);
    }
    return out;
}

// For each output row, first the sum over the window's input rows of each input column (a
// vectorisable pass), then the sum over each window's columns.
void pool_plane(const float* in, const Geometry& g, const Windows& win, bool include_pad,
                float* out) {
    const std::int64_t H = g.in[1], W = g.in[2];
    const std::int64_t dd = g.dilation[0], dh = g.dilation[1], dw = g.dilation[2];
    thread_local std::vector<float> colsum;
    colsum.resize(static_cast<std::size_t>(W));
    float* m = colsum.data();
    for (std::size_t od = 0; od < win.d.size(); ++od) {
        const auto& rd = win.d[od];
        for (std::size_t oh = 0; oh < win.h.size(); ++oh) {
            const auto& rh = win.h[oh];
            std::fill(m, m + W, 0.0f);
            for (std::int64_t kd = rd.first; kd < rd.first + rd.count; ++kd) {
                const std::int64_t id = rd.start + kd * dd;
                for (std::int64_t kh = rh.first; kh < rh.first + rh.count; ++kh) {
                    const float* row = in + (id * H + rh.start + kh * dh) * W;
                    for (std::int64_t i = 0; i < W; ++i) m[i] += row[i];
                }
            }
            for (std::size_t ow = 0; ow < win.w.size(); ++ow) {
                const auto& rw = win.w[ow];
                float sum = 0.0f;
                const float* mp = m + rw.start;
                for (std::int64_t kw = rw.first; kw < rw.first + rw.count; ++kw) sum += mp[kw * dw];
                const std::int64_t count = include_pad ? win.pd[od] * win.ph[oh] * win.pw[ow]
                                                       : rd.count * rh.count * rw.count;
                *out++ = count > 0 ? sum / static_cast<float>(count) : 0.0f;
            }
        }
    }
}

class AveragePool final : public Kernel {
public:
    AveragePool(spatial::WindowAttrs attrs, bool include_pad)
        : attrs_(std::move(attrs)), include_pad_(include_pad) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        Geometry g;
        const std::string err = spatial::resolve_window(
            attrs_, Dims(x.dims().begin() + 2, x.dims().end()), attrs_.kernel_shape,
            spatial::WindowKind::kPool, &g);
        if (!err.empty()) ctx.fail(err);
        Dims out_dims{x.dim(0), x.dim(1)};
        for (int i = 3 - g.rank; i < 3; ++i) out_dims.push_back(g.out[i]);
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, out_dims);
        const std::int64_t planes = x.dim(0) * x.dim(1);
        const std::int64_t in_size = g.in_size(), out_size = g.out_size();
        const std::int64_t grain =
            std::max<std::int64_t>(1, kElementwiseGrain / (out_size * g.kernel_size() + 1));
        const float* xp = x.data<float>();
        float* yp = y.data<float>();
        const Windows win{spatial::tap_ranges(g, 0, 0, g.in[0]),
                          spatial::tap_ranges(g, 1, 0, g.in[1]),
                          spatial::tap_ranges(g, 2, 0, g.in[2]),
                          padded_counts(g, 0),
                          padded_counts(g, 1),
                          padded_counts(g, 2)};
        parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                pool_plane(xp + i * in_size, g, win, include_pad_, yp + i * out_size);
            }
        });
    }

private:
    spatial::WindowAttrs attrs_;
    bool include_pad_;
};

}  // namespace

void register_average_pool(KernelRegistry& registry) {
    registry.add("AveragePool", [](const KernelBuildInfo& info) -> KernelPtr {
        auto attrs = spatial::read_window_attrs(info);
        if (attrs.kernel_shape.empty()) info.fail("attribute 'kernel_shape' is required");
        if (attrs.kernel_shape.size() > spatial::kMaxRank) {
            info.fail("attribute 'kernel_shape': expected 1 to 3 spatial axes, got " +
                      dims_str(attrs.kernel_shape));
        }
        return std::make_unique<AveragePool>(std::move(attrs),
                                             info.node.attr_int("count_include_pad", 0) != 0);
    });
}

}  // namespace aquant::engine
