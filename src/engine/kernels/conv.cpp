// ONNX Conv-1/11 (fp32, NCHW, 1-D to 3-D). Two paths chosen per call from the shapes:
// depthwise (one input channel per group) as a direct loop with sums in vector registers;
// everything else as a GEMM per group, W_g [M/group x C/group*k] times the im2col matrix of the
// input, whose panels are packed straight from the image (no im2col buffer). Weights that are
// constant are packed once at build time. Columns (image, output position) are split into blocks
// that may span images, so small feature maps still give the GEMM wide products; block sizes
// depend only on the shapes and the GEMM sums in a fixed order, so results do not depend on the
// thread count.
#include <algorithm>
#include <cstring>
#include <optional>

#include "aquant/core/parallel.h"
#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "simd.h"
#include "spatial.h"
#include "thread_scratch.h"

namespace aquant::engine {
namespace {

using spatial::Geometry;

// Target output columns per GEMM block.
constexpr std::int64_t kColumnBlock = 256;

struct ConvShape {
    std::int64_t n, c, m, group, cg, mg;
    Geometry g;
};

// The im2col matrix of one group: row (c, kd, kh, kw), column (image, output position) counted
// from column `col0` of the group's image-major column space.
class Im2colPacker final : public BPacker {
public:
    Im2colPacker(const float* x, std::int64_t image_stride, const Geometry& g, std::int64_t col0)
        : x_(x), image_stride_(image_stride), g_(g), col0_(col0) {}

