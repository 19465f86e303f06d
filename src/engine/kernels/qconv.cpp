#include "qconv.h"

#include <algorithm>
#include <cstring>

#include "aquant/core/error.h"
#include "aquant/core/parallel.h"

namespace aquant::engine::qconv {
namespace {

using spatial::Geometry;

// Target output columns per block: a multiple of the panel width; the block's packed columns
// (depth * kColumnBlock int16) stay in L2 while every row tile of the group runs over them.
constexpr std::int64_t kColumnBlock = 256;

// Scratch owned by the calling thread, grown to the largest request and reused.
template <typename T>
T* scratch(std::size_t n, int slot) {
    thread_local std::vector<T> buffers[2];  // per element type
    std::vector<T>& b = buffers[slot];
    if (b.size() < n) b.resize(n);
    return b.data();
}

// Rows (c, kd, kh, kw) x output columns [p0, p1) of one image's im2col matrix into col (rows
// ld elements apart); taps outside the input read `pad` (the input zero point). Output positions
// are walked with running (od, oh, ow) counters: no division per output row.
template <typename X>
void im2col(const X* x, std::int64_t cg, const Geometry& g, std::int64_t p0, std::int64_t p1,
            X pad, X* col, std::int64_t ld) {
    const std::int64_t OH = g.out[1], OW = g.out[2];
    const std::int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const std::int64_t sd = g.stride[0], sh = g.stride[1], sw = g.stride[2];
    const std::int64_t row0 = p0 / OW, ow_first = p0 % OW;
    const std::int64_t oh_first = row0 % OH, od_first = row0 / OH;
    for (std::int64_t c = 0; c < cg; ++c) {
        const X* xc = x + c * g.in_size();
        for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const std::int64_t offd = kd * g.dilation[0] - g.pad_begin[0];
            for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                const std::int64_t offh = kh * g.dilation[1] - g.pad_begin[1];
                for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const std::int64_t offw = kw * g.dilation[2] - g.pad_begin[2];
                    std::int64_t lo_w, hi_w;
                    spatial::valid_range(offw, sw, W, OW, &lo_w, &hi_w);
                    X* dst_row = col;
                    std::int64_t ow0 = ow_first, oh = oh_first, od = od_first;
                    for (std::int64_t p = p0; p < p1;) {
                        const std::int64_t ow1 = std::min(OW, ow0 + (p1 - p));
                        const std::int64_t id = od * sd + offd, ih = oh * sh + offh;
                        X* dst = dst_row - ow0;
                        if (id < 0 || id >= D || ih < 0 || ih >= H) {
                            for (std::int64_t ow = ow0; ow < ow1; ++ow) dst[ow] = pad;
                        } else {
                            const X* src = xc + (id * H + ih) * W + offw;
                            const std::int64_t a = std::clamp(lo_w, ow0, ow1);
                            const std::int64_t b = std::clamp(hi_w, a, ow1);
                            for (std::int64_t ow = ow0; ow < a; ++ow) dst[ow] = pad;
                            if (sw == 1) {
                                std::memcpy(dst + a, src + a, sizeof(X) * (b - a));
                            } else {
                                for (std::int64_t ow = a; ow < b; ++ow) dst[ow] = src[ow * sw];
                            }
                            for (std::int64_t ow = b; ow < ow1; ++ow) dst[ow] = pad;
                        }
                        dst_row += ow1 - ow0;
                        p += ow1 - ow0;
                        ow0 = 0;
                        if (++oh == OH) {
                            oh = 0;
                            ++od;
                        }
                    }
                    col += ld;
                }
            }
        }
    }
}

