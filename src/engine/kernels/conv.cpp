// ONNX Conv-1/11 (fp32, NCHW, 1-D to 3-D) and com.microsoft FusedConv (Conv + Z + activation).
// Paths chosen per call from the shapes:
//  - one input channel per group (depthwise, or a first layer on a single-channel image): direct
//    loops with the sums in vector registers, over a padded copy of each plane whose columns are
//    split by W stride;
//  - a kernel larger than 1x1, output at least 8 wide, depth stride 1: a GEMM per group whose B
//    rows are windows of the padded input laid out flat (gemm_shifted_b), each plane split into
//    its stride phases so that any stride walks with step 1 (PhasedGrid); the output is computed
//    on the grid's rows and the real pixels copied out;
//  - otherwise (1x1, narrow, strided depth): a GEMM per group, W_g [M/group x C/group*k] times the im2col
//    matrix, whose panels are packed straight from the image (Im2colPacker, no im2col buffer);
//    a padded input is copied with its padding made explicit first, image by image for batches
//    of large outputs.
// Bias, Z and the activation are applied to GEMM tiles while they are in cache (GemmEpilogue).
// Constant weights are packed once at build time. Columns (image, output position) are split
// into blocks that may span images, so small feature maps still give the GEMM wide products.
// Block sizes depend only on the shapes and every sum runs in a fixed order, so results do not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "aquant/core/parallel.h"
#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "simd.h"
#include "spatial.h"
#include "thread_scratch.h"

// The 32-byte vectors of the depthwise loops never cross a call boundary (their users are
// always_inline), so GCC's note about their ABI in non-AVX code does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace aquant::engine {
namespace {

using spatial::Geometry;

// Target output columns per GEMM block.
constexpr std::int64_t kColumnBlock = 256;
// Output positions per image from which padded strided convs over a batch run image by image.
constexpr std::int64_t kImageBlock = 128;
// Output width from which stride-1 convs run on the padded grid (run_flat); narrower outputs
// waste too much of it on the padding columns (7 wide: 2 of 9 columns) and take im2col panels.
constexpr std::int64_t kFlatMinWidth = 8;

struct ConvShape {
    std::int64_t n, c, m, group, cg, mg;
    Geometry g;
};

// out[0, len) = src[0, len) for runs of at most one panel, with fixed-size moves (a libc call per
// run costs more than the copy): a whole panel at once, else two overlapping halves.
inline void copy_run(float* out, const float* src, std::int64_t len) {
    if (len == BPacker::kPanel) {
        std::memcpy(out, src, BPacker::kPanel * sizeof(float));
    } else if (len >= 8) {
        std::memcpy(out, src, 8 * sizeof(float));
        std::memcpy(out + len - 8, src + len - 8, 8 * sizeof(float));
    } else if (len >= 4) {
        std::memcpy(out, src, 4 * sizeof(float));
        std::memcpy(out + len - 4, src + len - 4, 4 * sizeof(float));
    } else {
        for (std::int64_t l = 0; l < len; ++l) out[l] = src[l];
    }
}

// The even (odd) elements of src[0, 8): src[0], src[2], src[4], src[6] (src[1], ..., src[7]).
typedef int v4i __attribute__((vector_size(16)));

inline simd::v4f evens4(const float* src) {
    return __builtin_shuffle(simd::load4(src), simd::load4(src + 4), v4i{0, 2, 4, 6});
}

inline simd::v4f odds4(const float* src) {
    return __builtin_shuffle(simd::load4(src), simd::load4(src + 4), v4i{1, 3, 5, 7});
}

// out[l] = src[2 l] for l < len: four at a time (evens4), reading no further than
// src[2 (len - 1)].
inline void copy_run_s2(float* out, const float* src, std::int64_t len) {
    std::int64_t l = 0;
    for (; l + 4 < len; l += 4) simd::store4(out + l, evens4(src + 2 * l));
    for (; l < len; ++l) out[l] = src[2 * l];
}

// out[0, n) = src[0, n) for any n: 8-float moves, the last one overlapping.
inline void copy_row(float* out, const float* src, std::int64_t n) {
    if (n <= BPacker::kPanel) {
        copy_run(out, src, n);
        return;
    }
    for (std::int64_t l = 0; l + 8 <= n; l += 8) std::memcpy(out + l, src + l, 8 * sizeof(float));
    std::memcpy(out + n - 8, src + n - 8, 8 * sizeof(float));
}

// even[j] = src[2 j], odd[j] = src[2 j + 1] for the n floats of src: four pairs at a time from
// two vector loads, the last four pairs overlapping the previous ones, reading no further than
// src[n - 1]; an odd n leaves one last even element.
inline void split_row2(const float* src, std::int64_t n, float* even, float* odd) {
    auto four_pairs = [&](std::int64_t j) {
        simd::store4(even + j, evens4(src + 2 * j));
        simd::store4(odd + j, odds4(src + 2 * j));
    };
    std::int64_t x = 0;  // first element not yet copied
    if (n >= 8) {
        for (std::int64_t j = 0; 2 * j + 8 <= n; j += 4) four_pairs(j);
        four_pairs((n - 8) / 2);
        x = (n - 8) / 2 * 2 + 8;
    }
    for (; x < n; ++x) (x % 2 ? odd : even)[x / 2] = src[x];
}

// The im2col matrix of one group: row (c, kd, kh, kw), column (image, output position) counted
// from column `col0` of the group's image-major column space. The geometry has no padding (a
// padded input is made explicit first), so every tap is inside the image.
class Im2colPacker final : public BPacker {
public:
    Im2colPacker(const float* x, std::int64_t image_stride, const Geometry& g, std::int64_t col0)
        : x_(x), image_stride_(image_stride), g_(g), col0_(col0) {}

