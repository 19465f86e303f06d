// ONNX ConvTranspose-1/11 (fp32, NCHW, 1-D to 3-D): per (image, group, block of output channels)
// a GEMM col = W^T * X followed by col2im, which scatters the columns into the output planes.
// Output channel blocks depend only on the shapes, and each block owns its output planes, so
// results do not depend on the thread count.
#include <algorithm>

#include "aquant/core/parallel.h"
#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "spatial.h"
#include "thread_scratch.h"

namespace aquant::engine {
namespace {

using spatial::Geometry;

// Upper bound on the col buffer of one work item (floats).
constexpr std::int64_t kColFloats = 1 << 16;

// Adds rows (oc, kd, kh, kw) x input positions of col into the `channels` output planes at y.
void col2im(const float* col, std::int64_t channels, const Geometry& g, float* y) {
    const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const std::int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
    const std::int64_t pin = g.in_size();
    for (std::int64_t c = 0; c < channels; ++c) {
        float* yc = y + c * g.out_size();
        for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const std::int64_t offd = kd * g.dilation[0] - g.pad_begin[0];
            std::int64_t lo_d, hi_d;
            spatial::valid_range(offd, g.stride[0], OD, D, &lo_d, &hi_d);
            for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                const std::int64_t offh = kh * g.dilation[1] - g.pad_begin[1];
                std::int64_t lo_h, hi_h;
                spatial::valid_range(offh, g.stride[1], OH, H, &lo_h, &hi_h);
                for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw, col += pin) {
                    const std::int64_t offw = kw * g.dilation[2] - g.pad_begin[2];
                    std::int64_t lo_w, hi_w;
                    spatial::valid_range(offw, g.stride[2], OW, W, &lo_w, &hi_w);
                    for (std::int64_t id = lo_d; id < hi_d; ++id) {
                        const std::int64_t od = id * g.stride[0] + offd;
                        for (std::int64_t ih = lo_h; ih < hi_h; ++ih) {
                            const std::int64_t oh = ih * g.stride[1] + offh;
                            const float* src = col + (id * H + ih) * W;
                            float* dst = yc + (od * OH + oh) * OW + offw;
                            for (std::int64_t iw = lo_w; iw < hi_w; ++iw) {
                                dst[iw * g.stride[2]] += src[iw];
                            }
                        }
                    }
                }
            }
        }
    }
}

class ConvTranspose final : public Kernel {
public:
    ConvTranspose(spatial::WindowAttrs attrs, std::int64_t group,
                  std::vector<std::int64_t> output_shape, std::vector<std::int64_t> output_padding)
        : attrs_(std::move(attrs)),
          group_(group),
          output_shape_(std::move(output_shape)),
          output_padding_(std::move(output_padding)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        if (w.dtype() != DType::kF32) fail_type(ctx, 1);
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        if (w.rank() != x.rank() || w.dim(0) != x.dim(1) || x.dim(1) % group_ != 0) {
            ctx.fail("input 1 (W) " + dims_str(w.dims()) + " does not match input " +
                     dims_str(x.dims()) + " with group " + std::to_string(group_));
        }
        const std::int64_t n = x.dim(0), c = x.dim(1), cg = c / group_, mg = w.dim(1);
        const std::int64_t m = mg * group_;
        const float* bias = nullptr;
        if (ctx.has_input(2)) {
            const Tensor& b = ctx.input(2);
            if (b.dtype() != DType::kF32) fail_type(ctx, 2);
            if (b.numel() != m) {
                ctx.fail("input 2 (B): expected " + std::to_string(m) + " values, got " +
                         dims_str(b.dims()));
            }
            bias = b.data<float>();
        }
        const std::vector<std::int64_t> kernel(w.dims().begin() + 2, w.dims().end());
        if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel) {
            ctx.fail("attribute 'kernel_shape' " + dims_str(attrs_.kernel_shape) +
                     " does not match input 1 (W) " + dims_str(w.dims()));
        }
        Geometry g;
        const std::string err =
            spatial::resolve_transpose(attrs_, Dims(x.dims().begin() + 2, x.dims().end()), kernel,
                                       output_shape_, output_padding_, &g);
        if (!err.empty()) ctx.fail(err);
        Dims out_dims{n, m};
        for (int i = 3 - g.rank; i < 3; ++i) out_dims.push_back(g.out[i]);
        Tensor& y = ctx.allocate_output(0, DType::kF32, out_dims);
        if (y.numel() == 0) return;
        compute(g, n, c, cg, mg, x.data<float>(), w.data<float>(), bias, y.data<float>());
    }

private:
    void compute(const Geometry& g, std::int64_t n, std::int64_t c, std::int64_t cg,
                 std::int64_t mg, const float* x, const float* w, const float* bias,
                 float* y) const {
        const std::int64_t ks = g.kernel_size(), pin = g.in_size(), pout = g.out_size();
        const std::int64_t m = mg * group_;
        std::int64_t ob = std::clamp<std::int64_t>(kColFloats / (ks * pin), 1, mg);
        const std::int64_t blocks = (mg + ob - 1) / ob;
        ob = (mg + blocks - 1) / blocks;
        parallel_for(n * group_ * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const std::int64_t blk = i % blocks, ng = i / blocks;
                const std::int64_t img = ng / group_, grp = ng % group_;
                const std::int64_t oc0 = blk * ob, oc1 = std::min(mg, oc0 + ob);
                float* col = thread_scratch(static_cast<std::size_t>((oc1 - oc0) * ks * pin));
                GemmArgs a;
                a.m = (oc1 - oc0) * ks;
                a.n = pin;
                a.k = cg;
                a.a = w + grp * cg * mg * ks + oc0 * ks;  // W_g is [cg, mg * ks]
                a.lda = mg * ks;
                a.trans_a = true;
                a.b = x + (img * c + grp * cg) * pin;
                a.ldb = pin;
                a.c = col;
                a.ldc = pin;
                gemm_f32(a);
                float* yb = y + (img * m + grp * mg + oc0) * pout;
                for (std::int64_t oc = oc0; oc < oc1; ++oc) {
                    std::fill(yb + (oc - oc0) * pout, yb + (oc - oc0 + 1) * pout,
                              bias ? bias[grp * mg + oc] : 0.0f);
                }
                col2im(col, oc1 - oc0, g, yb);
            }
        });
    }

    spatial::WindowAttrs attrs_;
    std::int64_t group_;
    std::vector<std::int64_t> output_shape_;
    std::vector<std::int64_t> output_padding_;
};

}  // namespace

void register_conv_transpose(KernelRegistry& registry) {
    registry.add("ConvTranspose", [](const KernelBuildInfo& info) -> KernelPtr {
        const std::int64_t group = info.node.attr_int("group", 1);
        if (group < 1) {
            info.fail("attribute 'group': expected a positive value, got " + std::to_string(group));
        }
        if (info.node.num_inputs() < 2) info.fail("expected inputs X and W");
        auto output_padding = info.node.attr_ints("output_padding");
        for (auto v : output_padding) {
            if (v < 0) info.fail("attribute 'output_padding': expected non-negative values");
        }
        return std::make_unique<ConvTranspose>(spatial::read_window_attrs(info), group,
                                               info.node.attr_ints("output_shape"),
                                               std::move(output_padding));
    });
}

}  // namespace aquant::engine