// Columns [c0, c1) of group grp (columns are (image, output position) pairs, image-major).
template <typename X, typename Y>
void gemm_block(const Shape& s, const X* x, std::int32_t x_zp, const PackedWeights& w,
                const qgemm::OutputStage& stage, Y* y, std::int64_t grp, std::int64_t c0,
                std::int64_t c1) {
    const std::int64_t P = s.g.out_size(), K = w.depth, cols = c1 - c0;
    const std::int64_t kp = qgemm::depth_pairs(K);
    const bool pointwise = s.g.kernel_size() == 1 && s.g.stride == decltype(s.g.stride){1, 1, 1} &&
                           s.g.pad_begin == decltype(s.g.pad_begin){} &&
                           s.g.pad_end == decltype(s.g.pad_end){};
    const bool one_image = c0 / P == (c1 - 1) / P;
    std::int16_t* packed = scratch<std::int16_t>(qgemm::packed_cols_size(cols, K), 0);
    if (pointwise && one_image) {
        const std::int64_t n = c0 / P;
        const X* src = x + (n * s.c + grp * s.cg) * P + (c0 - n * P);
        qgemm::pack_cols(src, P, 1, K, cols, &x_zp, false, packed);
    } else {
        auto* col = reinterpret_cast<X*>(scratch<std::int16_t>(
            static_cast<std::size_t>((K * cols + 1) / 2 + 1), 1));
        for (std::int64_t c = c0; c < c1;) {
            const std::int64_t n = c / P, p0 = c % P, p1 = std::min(P, p0 + (c1 - c));
            im2col(x + (n * s.c + grp * s.cg) * s.g.in_size(), s.cg, s.g, p0, p1,
                   static_cast<X>(x_zp), col + (c - c0), cols);
            c += p1 - p0;
        }
        qgemm::pack_cols(col, cols, 1, K, cols, &x_zp, false, packed);
    }
    // Element (row m of the group, column c) lands at y[(n * M + grp * mg + m) * P + p].
    std::int64_t col_offset_buf[qgemm::kPanel];
    alignas(64) std::int32_t tile[qgemm::kRowTile * qgemm::kPanel];
    const std::int32_t* wg = w.rows.data() + grp * w.group_stride;
    for (std::int64_t q = 0; q < qgemm::panels(cols); ++q) {
        const std::int64_t j0 = q * qgemm::kPanel, nj = std::min(qgemm::kPanel, cols - j0);
        const std::int64_t first = c0 + j0, last = first + nj - 1;
        Y* dst = y;
        const std::int64_t* col_offset = nullptr;
        if (first / P == last / P) {
            const std::int64_t n = first / P;
            dst = y + n * s.m * P + (first - n * P);
        } else {
            for (std::int64_t j = 0; j < nj; ++j) {
                const std::int64_t n = (first + j) / P;
                col_offset_buf[j] = n * s.m * P + (first + j - n * P);
            }
            col_offset = col_offset_buf;
        }
        const std::int16_t* panel = packed + q * kp * qgemm::kPanel * 2;
        for (std::int64_t t = 0; t < qgemm::row_tiles(s.mg); ++t) {
            qgemm::micro_kernel(wg + t * kp * qgemm::kRowTile, panel, kp, tile);
            const std::int64_t m0 = grp * s.mg + t * qgemm::kRowTile;
            const std::int64_t rows = std::min(qgemm::kRowTile, s.mg - t * qgemm::kRowTile);
            std::int64_t row_offset[qgemm::kRowTile];
            for (std::int64_t i = 0; i < rows; ++i) row_offset[i] = (m0 + i) * P;
            qgemm::store_tile<Y, true>(tile, rows, nj, row_offset, col_offset, m0, stage, dst);
        }
    }
}

// Stride-1 convolutions without im2col: each image is padded once (pad value = the input zero
// point) and output position (od, oh, ow) is read as flat position q = (od * hp + oh) * wp + ow
// of the padded volume, so tap (c, kd, kh, kw) is the padded channel c shifted by a constant.
// GEMM columns run over q; positions with oh >= OH or ow >= OW wrap around a padded row and are
// computed but never stored.
struct Flat {
    std::int64_t dp = 0, hp = 0, wp = 0, plane = 0;
    std::int64_t cols = 0;  // flat positions per image, up to the last output
};

Flat flat_geometry(const Geometry& g) {
    Flat f;
    f.dp = g.in[0] + g.pad_begin[0] + g.pad_end[0];
    f.hp = g.in[1] + g.pad_begin[1] + g.pad_end[1];
    f.wp = g.in[2] + g.pad_begin[2] + g.pad_end[2];
    f.plane = f.dp * f.hp * f.wp;
    f.cols = ((g.out[0] - 1) * f.hp + g.out[1] - 1) * f.wp + g.out[2];
    return f;
}