    void pack(std::int64_t k0, std::int64_t kc, std::int64_t j0, std::int64_t nc,
              float* dst) const override {
        const Geometry& g = g_;
        const std::int64_t OH = g.out[1], OW = g.out[2], P = g.out_size();
        const std::int64_t H = g.in[1], W = g.in[2];
        const std::int64_t KD = g.kernel[0], KH = g.kernel[1], KW = g.kernel[2];
        const std::int64_t sw = g.stride[2];
        // Runs of columns within one output row and one panel: each is one copy per row of B.
        struct Run {
            std::int64_t src;  // offset in x of tap (0, 0, 0) of the first column
            std::int64_t out;  // offset in a row of dst: panel * kc * kPanel + lane
            std::int64_t len;
        };
        thread_local std::vector<Run> runs;
        runs.clear();
        for (std::int64_t j = j0; j < j0 + nc;) {
            const std::int64_t col = col0_ + j, n = col / P, p = col % P;
            const std::int64_t row = p / OW, ow0 = p % OW;
            const std::int64_t lane = (j - j0) % kPanel;
            const std::int64_t len = std::min({OW - ow0, j0 + nc - j, kPanel - lane});
            const std::int64_t id = (row / OH) * g.stride[0], ih = (row % OH) * g.stride[1];
            runs.push_back({n * image_stride_ + (id * H + ih) * W + ow0 * sw,
                            (j - j0) / kPanel * kc * kPanel + lane, len});
            j += len;
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
            const float* base = x_ + c * g.in_size() +
                                (kd * g.dilation[0] * H + kh * g.dilation[1]) * W +
                                kw * g.dilation[2];
            float* row_dst = dst + r * kPanel;
            if (sw == 1) {
                for (const Run& run : runs) copy_run(row_dst + run.out, base + run.src, run.len);
            } else if (sw == 2) {
                for (const Run& run : runs) copy_run_s2(row_dst + run.out, base + run.src, run.len);
            } else {
                for (const Run& run : runs) {
                    const float* src = base + run.src;
                    float* out = row_dst + run.out;
                    for (std::int64_t l = 0; l < run.len; ++l) out[l] = src[l * sw];
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

// The grid run_flat computes on: x with its padding written out and each padded plane split into
// stride[1] x stride[2] phases (rows r with r % sh = a, columns c with c % sw = b, in order), so
// that a window tap of any H/W stride walks its phase with step 1. Stride 1, or split false: one
// phase, the padded plane itself. Depth is padded but not split (run_flat takes depth stride 1
// only).
struct PhasedGrid {
    std::int64_t sh = 1, sw = 1;   // phases per axis
    std::int64_t PD = 0;           // padded depth
    std::int64_t PH = 0, PW = 0;   // rows and columns of one phase
    std::int64_t phase = 0;        // floats of one phase (PD * PH * PW)
    std::int64_t plane = 0;        // floats of one channel (sh * sw phases)

    explicit PhasedGrid(const Geometry& g, bool split = true)
        : sh(split ? g.stride[1] : 1),
          sw(split ? g.stride[2] : 1),
          PD(g.in[0] + g.pad_begin[0] + g.pad_end[0]) {
        PH = (g.in[1] + g.pad_begin[1] + g.pad_end[1] + sh - 1) / sh;
        PW = (g.in[2] + g.pad_begin[2] + g.pad_end[2] + sw - 1) / sw;
        phase = PD * PH * PW;
        plane = sh * sw * phase;
    }

    // Offset of tap (kd, kh, kw) of channel c from output pixel (0, 0, 0).
    std::int64_t tap(const Geometry& g, std::int64_t c, std::int64_t kd, std::int64_t kh,
                     std::int64_t kw) const {
        const std::int64_t rh = kh * g.dilation[1], rw = kw * g.dilation[2];
        return c * plane + ((rh % sh) * sw + rw % sw) * phase +
               (kd * g.dilation[0] * PH + rh / sh) * PW + rw / sw;
    }
};

// Writes `planes` channels of x into `out` in the PhasedGrid layout (zeros where padding).
void pad_phased(const float* x, std::int64_t planes, const Geometry& g, const PhasedGrid& pg,
                float* out) {
    const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const std::int64_t sh = pg.sh, sw = pg.sw;
    parallel_for(planes, 16, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            float* dst = out + i * pg.plane;
            const float* src = x + i * g.in_size();
            std::fill(dst, dst + pg.plane, 0.0f);
            for (std::int64_t d = 0; d < D; ++d) {
                for (std::int64_t h = 0; h < H; ++h) {
                    const std::int64_t r = h + g.pad_begin[1];  // padded row
                    const float* s = src + (d * H + h) * W;
                    for (std::int64_t b = 0; b < sw; ++b) {
                        // Input columns w with (w + pad) % sw == b, in order.
                        const std::int64_t w0 = ((b - g.pad_begin[2]) % sw + sw) % sw;
                        float* row = dst + ((r % sh) * sw + b) * pg.phase +
                                     ((d + g.pad_begin[0]) * pg.PH + r / sh) * pg.PW +
                                     (w0 + g.pad_begin[2]) / sw;
                        if (sw == 1) {
                            std::copy(s, s + W, row);
                        } else {
                            for (std::int64_t w = w0, j = 0; w < W; w += sw, ++j) row[j] = s[w];
                        }
                    }
                }
            }
        }
    });
}

// x with its padding written out as zeros: [planes, D + pads, H + pads, W + pads] in `out`;
// returns the geometry of a conv over the padded input (no padding, same output).
Geometry pad_input(const float* x, std::int64_t planes, const Geometry& g, float* out) {
    pad_phased(x, planes, g, PhasedGrid(g, /*split=*/false), out);
    Geometry p = g;
    for (std::size_t a = 0; a < spatial::kMaxRank; ++a) {
        p.in[a] = g.in[a] + g.pad_begin[a] + g.pad_end[a];
        p.pad_begin[a] = p.pad_end[a] = 0;
    }
    return p;
}

// What FusedConv applies to each output after the bias: y = act(conv + Z).
struct Epilogue {
    enum class Act { kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kTanh, kHardSigmoid };
    Act act = Act::kNone;
    float a = 0.0f, b = 0.0f;  // Clip: min, max; LeakyRelu: alpha; HardSigmoid: alpha, beta
};

// Depthwise convolution, direct: every output row in 8-wide blocks (the last one overlapping
// the previous when OW is not a multiple of 8) summed in vector registers, several blocks at a
// time for instruction-level parallelism. The input plane is first copied, with its padding made
// explicit, into a "phased" layout: each padded row is stored as sw phases (columns c with
// c % sw = p, in order), so that along W a window tap of any stride is a contiguous run. Depth
// is folded into rows. The loops are written once as always-inline templates and compiled twice:
// for the baseline ISA (multiply, then add) and with AVX2 + FMA (the same sums in the same order,
// contracted into fused multiply-adds), so the two differ by float rounding only, as the GEMM's
// micro-kernels do; each gives the same result for any thread count.
#define AQUANT_DW_INLINE AQUANT_SIMD_INLINE

using simd::load8;
using simd::splat8;
using simd::store8;
using simd::v8f;

// Extra zero floats after the phased plane: blocks of narrow rows read up to 8 floats past a
// row's end.
constexpr std::int64_t kDwSlack = 16;

struct DwPlan {
    std::int64_t PD = 0, PH = 0, PW = 0;  // padded input dims
    std::int64_t sw = 1, Lp = 0, RL = 0;  // W stride (phases), phase length, phased row length
    std::int64_t plane = 0;               // floats of the phased plane, slack included
    std::int64_t out_rows = 0;            // OD * OH
    bool narrow = false;                  // OW < 8: each row is one 8-wide block at row * OW
    std::vector<std::int64_t> taps;       // per tap (kd, kh, kw): offset from a row's base
    std::vector<std::int64_t> blk_in;     // per block: input offset (row base + column)
    std::vector<std::int64_t> blk_out;    // per block: output offset (in the scratch if narrow)
    // Interior copy: input row (d, h) goes to phased row (d + pd0) * PH + h + ph0, input column
    // w to phase (w + pw0) % sw at index (w + pw0) / sw.
    std::int64_t pd0 = 0, ph0 = 0, pw0 = 0;
    // Per phase ph (sw > 1): the first input column x0 landing in it and its index in the phased
    // row, ph * Lp + (pw0 + x0) / sw; later columns x0 + sw, ... follow contiguously.
    std::vector<std::int64_t> phase_x0, phase_at;
};

DwPlan dw_plan(const Geometry& g) {
    DwPlan p;
    p.PD = g.in[0] + g.pad_begin[0] + g.pad_end[0];
    p.PH = g.in[1] + g.pad_begin[1] + g.pad_end[1];
    p.PW = g.in[2] + g.pad_begin[2] + g.pad_end[2];
    p.pd0 = g.pad_begin[0];
    p.ph0 = g.pad_begin[1];
    p.pw0 = g.pad_begin[2];
    p.sw = g.stride[2];
    p.Lp = (p.PW + p.sw - 1) / p.sw;
    p.RL = p.sw * p.Lp;
    p.plane = p.PD * p.PH * p.RL + kDwSlack;
    for (std::int64_t ph = 0; ph < p.sw; ++ph) {
        const std::int64_t x0 = ((ph - p.pw0) % p.sw + p.sw) % p.sw;
        p.phase_x0.push_back(x0);
        p.phase_at.push_back(ph * p.Lp + (p.pw0 + x0) / p.sw);
    }
    const std::int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
    p.out_rows = OD * OH;
    p.narrow = OW < 8;
    for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
        for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                const std::int64_t c = kw * g.dilation[2];
                p.taps.push_back((kd * g.dilation[0] * p.PH + kh * g.dilation[1]) * p.RL +
                                 (c % p.sw) * p.Lp + c / p.sw);
            }
        }
    }
    for (std::int64_t od = 0; od < OD; ++od) {
        for (std::int64_t oh = 0; oh < OH; ++oh) {
            const std::int64_t row = od * OH + oh;
            const std::int64_t in_base = (od * g.stride[0] * p.PH + oh * g.stride[1]) * p.RL;
            if (p.narrow) {
                p.blk_in.push_back(in_base);
                p.blk_out.push_back(row * OW);
                continue;
            }
            for (std::int64_t s = 0;; s += 8) {
                const std::int64_t at = std::min(s, OW - 8);
                p.blk_in.push_back(in_base + at);
                p.blk_out.push_back(row * OW + at);
                if (at == OW - 8) break;
            }
        }
    }
    return p;
}

// out[o_b .. o_b + 8) = bias + sum_t w[t] * in[i_b + taps[t] ...] for every block b, four
// blocks at a time (four independent sums hide the add latency). Overlapping blocks (the last
// of a row) compute the same sums as the blocks they overlap, so they store the same values.
// The activation kAct (none, Relu or Clip to [lo, hi]) is applied to the sums before they are
// stored, with the operations of finish().
template <Epilogue::Act kAct>
AQUANT_DW_INLINE v8f dw_act(v8f v, v8f lo, v8f hi) {
    if constexpr (kAct == Epilogue::Act::kRelu) v = v > v8f{} ? v : v8f{};
    if constexpr (kAct == Epilogue::Act::kClip) {
        v = v < lo ? lo : v;  // std::max(v, lo), NaN kept
        v = hi < v ? hi : v;  // std::min(v, hi)
    }
    return v;
}

// kTaps > 0: the kernel has exactly kTaps taps (3x3: 9), unrolled with the same sums in the
// same order as the general loop.
template <Epilogue::Act kAct, int kTaps>
AQUANT_DW_INLINE void dw_blocks(const float* in, const DwPlan& p, const float* w, float bias,
                                float lo_s, float hi_s, float* out) {
    const v8f lo = splat8(lo_s), hi = splat8(hi_s);
    const std::int64_t* taps = p.taps.data();
    const std::int64_t ntaps = static_cast<std::int64_t>(p.taps.size());
    v8f wk[kTaps > 0 ? kTaps : 1];
    std::int64_t ok[kTaps > 0 ? kTaps : 1];
    for (int t = 0; t < kTaps; ++t) {
        wk[t] = splat8(w[t]);
        ok[t] = taps[t];
    }
    const std::int64_t* bi = p.blk_in.data();
    const std::int64_t* bo = p.blk_out.data();
    const std::int64_t nblk = static_cast<std::int64_t>(p.blk_in.size());
    // The last group repeats its last block to make four: duplicates store equal values.
    for (std::int64_t b = 0; b < nblk; b += 4) {
        const std::int64_t b1 = std::min(b + 1, nblk - 1), b2 = std::min(b + 2, nblk - 1);
        const std::int64_t b3 = std::min(b + 3, nblk - 1);
        const float* i0 = in + bi[b];
        const float* i1 = in + bi[b1];
        const float* i2 = in + bi[b2];
        const float* i3 = in + bi[b3];
        v8f a0 = splat8(bias), a1 = a0, a2 = a0, a3 = a0;
        if constexpr (kTaps > 0) {  // weights and offsets held in registers across the blocks
            for (int t = 0; t < kTaps; ++t) {
                a0 += wk[t] * load8(i0 + ok[t]);
                a1 += wk[t] * load8(i1 + ok[t]);
                a2 += wk[t] * load8(i2 + ok[t]);
                a3 += wk[t] * load8(i3 + ok[t]);
            }
        } else {
            for (std::int64_t t = 0; t < ntaps; ++t) {
                const v8f wv = splat8(w[t]);
                const std::int64_t o = taps[t];
                a0 += wv * load8(i0 + o);
                a1 += wv * load8(i1 + o);
                a2 += wv * load8(i2 + o);
                a3 += wv * load8(i3 + o);
            }
        }
        store8(out + bo[b], dw_act<kAct>(a0, lo, hi));
        store8(out + bo[b1], dw_act<kAct>(a1, lo, hi));
        store8(out + bo[b2], dw_act<kAct>(a2, lo, hi));
        store8(out + bo[b3], dw_act<kAct>(a3, lo, hi));
    }
}

struct DwArgs {
    const float* x;
    const float* w;
    const float* bias;
    float* y;
    std::int64_t c, m, mg;  // input channels, output channels, outputs per input channel
    const Geometry* g;
    const DwPlan* plan;
    Epilogue::Act act;  // applied in the kernel: kNone, kRelu or kClip
    float lo, hi;       // Clip bounds
};

// Output planes [begin, end) (plane i: image i / m, output channel i % m). Narrow rows
// (OW < 8) are stored 8 floats at a time, in order, each spilling into the next row's first
// elements, which the next row then overwrites; the spill of a plane's last row lands in the
// next plane, computed later by the same call, so only the call's last plane goes through a
// scratch row block.
template <Epilogue::Act kAct>
AQUANT_DW_INLINE void dw_planes_impl(const DwArgs& a, std::int64_t begin, std::int64_t end) {
    const Geometry& g = *a.g;
    const DwPlan& p = *a.plan;
    const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const std::int64_t in_size = g.in_size(), out_size = g.out_size(), OW = g.out[2];
    const std::int64_t ksize = static_cast<std::int64_t>(p.taps.size());
    // The padding and the slack are zero once per call; each plane overwrites the interior only.
    float* phased = thread_scratch(static_cast<std::size_t>(p.plane), 2);
    std::fill(phased, phased + p.plane, 0.0f);
    // Rows of the last narrow plane: OD * OH * OW floats and the last row's spill.
    float* rows8 = p.narrow ? thread_scratch(static_cast<std::size_t>(p.out_rows * OW + 8), 4)
                            : nullptr;
    std::int64_t prev_in = -1;
    for (std::int64_t i = begin; i < end; ++i) {
        const std::int64_t n = i / a.m, oc = i % a.m, ic = oc / a.mg;
        const std::int64_t in_plane = n * a.c + ic;
        if (in_plane != prev_in) {  // channel multiplier > 1: consecutive planes share the input
            prev_in = in_plane;
            const float* src = a.x + in_plane * in_size;
            for (std::int64_t d = 0; d < D; ++d) {
                for (std::int64_t h = 0; h < H; ++h) {
                    float* row = phased + ((d + p.pd0) * p.PH + h + p.ph0) * p.RL;
                    const float* s = src + (d * H + h) * W;
                    if (p.sw == 1) {
                        copy_row(row + p.pw0, s, W);
                        continue;
                    }
                    if (p.sw == 2) {
                        const bool even0 = p.phase_x0[0] == 0;
                        split_row2(s, W, row + p.phase_at[even0 ? 0 : 1],
                                   row + p.phase_at[even0 ? 1 : 0]);
                        continue;
                    }
                    const std::int64_t sw = p.sw;
                    for (std::int64_t ph = 0; ph < sw; ++ph) {
                        float* dst = row + p.phase_at[static_cast<std::size_t>(ph)];
                        const std::int64_t x0 = p.phase_x0[static_cast<std::size_t>(ph)];
                        for (std::int64_t x = x0, j = 0; x < W; x += sw, ++j) dst[j] = s[x];
                    }
                }
            }
        }
        const float bias = a.bias ? a.bias[oc] : 0.0f;
        float* out = a.y + i * out_size;
        const float* wt = a.w + oc * ksize;
        float* dst = !p.narrow || i + 1 < end ? out : rows8;
        if (ksize == 9) {
            dw_blocks<kAct, 9>(phased, p, wt, bias, a.lo, a.hi, dst);
        } else {
            dw_blocks<kAct, 0>(phased, p, wt, bias, a.lo, a.hi, dst);
        }
        if (dst == out) continue;
        std::memcpy(out, rows8, static_cast<std::size_t>(out_size) * sizeof(float));
    }
}

template <Epilogue::Act kAct>
void dw_planes_generic(const DwArgs& a, std::int64_t begin, std::int64_t end) {
    dw_planes_impl<kAct>(a, begin, end);
}

#if defined(__x86_64__) || defined(__i386__)
// fp-contract=fast lets GCC fuse the a += w * x of dw_blocks into FMAs (the project compiles with
// -std=c++17, whose default keeps them apart).
template <Epilogue::Act kAct>
__attribute__((target("avx2,fma"), optimize("fp-contract=fast"))) void dw_planes_avx2(
    const DwArgs& a, std::int64_t begin, std::int64_t end) {
    dw_planes_impl<kAct>(a, begin, end);
}
#endif

using DwPlanesFn = void (*)(const DwArgs&, std::int64_t, std::int64_t);

template <Epilogue::Act kAct>
DwPlanesFn dw_planes_for() {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? dw_planes_avx2<kAct>
                                                                          : dw_planes_generic<kAct>;
#else
    return dw_planes_generic<kAct>;
#endif
}

// The kernel for an in-kernel activation act (kNone, kRelu or kClip).
DwPlanesFn dw_planes_fn(Epilogue::Act act) {
    static const DwPlanesFn fns[3] = {dw_planes_for<Epilogue::Act::kNone>(),
                                      dw_planes_for<Epilogue::Act::kRelu>(),
                                      dw_planes_for<Epilogue::Act::kClip>()};
    return fns[act == Epilogue::Act::kRelu ? 1 : act == Epilogue::Act::kClip ? 2 : 0];
}

// dst[l] = act(dst[l] + z[l]) (z may be null).
void finish(const Epilogue& ep, float* dst, const float* z, std::int64_t len) {
    using Act = Epilogue::Act;
    if (z) {
        for (std::int64_t l = 0; l < len; ++l) dst[l] += z[l];
    }
    switch (ep.act) {
        case Act::kNone: return;
        case Act::kRelu:
            for (std::int64_t l = 0; l < len; ++l) dst[l] = dst[l] > 0.0f ? dst[l] : 0.0f;
            return;
        case Act::kClip:
            for (std::int64_t l = 0; l < len; ++l) dst[l] = std::min(std::max(dst[l], ep.a), ep.b);
            return;
        case Act::kLeakyRelu:
            for (std::int64_t l = 0; l < len; ++l) dst[l] = dst[l] < 0.0f ? ep.a * dst[l] : dst[l];
            return;
        case Act::kSigmoid:
            for (std::int64_t l = 0; l < len; ++l) dst[l] = 1.0f / (1.0f + std::exp(-dst[l]));
            return;
        case Act::kTanh:
            for (std::int64_t l = 0; l < len; ++l) dst[l] = std::tanh(dst[l]);
            return;
        case Act::kHardSigmoid:
            for (std::int64_t l = 0; l < len; ++l) {
                dst[l] = std::max(0.0f, std::min(1.0f, ep.a * dst[l] + ep.b));
            }
            return;
    }
}

// dst[l] = act(src[l] + b + z[l]) for the piecewise-linear activations (kNone, kRelu, kClip),
// eight lanes at a time and the tail one by one, with the operations of finish() in the same
// order, so every lane gets the same result.
template <Epilogue::Act kAct>
AQUANT_DW_INLINE void linear_run(const float* src, float* dst, const float* z, float b, float lo,
                                 float hi, std::int64_t len) {
    const v8f bv = splat8(b), lov = splat8(lo), hiv = splat8(hi);
    std::int64_t l = 0;
    for (; l + 8 <= len; l += 8) {
        v8f v = load8(src + l) + bv;
        if (z) v += load8(z + l);
        store8(dst + l, dw_act<kAct>(v, lov, hiv));
    }
    for (; l < len; ++l) {
        float v = src[l] + b;
        if (z) v += z[l];
        if constexpr (kAct == Epilogue::Act::kRelu) v = v > 0.0f ? v : 0.0f;
        if constexpr (kAct == Epilogue::Act::kClip) {
            v = v < lo ? lo : v;
            v = hi < v ? hi : v;
        }
        dst[l] = v;
    }
}

// dst[l] = act(src[l] + b + z[l]) for any activation, one by one (z may be null; src may be
// dst).
void epilogue_run(const Epilogue& ep, const float* src, float* dst, const float* z, float b,
                  std::int64_t len) {
    for (std::int64_t i = 0; i < len; ++i) dst[i] = z ? src[i] + b + z[i] : src[i] + b;
    finish(ep, dst, nullptr, len);
}

// A finished GEMM strip of a Conv (rows [r0, r1) of one group, columns of one or more images)
// written to y with bias, Z and a piecewise-linear activation: tile row r - r0, columns
// [off, off + len) of run u go to image u.n, output positions [u.p, u.p + len).
struct StripRun {
    std::int64_t off, n, p, len;
};

struct StripArgs {
    const float* tile;
    std::int64_t ldc, r0, r1;
    const StripRun* runs;
    int nruns;
    std::int64_t P, M, mg, grp;  // output positions, channels, channels per group, group
    const float* bias;
    const float* z;
    float* y;
    float lo, hi;
};

// run(src, dst, z, bias, len) for every row and run of the strip, row by row (each output plane
// written as one sequence of runs).
template <typename Run>
AQUANT_DW_INLINE void for_each_run(const StripArgs& a, Run run) {
    for (std::int64_t r = a.r0; r < a.r1; ++r) {
        const std::int64_t oc = a.grp * a.mg + r;
        const float b = a.bias ? a.bias[oc] : 0.0f;
        const float* src = a.tile + (r - a.r0) * a.ldc;
        for (int i = 0; i < a.nruns; ++i) {
            const StripRun& u = a.runs[i];
            const std::int64_t at = (u.n * a.M + oc) * a.P + u.p;
            run(src + u.off, a.y + at, a.z ? a.z + at : nullptr, b, u.len);
        }
    }
}

template <Epilogue::Act kAct>
AQUANT_DW_INLINE void write_strip(const StripArgs& a) {
    for_each_run(a, [&](const float* src, float* dst, const float* z, float b, std::int64_t len) {
        linear_run<kAct>(src, dst, z, b, a.lo, a.hi, len);
    });
}

using StripFn = void (*)(const StripArgs&);

template <Epilogue::Act kAct>
void write_strip_generic(const StripArgs& a) {
    write_strip<kAct>(a);
}

#if defined(__x86_64__) || defined(__i386__)
template <Epilogue::Act kAct>
__attribute__((target("avx2"))) void write_strip_avx2(const StripArgs& a) {
    write_strip<kAct>(a);
}
#endif

template <Epilogue::Act kAct>
StripFn strip_fn_for() {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx2") ? write_strip_avx2<kAct> : write_strip_generic<kAct>;
#else
    return write_strip_generic<kAct>;
#endif
}

// write_strip for any epilogue: the piecewise-linear activations vectorised, the others through
// epilogue_run.
void write_strip_any(const Epilogue& ep, const StripArgs& a) {
    using Act = Epilogue::Act;
    static const StripFn fns[3] = {strip_fn_for<Act::kNone>(), strip_fn_for<Act::kRelu>(),
                                   strip_fn_for<Act::kClip>()};
    switch (ep.act) {
        case Act::kNone: fns[0](a); return;
        case Act::kRelu: fns[1](a); return;
        case Act::kClip: fns[2](a); return;
        default: break;
    }
    for_each_run(a, [&](const float* src, float* dst, const float* z, float b, std::int64_t len) {
        epilogue_run(ep, src, dst, z, b, len);
    });
}

class Conv final : public Kernel {
public:
    Conv(spatial::WindowAttrs attrs, std::int64_t group, std::vector<PackedA> packed,
         Epilogue ep = {})
        : attrs_(std::move(attrs)), group_(group), packed_(std::move(packed)), ep_(ep) {}

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
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, out_dims);
        if (y.numel() == 0) return;
        const float* z = nullptr;
        if (ctx.has_input(3)) {  // FusedConv's Z
            const Tensor& zt = ctx.input(3);
            if (zt.dtype() != DType::kF32) fail_type(ctx, 3);
            if (zt.dims() != out_dims) {
                ctx.fail("input 3 (Z): expected " + dims_str(out_dims) + ", got " +
                         dims_str(zt.dims()));
            }
            z = zt.data<float>();
        }
        const bool pointwise = s.g.kernel_size() == 1 &&
                               s.g.stride == decltype(s.g.stride){1, 1, 1} &&
                               s.g.pad_begin == decltype(s.g.pad_begin){} &&
                               s.g.pad_end == decltype(s.g.pad_end){};
        if (s.cg == 1 && !pointwise) {  // depthwise, or one input channel
            run_depthwise(s, x.data<float>(), w.data<float>(), bias, z, y.data<float>());
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
        if (s.g.kernel_size() > 1 && s.g.stride[0] == 1 && s.g.out[2] >= kFlatMinWidth) {
            run_flat(s, x.data<float>(), *packed, bias, z, y.data<float>());
            return;
        }
        const bool padded = s.g.pad_begin != decltype(s.g.pad_begin){} ||
                            s.g.pad_end != decltype(s.g.pad_end){};
        if (!padded) {
            run_gemm(s, pointwise, x.data<float>(), *packed, bias, z, y.data<float>());
            return;
        }
        if (s.n > 1 && s.g.out_size() >= kImageBlock) {
            run_gemm_per_image(s, x.data<float>(), *packed, bias, z, y.data<float>());
            return;
        }
        // The padded copy lives in the calling thread's scratch; workers only read it.
        ConvShape sp = s;
        std::int64_t padded_size = s.n * s.c;
        for (std::size_t a = 0; a < spatial::kMaxRank; ++a) {
            padded_size *= s.g.in[a] + s.g.pad_begin[a] + s.g.pad_end[a];
        }
        float* xp = thread_scratch(static_cast<std::size_t>(padded_size), 3);
        sp.g = pad_input(x.data<float>(), s.n * s.c, s.g, xp);
        run_gemm(sp, false, xp, *packed, bias, z, y.data<float>());
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

    bool plain() const { return ep_.act == Epilogue::Act::kNone; }

    void run_depthwise(const ConvShape& s, const float* x, const float* w, const float* bias,
                       const float* z, float* y) const {
        const std::int64_t planes = s.n * s.m;
        const std::int64_t out_size = s.g.out_size(), ksize = s.g.kernel_size();
        const std::int64_t grain = std::max<std::int64_t>(1, 16384 / (out_size * ksize + 1));
        const DwPlan plan = dw_plan(s.g);
        using Act = Epilogue::Act;
        // Without Z, Relu and Clip are applied by the kernel as it stores.
        const bool in_kernel =
            !z && (ep_.act == Act::kNone || ep_.act == Act::kRelu || ep_.act == Act::kClip);
        const Act act = in_kernel ? ep_.act : Act::kNone;
        const DwArgs args{x, w, bias, y, s.c, s.m, s.mg, &s.g, &plan, act, ep_.a, ep_.b};
        const DwPlanesFn planes_fn = dw_planes_fn(act);
        parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
            planes_fn(args, begin, end);
            if (!in_kernel) {
                for (std::int64_t i = begin; i < end; ++i) {
                    finish(ep_, y + i * out_size, z ? z + i * out_size : nullptr, out_size);
                }
            }
        });
    }

    // Convs with depth stride 1. The input is copied with its padding made explicit and its
    // planes split into stride phases (PhasedGrid, plus slack), and the output is computed on a
    // virtual grid of a phase's rows: output pixel v = (od * PH + oh) * PW + ow reads input
    // v + offset(c, kd, kh, kw) for every tap, so each row of the im2col matrix is a window of
    // the phased image and nothing is packed. The virtual pixels with oh >= OH or ow >= OW are
    // computed and dropped.
    void run_flat(const ConvShape& s, const float* x, const std::vector<PackedA>& w,
                  const float* bias, const float* z, float* y) const {
        const Geometry& g = s.g;
        const PhasedGrid pg(g);
        const std::int64_t PH = pg.PH, PW = pg.PW, pin = pg.plane, P = g.out_size();
        const std::int64_t OH = g.out[1], OW = g.out[2];
        const std::int64_t V = ((g.out[0] - 1) * PH + (OH - 1)) * PW + OW;
        const std::int64_t K = s.cg * g.kernel_size();
        thread_local std::vector<std::int64_t> offsets;
        offsets.clear();
        for (std::int64_t c = 0; c < s.cg; ++c) {
            for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                    for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                        offsets.push_back(pg.tap(g, c, kd, kh, kw));
                    }
                }
            }
        }
        // Slack: the last tile of the last image reads up to a panel past the buffer.
        constexpr std::int64_t kSlack = 2 * BPacker::kPanel;
        const std::int64_t panel = BPacker::kPanel;
        // One image: at least a block per thread (of 64 columns or more), so that small planes
        // are split too; a column's sum does not depend on the blocks, so neither do results.
        const std::int64_t per_thread =
            s.n == 1 ? std::min<std::int64_t>(num_threads(), (V + 63) / 64) : 1;
        const std::int64_t nb = std::max((V + kColumnBlock - 1) / kColumnBlock, per_thread);
        const std::int64_t bv = ((V + nb - 1) / nb + panel - 1) / panel * panel;
        const std::int64_t blocks = (V + bv - 1) / bv;
        const std::int64_t* offs = offsets.data();
        // Column block blk of image n, group grp; xg: the group's padded channels.
        auto do_block = [&](std::int64_t n, std::int64_t grp, std::int64_t blk, const float* xg) {
            const std::int64_t v0 = blk * bv, v1 = std::min(V, v0 + bv);
            const std::int64_t cols = (v1 - v0 + panel - 1) / panel * panel;
            float* out =
                thread_scratch(static_cast<std::size_t>(gemm_rows_padded(s.mg) * cols), 1);
            gemm_shifted_b(s.mg, cols, K, w[static_cast<std::size_t>(grp)], xg + v0, offs, out,
                           cols);
            // Copy the real pixels out with bias, Z and the activation, channel by channel
            // (each output plane written as one sequence of runs).
            thread_local std::vector<StripRun> runs;
            runs.clear();
            for (std::int64_t v = v0; v < v1;) {
                const std::int64_t od = v / (PH * PW), oh = v / PW % PH, ow = v % PW;
                const std::int64_t run = std::min(PW - ow, v1 - v);
                if (oh < OH && ow < OW) {
                    runs.push_back({v - v0, n, (od * OH + oh) * OW + ow, std::min(run, OW - ow)});
                }
                v += run;
            }
            write_strip_any(ep_, StripArgs{out, cols, 0, s.mg, runs.data(),
                                           static_cast<int>(runs.size()), P, s.m, s.mg, grp, bias,
                                           z, y, ep_.a, ep_.b});
        };
        if (s.n > 1) {
            // One task per (image, group): its padded copy is made by the task and stays in
            // cache for all its column blocks.
            parallel_for(s.n * s.group, 1, [&](std::int64_t begin, std::int64_t end) {
                float* xg = thread_scratch(static_cast<std::size_t>(s.cg * pin + kSlack), 3);
                std::fill(xg + s.cg * pin, xg + s.cg * pin + kSlack, 0.0f);
                for (std::int64_t i = begin; i < end; ++i) {
                    const std::int64_t n = i / s.group, grp = i % s.group;
                    pad_phased(x + (n * s.c + grp * s.cg) * g.in_size(), s.cg, g, pg, xg);
                    for (std::int64_t blk = 0; blk < blocks; ++blk) do_block(n, grp, blk, xg);
                }
            });
            return;
        }
        // One image: the padded copy first, then the column blocks in parallel.
        float* xp = thread_scratch(static_cast<std::size_t>(s.c * pin + kSlack), 3);
        pad_phased(x, s.c, g, pg, xp);
        std::fill(xp + s.c * pin, xp + s.c * pin + kSlack, 0.0f);
        parallel_for(s.group * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const std::int64_t grp = i / blocks;
                do_block(0, grp, i % blocks, xp + grp * s.cg * pin);
            }
        });
    }

    // Padded strided convs over several images with large enough outputs: one task per (image,
    // group) pads its channels into the thread's scratch (cache-resident, instead of a padded
    // copy of the whole batch) and runs one GEMM over the image's output positions.
    void run_gemm_per_image(const ConvShape& s, const float* x, const std::vector<PackedA>& w,
                            const float* bias, const float* z, float* y) const {
        const std::int64_t P = s.g.out_size(), K = s.cg * s.g.kernel_size();
        std::int64_t pin = 1;
        for (std::size_t a = 0; a < spatial::kMaxRank; ++a) {
            pin *= s.g.in[a] + s.g.pad_begin[a] + s.g.pad_end[a];
        }
        const bool epilogue = bias || z || !plain();
        parallel_for(s.n * s.group, 1, [&](std::int64_t begin, std::int64_t end) {
            float* xg = thread_scratch(static_cast<std::size_t>(s.cg * pin), 3);
            for (std::int64_t i = begin; i < end; ++i) {
                const std::int64_t n = i / s.group, grp = i % s.group;
                const Geometry gp =
                    pad_input(x + (n * s.c + grp * s.cg) * s.g.in_size(), s.cg, s.g, xg);
                const Im2colPacker packer(xg, 0, gp, 0);
                OperandA a;
                a.packed = &w[static_cast<std::size_t>(grp)];
                OperandB b;
                b.packer = &packer;
                const TileEpilogue tiles(s, ep_, bias, z, y, grp, n * P);
                gemm(s.mg, P, K, a, b, y + (n * s.m + grp * s.mg) * P, P, 1.0f, 0.0f, true,
                     epilogue ? &tiles : nullptr);
            }
        });
    }

    // Per group, the columns (image, output position), image-major, in blocks of about
    // kColumnBlock. A block inside one image is written straight into y; a block spanning
    // images goes through scratch and is copied to each image's planes.
    void run_gemm(const ConvShape& s, bool pointwise, const float* x,
                  const std::vector<PackedA>& w, const float* bias, const float* z,
                  float* y) const {
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
                block(s, pointwise, x, w[static_cast<std::size_t>(grp)], bias, z, y, grp, c0, c1);
            }
        });
    }

    // Writes finished GEMM tiles to y with bias, Z and the activation. Tile columns are
    // (image, output position) counted from column col0 of the group; the tile is either y's own
    // memory (one image, in place) or scratch.
    class TileEpilogue final : public GemmEpilogue {
    public:
        TileEpilogue(const ConvShape& s, const Epilogue& ep, const float* bias, const float* z,
                     float* y, std::int64_t grp, std::int64_t col0)
            : s_(s), ep_(ep), bias_(bias), z_(z), y_(y), grp_(grp), col0_(col0) {}

        void apply(std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
                   float* tile, std::int64_t ldc) const override {
            // Members copied to locals: stores through float pointers could alias them.
            const std::int64_t P = s_.g.out_size(), M = s_.m, mg = s_.mg, grp = grp_;
            const float* bias = bias_;
            const float* z = z_;
            float* y = y_;
            const Epilogue ep = ep_;
            // The strip's columns as runs within one image: (offset in the strip, image,
            // position, length).
            thread_local std::vector<StripRun> run_buf;
            run_buf.clear();
            for (std::int64_t j = c0; j < c1;) {
                const std::int64_t col = col0_ + j, n = col / P, p = col % P;
                const std::int64_t len = std::min(c1 - j, P - p);
                run_buf.push_back({j - c0, n, p, len});
                j += len;
            }
            const StripRun* runs = run_buf.data();
            const int nruns = static_cast<int>(run_buf.size());
            write_strip_any(ep, StripArgs{tile, ldc, r0, r1, runs, nruns, P, M, mg, grp, bias, z,
                                          y, ep.a, ep.b});
        }

    private:
        const ConvShape& s_;
        const Epilogue& ep_;
        const float* bias_;
        const float* z_;
        float* y_;
        std::int64_t grp_, col0_;
    };

    void block(const ConvShape& s, bool pointwise, const float* x, const PackedA& w,
               const float* bias, const float* z, float* y, std::int64_t grp, std::int64_t c0,
               std::int64_t c1) const {
        const std::int64_t P = s.g.out_size(), K = s.cg * s.g.kernel_size();
        const std::int64_t in_size = s.g.in_size(), cols = c1 - c0;
        const float* xg = x + grp * s.cg * in_size;
        const Im2colPacker packer(xg, s.c * in_size, s.g, c0);
        OperandA a;
        a.packed = &w;
        OperandB b;
        const TileEpilogue tiles(s, ep_, bias, z, y, grp, c0);
        const bool one_image = c0 / P == (c1 - 1) / P;
        if (one_image) {
            const std::int64_t n = c0 / P, p0 = c0 - n * P;
            if (pointwise) {
                b.matrix = MatrixRef{xg + n * s.c * in_size + p0, P, false};
            } else {
                b.packer = &packer;
            }
            float* yb = y + (n * s.m + grp * s.mg) * P + p0;
            const bool epilogue = bias || z || !plain();
            gemm(s.mg, cols, K, a, b, yb, P, 1.0f, 0.0f, true, epilogue ? &tiles : nullptr);
            return;
        }
        b.packer = &packer;
        float* out = thread_scratch(static_cast<std::size_t>(s.mg * cols), 1);
        gemm(s.mg, cols, K, a, b, out, cols, 1.0f, 0.0f, true, &tiles);
    }

    spatial::WindowAttrs attrs_;
    std::int64_t group_;
    std::vector<PackedA> packed_;  // per group, when W is constant
    Epilogue ep_;
};