    void pack(std::int64_t k0, std::int64_t kc, std::int64_t j0, std::int64_t nc,
              float* dst) const override {
        const Geometry& g = g_;
        const std::int64_t OH = g.out[1], OW = g.out[2], P = g.out_size();
        const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
        const std::int64_t KD = g.kernel[0], KH = g.kernel[1], KW = g.kernel[2];
        const std::int64_t sw = g.stride[2];
        // Runs of columns within one output row.
        struct Run {
            const float* image;
            std::int64_t d, h, ow0, ow1, j;  // d, h: od * stride_d, oh * stride_h
        };
        thread_local std::vector<Run> runs;
        runs.clear();
        for (std::int64_t j = j0; j < j0 + nc;) {
            const std::int64_t col = col0_ + j, n = col / P, p = col % P;
            const std::int64_t row = p / OW, ow0 = p % OW;
            const std::int64_t ow1 = std::min(OW, ow0 + (j0 + nc - j));
            runs.push_back({x_ + n * image_stride_, (row / OH) * g.stride[0],
                            (row % OH) * g.stride[1], ow0, ow1, j - j0});
            j += ow1 - ow0;
        }
        const std::int64_t panels = (nc + kPanel - 1) / kPanel;
        if (nc % kPanel != 0) {
            // Zero the unused lanes of the last panel.
            float* last = dst + (panels - 1) * kc * kPanel;
            for (std::int64_t r = 0; r < kc; ++r) {
                std::fill(last + r * kPanel + nc % kPanel, last + (r + 1) * kPanel, 0.0f);
            }
        }
        std::int64_t c = k0 / (KD * KH * KW), rem = k0 % (KD * KH * KW);
        std::int64_t kd = rem / (KH * KW), kh = rem / KW % KH, kw = rem % KW;
        for (std::int64_t r = 0; r < kc; ++r) {
            const std::int64_t offd = kd * g.dilation[0] - g.pad_begin[0];
            const std::int64_t offh = kh * g.dilation[1] - g.pad_begin[1];
            const std::int64_t offw = kw * g.dilation[2] - g.pad_begin[2];
            std::int64_t lo_w, hi_w;
            spatial::valid_range(offw, sw, W, OW, &lo_w, &hi_w);
            const std::int64_t chan = c * g.in_size();
            for (const Run& run : runs) {
                float* out = dst + (run.j / kPanel) * kc * kPanel + r * kPanel;
                std::int64_t lane = run.j % kPanel;
                const std::int64_t id = run.d + offd, ih = run.h + offh;
                const bool row_ok = id >= 0 && id < D && ih >= 0 && ih < H;
                const float* src = run.image + chan + (id * H + ih) * W + offw;
                for (std::int64_t ow = run.ow0; ow < run.ow1; ++ow) {
                    out[lane] = row_ok && ow >= lo_w && ow < hi_w ? src[ow * sw] : 0.0f;
                    if (++lane == kPanel) {
                        lane = 0;
                        out += kc * kPanel;
                    }
                }
            }
            if (++kw == KW) {
                kw = 0;
                if (++kh == KH) {
                    kh = 0;
                    if (++kd == KD) {
                        kd = 0;
                        ++c;
                    }
                }
            }
        }
    }

private:
    const float* x_;
    std::int64_t image_stride_;
    const Geometry& g_;
    std::int64_t col0_;
};

// Kernel rows (kd, kh) the direct depthwise loop handles; larger kernels take the GEMM path.
constexpr std::int64_t kMaxDwRows = 64;

// Output columns per register block of the depthwise loop.
constexpr std::int64_t kDwBlock = 8;

// Output columns [ow, ow + 8) of one output row of a depthwise conv, sums in two vector
// registers. rows[r] is the (padded) input row read by kernel row r, wrows[r] its weights.
template <bool kStride1>
inline void depthwise_block8(const float* const* rows, const float* const* wrows,
                             std::int64_t nrows, std::int64_t kw_size, std::int64_t dw,
                             std::int64_t sw, std::int64_t ow, float bias, float* out) {
    using simd::v4f;
    v4f acc0 = simd::splat4(bias), acc1 = acc0;
    for (std::int64_t r = 0; r < nrows; ++r) {
        const float* src = rows[r] + ow * (kStride1 ? 1 : sw);
        const float* wr = wrows[r];
        for (std::int64_t kw = 0; kw < kw_size; ++kw) {
            const v4f wv = simd::splat4(wr[kw]);
            const float* s = src + kw * dw;
            if constexpr (kStride1) {
                acc0 += wv * simd::load4(s);
                acc1 += wv * simd::load4(s + 4);
            } else {
                acc0 += wv * simd::load4_strided(s, sw);
                acc1 += wv * simd::load4_strided(s + 4 * sw, sw);
            }
        }
    }
    simd::store4(out + ow, acc0);
    simd::store4(out + ow + 4, acc1);
}

inline void depthwise_one(const float* const* rows, const float* const* wrows, std::int64_t nrows,
                          std::int64_t kw_size, std::int64_t dw, std::int64_t sw, std::int64_t ow,
                          float bias, float* out) {
    float acc = bias;
    for (std::int64_t r = 0; r < nrows; ++r) {
        const float* src = rows[r] + ow * sw;
        for (std::int64_t kw = 0; kw < kw_size; ++kw) acc += wrows[r][kw] * src[kw * dw];
    }
    out[ow] = acc;
}

template <bool kStride1>
void depthwise_rows(const float* in, std::int64_t ph, std::int64_t pw, const float* w, float bias,
                    const Geometry& g, float* out) {
    const std::int64_t OW = g.out[2], KH = g.kernel[1], KW = g.kernel[2];
    const float* rows[kMaxDwRows];
    const float* wrows[kMaxDwRows];
    for (std::int64_t od = 0; od < g.out[0]; ++od) {
        for (std::int64_t oh = 0; oh < g.out[1]; ++oh, out += OW) {
            std::int64_t nrows = 0;
            for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                const std::int64_t id = od * g.stride[0] + kd * g.dilation[0];
                for (std::int64_t kh = 0; kh < KH; ++kh, ++nrows) {
                    const std::int64_t ih = oh * g.stride[1] + kh * g.dilation[1];
                    rows[nrows] = in + (id * ph + ih) * pw;
                    wrows[nrows] = w + (kd * KH + kh) * KW;
                }
            }
            std::int64_t ow = 0;
            for (; ow + kDwBlock <= OW; ow += kDwBlock) {
                depthwise_block8<kStride1>(rows, wrows, nrows, KW, g.dilation[2], g.stride[2], ow,
                                           bias, out);
            }
            for (; ow < OW; ++ow) {
                depthwise_one(rows, wrows, nrows, KW, g.dilation[2], g.stride[2], ow, bias, out);
            }
        }
    }
}

// One output plane of a depthwise conv (one input channel per output channel). A padded input
// has its borders made explicit in scratch first, so the loop itself has no bounds checks.
void depthwise_plane(const float* in, const float* w, float bias, const Geometry& g, float* out) {
    const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const std::int64_t pd = D + g.pad_begin[0] + g.pad_end[0];
    const std::int64_t ph = H + g.pad_begin[1] + g.pad_end[1];
    const std::int64_t pw = W + g.pad_begin[2] + g.pad_end[2];
    const float* src = in;
    if (pd != D || ph != H || pw != W) {
        float* padded = thread_scratch(static_cast<std::size_t>(pd * ph * pw), 2);
        std::fill(padded, padded + pd * ph * pw, 0.0f);
        for (std::int64_t d = 0; d < D; ++d) {
            for (std::int64_t h = 0; h < H; ++h) {
                std::copy(in + (d * H + h) * W, in + (d * H + h + 1) * W,
                          padded + ((d + g.pad_begin[0]) * ph + h + g.pad_begin[1]) * pw +
                              g.pad_begin[2]);
            }
        }
        src = padded;
    }
    if (g.stride[2] == 1) {
        depthwise_rows<true>(src, ph, pw, w, bias, g, out);
    } else {
        depthwise_rows<false>(src, ph, pw, w, bias, g, out);
    }
}

class Conv final : public Kernel {
public:
    Conv(spatial::WindowAttrs attrs, std::int64_t group, std::vector<PackedA> packed)
        : attrs_(std::move(attrs)), group_(group), packed_(std::move(packed)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        if (w.dtype() != DType::kF32) fail_type(ctx, 1);
        const float* bias = nullptr;
        if (ctx.has_input(2)) {
            const Tensor& b = ctx.input(2);
            if (b.dtype() != DType::kF32) fail_type(ctx, 2);
            if (b.numel() != w.dim(0)) {
                ctx.fail("input 2 (B): expected " + std::to_string(w.dim(0)) + " values, got " +
                         dims_str(b.dims()));
            }
            bias = b.data<float>();
        }
        const ConvShape s = shape_of(ctx, x, w);
        Dims out_dims{s.n, s.m};
        for (int i = 3 - s.g.rank; i < 3; ++i) out_dims.push_back(s.g.out[i]);
        Tensor& y = ctx.allocate_output(0, DType::kF32, out_dims);
        if (y.numel() == 0) return;
        const bool pointwise = s.g.kernel_size() == 1 &&
                               s.g.stride == decltype(s.g.stride){1, 1, 1} &&
                               s.g.pad_begin == decltype(s.g.pad_begin){} &&
                               s.g.pad_end == decltype(s.g.pad_end){};
        if (s.cg == 1 && !pointwise && s.g.kernel[0] * s.g.kernel[1] <= kMaxDwRows) {
            run_depthwise(s, x.data<float>(), w.data<float>(), bias, y.data<float>());
            return;
        }
        const std::int64_t K = s.cg * s.g.kernel_size();
        std::vector<PackedA> local;
        const std::vector<PackedA>* packed = &packed_;
        if (packed_.empty()) {
            for (std::int64_t grp = 0; grp < s.group; ++grp) {
                local.emplace_back(s.mg, K, MatrixRef{w.data<float>() + grp * s.mg * K, K, false});
            }
            packed = &local;
        }
        run_gemm(s, pointwise, x.data<float>(), *packed, bias, y.data<float>());
    }

private:
    ConvShape shape_of(const KernelContext& ctx, const Tensor& x, const Tensor& w) const {
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        if (w.rank() != x.rank()) {
            ctx.fail("input 1 (W): expected rank " + std::to_string(x.rank()) + ", got " +
                     dims_str(w.dims()));
        }
        ConvShape s{};
        s.n = x.dim(0);
        s.c = x.dim(1);
        s.m = w.dim(0);
        s.group = group_;
        s.cg = w.dim(1);
        if (s.cg * group_ != s.c || s.m % group_ != 0) {
            ctx.fail("input 1 (W) " + dims_str(w.dims()) + " does not match input " +
                     dims_str(x.dims()) + " with group " + std::to_string(group_));
        }
        s.mg = s.m / group_;
        const Dims in_sp(x.dims().begin() + 2, x.dims().end());
        const std::vector<std::int64_t> kernel(w.dims().begin() + 2, w.dims().end());
        if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel) {
            ctx.fail("attribute 'kernel_shape' " + dims_str(attrs_.kernel_shape) +
                     " does not match input 1 (W) " + dims_str(w.dims()));
        }
        const std::string err =
            spatial::resolve_window(attrs_, in_sp, kernel, spatial::WindowKind::kConv, &s.g);
        if (!err.empty()) ctx.fail(err);
        return s;
    }