template <typename X>
std::vector<X> pad_input(const Shape& s, const X* x, X pad, const Flat& f) {
    std::vector<X> padded(static_cast<std::size_t>(s.n * s.c * f.plane), pad);
    const Geometry& g = s.g;
    parallel_for(s.n * s.c, 4, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const X* src = x + i * g.in_size();
            X* dst = padded.data() + i * f.plane;
            for (std::int64_t d = 0; d < g.in[0]; ++d) {
                for (std::int64_t h = 0; h < g.in[1]; ++h) {
                    std::memcpy(dst + ((d + g.pad_begin[0]) * f.hp + h + g.pad_begin[1]) * f.wp +
                                    g.pad_begin[2],
                                src + (d * g.in[1] + h) * g.in[2], sizeof(X) * g.in[2]);
                }
            }
        }
    });
    return padded;
}

// Flat columns [q0, q1) of image n, group grp.
template <typename X, typename Y>
void flat_block(const Shape& s, const Flat& f, const X* padded, std::int32_t x_zp,
                const PackedWeights& w, const qgemm::OutputStage& stage, Y* y, std::int64_t n,
                std::int64_t grp, std::int64_t q0, std::int64_t q1) {
    const Geometry& g = s.g;
    const std::int64_t K = w.depth, cols = q1 - q0, kp = qgemm::depth_pairs(K);
    const std::int64_t P = g.out_size();
    const X** rows = scratch<const X*>(static_cast<std::size_t>(K), 0);
    const X* base = padded + (n * s.c + grp * s.cg) * f.plane + q0;
    std::int64_t k = 0;
    for (std::int64_t c = 0; c < s.cg; ++c) {
        for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    rows[k++] = base + c * f.plane +
                                (kd * g.dilation[0] * f.hp + kh * g.dilation[1]) * f.wp +
                                kw * g.dilation[2];
                }
            }
        }
    }
    std::int16_t* packed = scratch<std::int16_t>(qgemm::packed_cols_size(cols, K), 0);
    qgemm::pack_cols_gather(rows, K, cols, x_zp, packed);
    // Output offset of every column of the block, -1 for the wrap-around ones.
    std::int64_t* offset = scratch<std::int64_t>(static_cast<std::size_t>(cols), 0);
    {
        const std::int64_t hw = f.hp * f.wp;
        std::int64_t od = q0 / hw, oh = q0 % hw / f.wp, ow = q0 % f.wp;
        for (std::int64_t j = 0; j < cols; ++j) {
            const bool valid = od < g.out[0] && oh < g.out[1] && ow < g.out[2];
            offset[j] = valid ? (od * g.out[1] + oh) * g.out[2] + ow : -1;
            if (++ow == f.wp) {
                ow = 0;
                if (++oh == f.hp) {
                    oh = 0;
                    ++od;
                }
            }
        }
    }
    Y* yn = y + n * s.m * P;
    const std::int32_t* wg = w.rows.data() + grp * w.group_stride;
    alignas(64) std::int32_t tile[qgemm::kRowTile * qgemm::kPanel];
    std::int64_t col_offset[qgemm::kPanel], keep[qgemm::kPanel];
    for (std::int64_t q = 0; q < qgemm::panels(cols); ++q) {
        const std::int64_t j0 = q * qgemm::kPanel, nj = std::min(qgemm::kPanel, cols - j0);
        std::int64_t nv = 0;
        for (std::int64_t j = 0; j < nj; ++j) {
            if (offset[j0 + j] >= 0) {
                keep[nv] = j;
                col_offset[nv++] = offset[j0 + j];
            }
        }
        if (nv == 0) continue;
        const bool contiguous = nv == nj && col_offset[nv - 1] - col_offset[0] == nv - 1;
        const std::int16_t* panel = packed + q * kp * qgemm::kPanel * 2;
        for (std::int64_t t = 0; t < qgemm::row_tiles(s.mg); ++t) {
            qgemm::micro_kernel(wg + t * kp * qgemm::kRowTile, panel, kp, tile);
            const std::int64_t m0 = grp * s.mg + t * qgemm::kRowTile;
            const std::int64_t nr = std::min(qgemm::kRowTile, s.mg - t * qgemm::kRowTile);
            std::int64_t row_offset[qgemm::kRowTile];
            for (std::int64_t i = 0; i < nr; ++i) row_offset[i] = (m0 + i) * P;
            if (contiguous) {
                qgemm::store_tile<Y, true>(tile, nr, nv, row_offset, nullptr, m0, stage,
                                           yn + col_offset[0]);
                continue;
            }
            for (std::int64_t i = 0; i < nr; ++i) {
                for (std::int64_t v = 0; v < nv; ++v) {
                    tile[i * qgemm::kPanel + v] = tile[i * qgemm::kPanel + keep[v]];
                }
            }
            qgemm::store_tile<Y, true>(tile, nr, nv, row_offset, col_offset, m0, stage, yn);
        }
    }
}