KernelPtr make_conv(const KernelBuildInfo& info, Epilogue ep) {
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
    return std::make_unique<Conv>(std::move(attrs), group, std::move(packed), ep);
}

// com.microsoft FusedConv (as ONNX Runtime's contrib op): Y = activation(Conv(X, W, B) + Z),
// Z optional; activation Relu, Tanh, Sigmoid, LeakyRelu (alpha), Clip (min, max) or
// HardSigmoid (alpha, beta) with its parameters in activation_params.
Epilogue read_epilogue(const KernelBuildInfo& info) {
    using Act = Epilogue::Act;
    const std::string name = info.node.attr_string("activation", "");
    const std::vector<float> prm = info.node.attr_floats("activation_params");
    struct Row {
        const char* name;
        Act act;
        std::size_t params;
        float a, b;
    };
    static const Row kRows[] = {
        {"", Act::kNone, 0, 0.0f, 0.0f},
        {"Relu", Act::kRelu, 0, 0.0f, 0.0f},
        {"Tanh", Act::kTanh, 0, 0.0f, 0.0f},
        {"Sigmoid", Act::kSigmoid, 0, 0.0f, 0.0f},
        {"LeakyRelu", Act::kLeakyRelu, 1, 0.01f, 0.0f},
        {"Clip", Act::kClip, 2, -std::numeric_limits<float>::infinity(),
         std::numeric_limits<float>::infinity()},
        {"HardSigmoid", Act::kHardSigmoid, 2, 0.2f, 0.5f},
    };
    for (const Row& r : kRows) {
        if (name != r.name) continue;
        if (!prm.empty() && prm.size() != r.params) {
            info.fail("attribute 'activation_params': " + name + " takes " +
                      std::to_string(r.params) + " values, got " + std::to_string(prm.size()));
        }
        Epilogue ep;
        ep.act = r.act;
        ep.a = prm.size() > 0 ? prm[0] : r.a;
        ep.b = prm.size() > 1 ? prm[1] : r.b;
        return ep;
    }
    info.fail("attribute 'activation': '" + name +
              "' is not supported, expected Relu, Tanh, Sigmoid, LeakyRelu, Clip or HardSigmoid");
}

}  // namespace

void register_conv(KernelRegistry& registry) {
    registry.add("Conv", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.node.num_inputs() > 3) info.fail("expected at most 3 inputs (X, W, B)");
        return make_conv(info, Epilogue{});
    });
    registry.add(
        "FusedConv",
        [](const KernelBuildInfo& info) { return make_conv(info, read_epilogue(info)); },
        "com.microsoft");
}

}  // namespace aquant::engine