    static void run_depthwise(const ConvShape& s, const float* x, const float* w,
                              const float* bias, float* y) {
        const std::int64_t planes = s.n * s.m, in_size = s.g.in_size();
        const std::int64_t out_size = s.g.out_size(), ksize = s.g.kernel_size();
        const std::int64_t grain = std::max<std::int64_t>(1, 4096 / (out_size * ksize + 1));
        parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const std::int64_t n = i / s.m, oc = i % s.m, ic = oc / s.mg;
                depthwise_plane(x + (n * s.c + ic) * in_size, w + oc * ksize,
                                bias ? bias[oc] : 0.0f, s.g, y + i * out_size);
            }
        });
    }

    // Per group, the columns (image, output position), image-major, in blocks of about
    // kColumnBlock. A block inside one image is written straight into y; a block spanning
    // images goes through scratch and is copied to each image's planes.
    static void run_gemm(const ConvShape& s, bool pointwise, const float* x,
                         const std::vector<PackedA>& w, const float* bias, float* y) {
        const std::int64_t P = s.g.out_size(), total = s.n * P;
        const std::int64_t blocks = (total + kColumnBlock - 1) / kColumnBlock;
        // Whole 16-column panels per block, so only the last block has a partial panel.
        const std::int64_t panel = BPacker::kPanel;
        const std::int64_t bs =
            std::min(total, ((total + blocks - 1) / blocks + panel - 1) / panel * panel);
        const std::int64_t nblocks = (total + bs - 1) / bs;
        parallel_for(s.group * nblocks, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const std::int64_t grp = i / nblocks, blk = i % nblocks;
                const std::int64_t c0 = blk * bs, c1 = std::min(total, c0 + bs);
                block(s, pointwise, x, w[static_cast<std::size_t>(grp)], bias, y, grp, c0, c1);
            }
        });
    }

    static void block(const ConvShape& s, bool pointwise, const float* x, const PackedA& w,
                      const float* bias, float* y, std::int64_t grp, std::int64_t c0,
                      std::int64_t c1) {
        const std::int64_t P = s.g.out_size(), K = s.cg * s.g.kernel_size();
        const std::int64_t in_size = s.g.in_size(), cols = c1 - c0;
        const float* xg = x + grp * s.cg * in_size;
        const Im2colPacker packer(xg, s.c * in_size, s.g, c0);
        OperandA a;
        a.packed = &w;
        OperandB b;
        const bool one_image = c0 / P == (c1 - 1) / P;
        if (one_image) {
            const std::int64_t n = c0 / P, p0 = c0 - n * P;
            if (pointwise) {
                b.matrix = MatrixRef{xg + n * s.c * in_size + p0, P, false};
            } else {
                b.packer = &packer;
            }
            float* yb = y + (n * s.m + grp * s.mg) * P + p0;
            float beta = 0.0f;
            if (bias) {
                for (std::int64_t r = 0; r < s.mg; ++r) {
                    std::fill(yb + r * P, yb + r * P + cols, bias[grp * s.mg + r]);
                }
                beta = 1.0f;
            }
            gemm(s.mg, cols, K, a, b, yb, P, 1.0f, beta);
            return;
        }
        b.packer = &packer;
        float* out = thread_scratch(static_cast<std::size_t>(s.mg * cols), 1);
        gemm(s.mg, cols, K, a, b, out, cols);
        for (std::int64_t c = c0; c < c1;) {
            const std::int64_t n = c / P, p0 = c % P, p1 = std::min(P, p0 + (c1 - c));
            for (std::int64_t r = 0; r < s.mg; ++r) {
                const float* src = out + r * cols + (c - c0) - p0;
                float* dst = y + (n * s.m + grp * s.mg + r) * P;
                const float bv = bias ? bias[grp * s.mg + r] : 0.0f;
                for (std::int64_t p = p0; p < p1; ++p) dst[p] = src[p] + bv;
            }
            c += p1 - p0;
        }
    }

    spatial::WindowAttrs attrs_;
    std::int64_t group_;
    std::vector<PackedA> packed_;  // per group, when W is constant
};

}  // namespace

