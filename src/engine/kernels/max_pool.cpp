// ONNX MaxPool-1/8/10/11/12 (float, int8, uint8; 1-D to 3-D): pads, strides, dilations,
// ceil_mode, auto_pad. Padding never wins the max. Optional output Indices holds the flat index
// into X of each maximum (first one on ties), row-major (storage_order 0) or with the spatial
// axes column-major (storage_order 1), as ONNX MaxPool-8.
#include <limits>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "spatial.h"

namespace aquant::engine {
namespace {

using spatial::Geometry;

struct Windows {
    std::vector<spatial::TapRange> d, h, w;  // taps inside the input, per output index
};

// `kIndices`: also track where the maximum is (flat index within the plane).
template <typename T, bool kIndices>
void pool_plane(const T* in, const Geometry& g, const Windows& win, std::int64_t plane_offset,
                bool col_major, T* out, std::int64_t* indices) {
    const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const std::int64_t dd = g.dilation[0], dh = g.dilation[1], dw = g.dilation[2];
    for (const auto& rd : win.d) {
        for (const auto& rh : win.h) {
            for (const auto& rw : win.w) {
                T best = std::numeric_limits<T>::lowest();
                std::int64_t best_at = -1;
                for (std::int64_t kd = rd.first; kd < rd.first + rd.count; ++kd) {
                    const std::int64_t id = rd.start + kd * dd;
                    for (std::int64_t kh = rh.first; kh < rh.first + rh.count; ++kh) {
                        const std::int64_t row_at = (id * H + rh.start + kh * dh) * W + rw.start;
                        const T* row = in + row_at;
                        for (std::int64_t kw = rw.first; kw < rw.first + rw.count; ++kw) {
                            const T v = row[kw * dw];
                            if constexpr (kIndices) {
                                if (v > best || best_at < 0) {
                                    best = v;
                                    best_at = row_at + kw * dw;
                                }
                            } else {
                                best = v > best ? v : best;
                            }
                        }
                    }
                }
                *out++ = best;
                if constexpr (kIndices) {
                    std::int64_t idx = best_at;
                    if (col_major && best_at >= 0) {
                        const std::int64_t id = best_at / (H * W), ih = best_at / W % H;
                        const std::int64_t iw = best_at % W;
                        idx = id + ih * D + iw * D * H;
                    }
                    *indices++ = plane_offset + idx;
                }
            }
        }
    }
}

// Without Indices: for each output row, first the maximum over the window's input rows of each
// input column (a vectorisable pass), then the maximum over each window's columns.
template <typename T>
void pool_plane_fast(const T* in, const Geometry& g, const Windows& win, T* out) {
    const std::int64_t H = g.in[1], W = g.in[2];
    const std::int64_t dd = g.dilation[0], dh = g.dilation[1], dw = g.dilation[2];
    thread_local std::vector<T> colmax;
    colmax.resize(static_cast<std::size_t>(W));
    T* m = colmax.data();
    for (const auto& rd : win.d) {
        for (const auto& rh : win.h) {
            bool first = true;
            for (std::int64_t kd = rd.first; kd < rd.first + rd.count; ++kd) {
                const std::int64_t id = rd.start + kd * dd;
                for (std::int64_t kh = rh.first; kh < rh.first + rh.count; ++kh) {
                    const T* row = in + (id * H + rh.start + kh * dh) * W;
                    if (first) {
                        std::copy(row, row + W, m);
                        first = false;
                    } else {
                        for (std::int64_t i = 0; i < W; ++i) m[i] = row[i] > m[i] ? row[i] : m[i];
                    }
                }
            }
            if (first) std::fill(m, m + W, std::numeric_limits<T>::lowest());
            for (const auto& rw : win.w) {
                T best = std::numeric_limits<T>::lowest();
                const T* mp = m + rw.start;
                for (std::int64_t kw = rw.first; kw < rw.first + rw.count; ++kw) {
                    best = mp[kw * dw] > best ? mp[kw * dw] : best;
                }
                *out++ = best;
            }
        }
    }
}

class MaxPool final : public Kernel {
public:
    MaxPool(spatial::WindowAttrs attrs, bool col_major)
        : attrs_(std::move(attrs)), col_major_(col_major) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const DType dt = x.dtype();
        if (dt != DType::kF32 && dt != DType::kU8 && dt != DType::kI8) fail_type(ctx, 0);
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        Geometry g;
        const std::string err = spatial::resolve_window(
            attrs_, Dims(x.dims().begin() + 2, x.dims().end()), attrs_.kernel_shape,
            spatial::WindowKind::kPool, &g);
        if (!err.empty()) ctx.fail(err);
        Dims out_dims{x.dim(0), x.dim(1)};
        for (int i = 3 - g.rank; i < 3; ++i) out_dims.push_back(g.out[i]);
        Tensor& y = ctx.allocate_output_uninit(0, dt, out_dims);
        std::int64_t* indices = nullptr;
        if (ctx.num_outputs() > 1 && ctx.node().outputs[1].valid()) {
            indices = ctx.allocate_output(1, DType::kI64, out_dims).data<std::int64_t>();
        }
        const std::int64_t planes = x.dim(0) * x.dim(1);
        const std::int64_t in_size = g.in_size(), out_size = g.out_size();
        const std::int64_t grain =
            std::max<std::int64_t>(1, kElementwiseGrain / (out_size * g.kernel_size() + 1));
        Windows win{spatial::tap_ranges(g, 0, 0, g.in[0]), spatial::tap_ranges(g, 1, 0, g.in[1]),
                    spatial::tap_ranges(g, 2, 0, g.in[2])};
        visit_type<float, std::uint8_t, std::int8_t>(dt, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* xp = x.data<T>();
            T* yp = y.data<T>();
            parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t i = begin; i < end; ++i) {
                    if (indices) {
                        pool_plane<T, true>(xp + i * in_size, g, win, i * in_size, col_major_,
                                            yp + i * out_size, indices + i * out_size);
                    } else {
                        pool_plane_fast<T>(xp + i * in_size, g, win, yp + i * out_size);
                    }
                }
            });
        });
    }

private:
    spatial::WindowAttrs attrs_;
    bool col_major_;
};

}  // namespace

void register_max_pool(KernelRegistry& registry) {
    registry.add("MaxPool", [](const KernelBuildInfo& info) -> KernelPtr {
        auto attrs = spatial::read_window_attrs(info);
        if (attrs.kernel_shape.empty()) info.fail("attribute 'kernel_shape' is required");
        if (attrs.kernel_shape.size() > spatial::kMaxRank) {
            info.fail("attribute 'kernel_shape': expected 1 to 3 spatial axes, got " +
                      dims_str(attrs.kernel_shape));
        }
        return std::make_unique<MaxPool>(std::move(attrs),
                                         info.node.attr_int("storage_order", 0) != 0);
    });
}

}  // namespace aquant::engine