template <typename X, typename Y>
void run_flat(const Shape& s, const X* x, std::int32_t x_zp, const PackedWeights& w,
              const qgemm::OutputStage& stage, Y* y) {
    const Flat f = flat_geometry(s.g);
    const std::vector<X> padded = pad_input(s, x, static_cast<X>(x_zp), f);
    const std::int64_t blocks = (f.cols + kColumnBlock - 1) / kColumnBlock;
    std::int64_t bs = (f.cols + blocks - 1) / blocks;
    bs = (bs + qgemm::kPanel - 1) / qgemm::kPanel * qgemm::kPanel;
    const std::int64_t nblocks = (f.cols + bs - 1) / bs;
    parallel_for(s.n * s.group * nblocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t blk = i % nblocks, grp = i / nblocks % s.group;
            const std::int64_t n = i / (nblocks * s.group);
            const std::int64_t q0 = blk * bs, q1 = std::min(f.cols, q0 + bs);
            flat_block(s, f, padded.data(), x_zp, w, stage, y, n, grp, q0, q1);
        }
    });
}

template <typename X, typename Y>
void run_gemm(const Shape& s, const X* x, std::int32_t x_zp, const PackedWeights& w,
              const qgemm::OutputStage& stage, Y* y) {
    const std::int64_t total = s.n * s.g.out_size();
    const std::int64_t blocks = (total + kColumnBlock - 1) / kColumnBlock;
    std::int64_t bs = (total + blocks - 1) / blocks;
    bs = (bs + qgemm::kPanel - 1) / qgemm::kPanel * qgemm::kPanel;
    const std::int64_t nblocks = (total + bs - 1) / bs;
    parallel_for(s.group * nblocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t grp = i / nblocks, blk = i % nblocks;
            const std::int64_t c0 = blk * bs, c1 = std::min(total, c0 + bs);
            gemm_block(s, x, x_zp, w, stage, y, grp, c0, c1);
        }
    });
}

// One output plane of a depthwise conv: int32 accumulation one kernel tap at a time over whole
// output rows on (x - x_zero_point) widened to int16; taps in the padding add 0 and are skipped.
template <typename X, typename Y>
void depthwise_plane(const X* in, std::int32_t x_zp, const std::int16_t* w, const Geometry& g,
                     const qgemm::OutputStage& stage, std::int64_t ch, Y* out) {
    const std::int64_t in_size = g.in_size(), out_size = g.out_size();
    std::int16_t* xs = scratch<std::int16_t>(static_cast<std::size_t>(in_size), 0);
    auto* acc = reinterpret_cast<std::int32_t*>(
        scratch<std::int16_t>(static_cast<std::size_t>(2 * out_size), 1));
    for (std::int64_t i = 0; i < in_size; ++i) {
        xs[i] = static_cast<std::int16_t>(static_cast<std::int32_t>(in[i]) - x_zp);
    }
    std::fill(acc, acc + out_size, 0);
    const std::int64_t OH = g.out[1], OW = g.out[2], H = g.in[1], W = g.in[2];
    const std::int64_t sw = g.stride[2];
    for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
        const std::int64_t offd = kd * g.dilation[0] - g.pad_begin[0];
        std::int64_t lo_d, hi_d;
        spatial::valid_range(offd, g.stride[0], g.in[0], g.out[0], &lo_d, &hi_d);
        for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const std::int64_t offh = kh * g.dilation[1] - g.pad_begin[1];
            std::int64_t lo_h, hi_h;
            spatial::valid_range(offh, g.stride[1], H, OH, &lo_h, &hi_h);
            for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw, ++w) {
                const std::int64_t offw = kw * g.dilation[2] - g.pad_begin[2];
                std::int64_t lo_w, hi_w;
                spatial::valid_range(offw, sw, W, OW, &lo_w, &hi_w);
                const std::int32_t wv = *w;
                if (wv == 0) continue;
                for (std::int64_t od = lo_d; od < hi_d; ++od) {
                    const std::int64_t id = od * g.stride[0] + offd;
                    for (std::int64_t oh = lo_h; oh < hi_h; ++oh) {
                        const std::int64_t ih = oh * g.stride[1] + offh;
                        const std::int16_t* src = xs + (id * H + ih) * W + offw;
                        std::int32_t* dst = acc + (od * OH + oh) * OW;
                        if (sw == 1) {
                            for (std::int64_t ow = lo_w; ow < hi_w; ++ow) {
                                dst[ow] += wv * static_cast<std::int32_t>(src[ow]);
                            }
                        } else {
                            for (std::int64_t ow = lo_w; ow < hi_w; ++ow) {
                                dst[ow] += wv * static_cast<std::int32_t>(src[ow * sw]);
                            }
                        }
                    }
                }
            }
        }
    }
    if constexpr (std::is_same_v<Y, std::int32_t>) {
        std::memcpy(out, acc, sizeof(std::int32_t) * static_cast<std::size_t>(out_size));
    } else {
        const std::int32_t b = stage.bias ? stage.bias[ch] : 0;
        const float m = stage.multiplier[stage.per_channel ? ch : 0];
        for (std::int64_t i = 0; i < out_size; ++i) {
            out[i] = static_cast<Y>(qgemm::requantize_one(acc[i], b, m, stage));
        }
    }
}