void register_conv(KernelRegistry& registry) {
    registry.add("Conv", [](const KernelBuildInfo& info) -> KernelPtr {
        const std::int64_t group = info.node.attr_int("group", 1);
        if (group < 1) {
            info.fail("attribute 'group': expected a positive value, got " + std::to_string(group));
        }
        if (info.node.num_inputs() < 2) info.fail("expected inputs X and W");
        auto attrs = spatial::read_window_attrs(info);
        std::vector<PackedA> packed;
        if (const Tensor* w = info.constant_input(1)) {
            if (w->rank() < 3 || w->rank() > 2 + spatial::kMaxRank) {
                info.fail("input 1 (W): expected rank 3 to 5, got " + dims_str(w->dims()));
            }
            if (w->dtype() != DType::kF32) info.fail("input 1 (W): expected float weights");
            if (w->dim(0) % group != 0) {
                info.fail("input 1 (W) " + dims_str(w->dims()) +
                          ": output channels not divisible by group " + std::to_string(group));
            }
            // Depthwise weights are read directly; the others are packed for the GEMM.
            if (w->dim(1) != 1) {
                const std::int64_t mg = w->dim(0) / group, k = w->numel() / w->dim(0);
                for (std::int64_t g = 0; g < group; ++g) {
                    packed.emplace_back(mg, k, MatrixRef{w->data<float>() + g * mg * k, k, false});
                }
            }
        }
        return std::make_unique<Conv>(std::move(attrs), group, std::move(packed));
    });
}

}  // namespace aquant::engine