template <typename X, typename Y>
void run_depthwise(const Shape& s, const X* x, std::int32_t x_zp, const PackedWeights& w,
                   const qgemm::OutputStage& stage, Y* y) {
    const std::int64_t planes = s.n * s.m, in_size = s.g.in_size();
    const std::int64_t out_size = s.g.out_size(), ksize = s.g.kernel_size();
    const std::int64_t grain = std::max<std::int64_t>(1, 4096 / (out_size * ksize + 1));
    parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t n = i / s.m, oc = i % s.m, ic = oc / s.mg;
            depthwise_plane(x + (n * s.c + ic) * in_size, x_zp, w.depthwise.data() + oc * ksize,
                            s.g, stage, oc, y + i * out_size);
        }
    });
}

}  // namespace

template <typename W>
PackedWeights pack_weights(const W* w, const Dims& dims, std::int64_t group,
                           const std::vector<std::int32_t>& zero_point) {
    PackedWeights p;
    p.dims = dims;
    p.m = dims.at(0);
    p.cg = dims.at(1);
    p.group = group;
    p.mg = p.m / group;
    p.ksize = 1;
    for (std::size_t i = 2; i < dims.size(); ++i) p.ksize *= dims[i];
    p.depth = p.cg * p.ksize;
    if (p.mg * group != p.m ||
        (zero_point.size() != 1 && static_cast<std::int64_t>(zero_point.size()) != p.m)) {
        throw InternalError("qconv::pack_weights: inconsistent weight dims " + dims_str(dims));
    }
    auto zp = [&](std::int64_t oc) { return zero_point[zero_point.size() == 1 ? 0 : oc]; };
    for (std::int64_t oc = 0; oc < p.m; ++oc) {
        for (std::int64_t k = 0; k < p.depth; ++k) {
            const std::int64_t v = static_cast<std::int64_t>(w[oc * p.depth + k]) - zp(oc);
            p.max_abs = std::max(p.max_abs, v < 0 ? -v : v);
        }
    }
    if (p.is_depthwise()) {
        p.depthwise.resize(static_cast<std::size_t>(p.m * p.ksize));
        for (std::int64_t oc = 0; oc < p.m; ++oc) {
            for (std::int64_t k = 0; k < p.ksize; ++k) {
                p.depthwise[static_cast<std::size_t>(oc * p.ksize + k)] =
                    static_cast<std::int16_t>(static_cast<std::int32_t>(w[oc * p.ksize + k]) - zp(oc));
            }
        }
        return p;
    }
    p.group_stride = qgemm::packed_rows_size(p.mg, p.depth);
    p.rows.resize(p.group_stride * static_cast<std::size_t>(group));
    std::vector<std::int32_t> zps(static_cast<std::size_t>(p.m));
    for (std::int64_t oc = 0; oc < p.m; ++oc) zps[static_cast<std::size_t>(oc)] = zp(oc);
    for (std::int64_t g = 0; g < group; ++g) {
        qgemm::pack_rows(w + g * p.mg * p.depth, p.depth, 1, p.mg, p.depth,
                         zps.data() + g * p.mg, true, p.rows.data() + g * p.group_stride);
    }
    return p;
}

std::string resolve_shape(const spatial::WindowAttrs& attrs, const Dims& x_dims,
                          const PackedWeights& w, Shape* out) {
    if (x_dims.size() < 3 || x_dims.size() > 2 + spatial::kMaxRank) {
        return "input x: expected rank 3 to 5, got " + dims_str(x_dims);
    }
    if (x_dims.size() != w.dims.size()) {
        return "input w " + dims_str(w.dims) + " does not match the rank of input x " +
               dims_str(x_dims);
    }
    Shape s;
    s.n = x_dims[0];
    s.c = x_dims[1];
    s.m = w.m;
    s.group = w.group;
    s.cg = w.cg;
    s.mg = w.mg;
    if (s.cg * s.group != s.c) {
        return "input w " + dims_str(w.dims) + " does not match input x " + dims_str(x_dims) +
               " with group " + std::to_string(s.group);
    }
    const Dims in_sp(x_dims.begin() + 2, x_dims.end());
    const std::vector<std::int64_t> kernel(w.dims.begin() + 2, w.dims.end());
    if (!attrs.kernel_shape.empty() && attrs.kernel_shape != kernel) {
        return "attribute 'kernel_shape' " + dims_str(attrs.kernel_shape) +
               " does not match input w " + dims_str(w.dims);
    }
    const std::string err =
        spatial::resolve_window(attrs, in_sp, kernel, spatial::WindowKind::kConv, &s.g);
    if (!err.empty()) return err;
    s.out_dims = {s.n, s.m};
    for (int i = 3 - s.g.rank; i < 3; ++i) s.out_dims.push_back(s.g.out[i]);
    *out = s;
    return "";
}

template <typename X, typename Y>
void run(const Shape& s, const X* x, std::int32_t x_zero_point, const PackedWeights& w,
         const qgemm::OutputStage& stage, Y* y) {
    if (s.n == 0 || s.m == 0 || s.g.out_size() == 0) return;
    const bool unit_stride = s.g.stride == decltype(s.g.stride){1, 1, 1};
    const bool pointwise = s.g.kernel_size() == 1 && unit_stride &&
                           s.g.pad_begin == decltype(s.g.pad_begin){} &&
                           s.g.pad_end == decltype(s.g.pad_end){};
    if (w.is_depthwise()) {
        run_depthwise(s, x, x_zero_point, w, stage, y);
    } else if (unit_stride && !pointwise) {
        run_flat(s, x, x_zero_point, w, stage, y);
    } else {
        run_gemm(s, x, x_zero_point, w, stage, y);
    }
}

template PackedWeights pack_weights<std::uint8_t>(const std::uint8_t*, const Dims&, std::int64_t,
                                                  const std::vector<std::int32_t>&);
template PackedWeights pack_weights<std::int8_t>(const std::int8_t*, const Dims&, std::int64_t,
                                                 const std::vector<std::int32_t>&);

#define AQUANT_QCONV_RUN(X, Y)                                                                \
    template void run<X, Y>(const Shape&, const X*, std::int32_t, const PackedWeights&,        \
                            const qgemm::OutputStage&, Y*);
AQUANT_QCONV_RUN(std::uint8_t, std::uint8_t)
AQUANT_QCONV_RUN(std::uint8_t, std::int8_t)
AQUANT_QCONV_RUN(std::uint8_t, std::int32_t)
AQUANT_QCONV_RUN(std::int8_t, std::uint8_t)
AQUANT_QCONV_RUN(std::int8_t, std::int8_t)
AQUANT_QCONV_RUN(std::int8_t, std::int32_t)
#undef AQUANT_QCONV_RUN

}  // namespace aquant::engine::qconv
