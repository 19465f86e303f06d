#include "aquant/engine/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "aquant/core/parallel.h"
#include "kernels/simd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AQUANT_GEMM_X86 1
#endif

namespace aquant::engine {
namespace {

// Micro-tile: MR rows of A x NR columns of B. Blocks: KC of K, MC rows, NC columns (multiples
// of MR / NR) sized for the L1 (one B micro-panel) and L2 (the A and B blocks).
constexpr std::int64_t MR = 6;
constexpr std::int64_t NR = BPacker::kPanel;
constexpr std::int64_t KC = 256;
constexpr std::int64_t MC = 72;
constexpr std::int64_t NC = 256;

// Below this many multiply-adds a product runs as one tile on the calling thread.
constexpr std::int64_t kMinParallelMacs = std::int64_t{1} << 17;
constexpr std::int64_t kTargetTiles = 8;

// How a micro-tile's sum is stored: the first K block overwrites (beta 0), accumulates (beta 1)
// or scales (other beta) C; later K blocks accumulate.
enum Store : int { kOverwrite, kAccumulate, kScale };

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

// Merges a 6x16 tile of sums into C (the valid mr x nr part). The vector stores of the full-tile
// paths below use the same operations in the same order, so edge tiles round identically.
void store_tile(const float* tmp, float* c, std::int64_t ldc, std::int64_t mr, std::int64_t nr,
                float alpha, float beta, int mode) {
    for (std::int64_t r = 0; r < mr; ++r) {
        float* row = c + r * ldc;
        for (std::int64_t l = 0; l < nr; ++l) {
            float v = tmp[r * NR + l];
            if (alpha != 1.0f) v = v * alpha;
            if (mode == kOverwrite) {
                row[l] = v;
            } else if (mode == kAccumulate) {
                row[l] = row[l] + v;
            } else {
                row[l] = row[l] * beta + v;
            }
        }
    }
}

// Kernel signature: sums over p < kc of a[p * a_step + r] * b[p * NR + l] for the mr x nr tile.
using MicroKernel = void (*)(std::int64_t kc, const float* a, const float* b, float* c,
                             std::int64_t ldc, std::int64_t mr, std::int64_t nr, float alpha,
                             float beta, int mode);

void kernel_portable(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc,
                     std::int64_t mr, std::int64_t nr, float alpha, float beta, int mode) {
    using simd::v4f;
    float tmp[MR * NR];
    for (std::int64_t r0 = 0; r0 < mr; r0 += 2) {
        v4f acc0[4] = {}, acc1[4] = {};
        const float* ap = a + r0;
        const float* bp = b;
        for (std::int64_t p = 0; p < kc; ++p, ap += MR, bp += NR) {
            const v4f a0 = simd::splat4(ap[0]), a1 = simd::splat4(ap[1]);
            for (int j = 0; j < 4; ++j) {
                const v4f bj = simd::load4(bp + 4 * j);
                acc0[j] += a0 * bj;
                acc1[j] += a1 * bj;
            }
        }
        for (int j = 0; j < 4; ++j) {
            simd::store4(tmp + r0 * NR + 4 * j, acc0[j]);
            simd::store4(tmp + (r0 + 1) * NR + 4 * j, acc1[j]);
        }
    }
    store_tile(tmp, c, ldc, mr, nr, alpha, beta, mode);
}

// One row of A (a_step apart in the packed panel) against a B micro-panel.
void kernel1_portable(std::int64_t kc, const float* a, const float* b, float* c, std::int64_t ldc,
                      std::int64_t mr, std::int64_t nr, float alpha, float beta, int mode) {
    using simd::v4f;
    v4f acc[4] = {};
    for (std::int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
        const v4f av = simd::splat4(a[0]);
        for (int j = 0; j < 4; ++j) acc[j] += av * simd::load4(b + 4 * j);
    }
    float tmp[MR * NR];
    for (int j = 0; j < 4; ++j) simd::store4(tmp + 4 * j, acc[j]);
    store_tile(tmp, c, ldc, 1, nr, alpha, beta, mode);
}

// Full 6x16 tile with B rows taken from b + off[p] (gemm_shifted_b).
using OffsetKernel = void (*)(std::int64_t kc, const float* a, const float* b,
                              const std::int64_t* off, float* c, std::int64_t ldc, int mode);

void offset_kernel_portable(std::int64_t kc, const float* a, const float* b,
                            const std::int64_t* off, float* c, std::int64_t ldc, int mode) {
    using simd::v4f;
    for (std::int64_t r0 = 0; r0 < MR; r0 += 2) {
        v4f acc0[4] = {}, acc1[4] = {};
        const float* ap = a + r0;
        for (std::int64_t p = 0; p < kc; ++p, ap += MR) {
            const float* bp = b + off[p];
            const v4f a0 = simd::splat4(ap[0]), a1 = simd::splat4(ap[1]);
            for (int j = 0; j < 4; ++j) {
                const v4f bj = simd::load4(bp + 4 * j);
                acc0[j] += a0 * bj;
                acc1[j] += a1 * bj;
            }
        }
        for (int j = 0; j < 4; ++j) {
            float* c0 = c + r0 * ldc + 4 * j;
            float* c1 = c0 + ldc;
            if (mode == kAccumulate) {
                acc0[j] += simd::load4(c0);
                acc1[j] += simd::load4(c1);
            }
            simd::store4(c0, acc0[j]);
            simd::store4(c1, acc1[j]);
        }
    }
}

#ifdef AQUANT_GEMM_X86
__attribute__((target("avx2,fma"))) inline void store_row_avx2(float* row, __m256 v, float alpha,
                                                                 float beta, int mode) {
    if (alpha != 1.0f) v = _mm256_mul_ps(v, _mm256_set1_ps(alpha));
    if (mode == kOverwrite) {
        _mm256_storeu_ps(row, v);
    } else if (mode == kAccumulate) {
        _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), v));
    } else {
        _mm256_storeu_ps(row, _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(row),
                                                          _mm256_set1_ps(beta)),
                                            v));
    }
}

// Accumulators of R rows (1..MR) in named registers (an array of __m256 indexed in the loop gets
// spilled by GCC): row i adds a[i] * b0 to c<i>0 and a[i] * b1 to c<i>1.
#define AQUANT_GEMM_ROW(i)                                             \
    if constexpr (R > i) {                                             \
        const __m256 av = _mm256_broadcast_ss(a + i);                  \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                    \
        if constexpr (!kHalf) c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1); \
    }

// R rows (1..MR) of a micro-tile, 16 columns, or 8 when kHalf (nr <= 8). Every element gets the
// same FMA chain whatever the variant, so results do not depend on which one computed it; the
// narrow variants just skip the rows and columns past the matrix edge.
template <int R, bool kHalf>
__attribute__((target("avx2,fma"))) void kernel_rows_avx2(std::int64_t kc, const float* a,
                                                            const float* b, float* c,
                                                            std::int64_t ldc, std::int64_t mr,
                                                            std::int64_t nr, float alpha,
                                                            float beta, int mode) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (std::int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
        const __m256 b0 = _mm256_loadu_ps(b);
        const __m256 b1 = kHalf ? b0 : _mm256_loadu_ps(b + 8);
        AQUANT_GEMM_ROW(0)
        AQUANT_GEMM_ROW(1)
        AQUANT_GEMM_ROW(2)
        AQUANT_GEMM_ROW(3)
        AQUANT_GEMM_ROW(4)
        AQUANT_GEMM_ROW(5)
    }
    const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (mr == R && nr == (kHalf ? 8 : NR)) {
        for (int r = 0; r < R; ++r) {
            store_row_avx2(c + r * ldc, acc[2 * r], alpha, beta, mode);
            if (!kHalf) store_row_avx2(c + r * ldc + 8, acc[2 * r + 1], alpha, beta, mode);
        }
        return;
    }
    alignas(32) float tmp[MR * NR];
    for (int i = 0; i < 12; ++i) _mm256_store_ps(tmp + 8 * i, acc[i]);
    store_tile(tmp, c, ldc, mr, nr, alpha, beta, mode);
}

// R rows (1..MR) of a 16-column tile with B rows at b + off[p] (gemm_shifted_b).
template <int R>
__attribute__((target("avx2,fma"))) void offset_kernel_rows_avx2(std::int64_t kc, const float* a,
                                                                   const float* b,
                                                                   const std::int64_t* off,
                                                                   float* c, std::int64_t ldc,
                                                                   int mode) {
    constexpr bool kHalf = false;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (std::int64_t p = 0; p < kc; ++p, a += MR) {
        const float* bp = b + off[p];
        const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
        AQUANT_GEMM_ROW(0)
        AQUANT_GEMM_ROW(1)
        AQUANT_GEMM_ROW(2)
        AQUANT_GEMM_ROW(3)
        AQUANT_GEMM_ROW(4)
        AQUANT_GEMM_ROW(5)
    }
    const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    for (int r = 0; r < R; ++r) {
        store_row_avx2(c + r * ldc, acc[2 * r], 1.0f, 1.0f, mode);
        store_row_avx2(c + r * ldc + 8, acc[2 * r + 1], 1.0f, 1.0f, mode);
    }
}

#undef AQUANT_GEMM_ROW

bool cpu_has_avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
bool cpu_has_avx2_fma() { return false; }
#endif

struct Kernels {
    MicroKernel tile[MR][2];   // [rows - 1][at most 8 columns]
    OffsetKernel offsets[MR];  // [rows - 1]; may write all MR rows (C has them, padded)
    const char* name;
};

constexpr Kernels kPortableKernels{
    {{kernel1_portable, kernel1_portable},
     {kernel_portable, kernel_portable},
     {kernel_portable, kernel_portable},
     {kernel_portable, kernel_portable},
     {kernel_portable, kernel_portable},
     {kernel_portable, kernel_portable}},
    {offset_kernel_portable, offset_kernel_portable, offset_kernel_portable,
     offset_kernel_portable, offset_kernel_portable, offset_kernel_portable},
    "portable"};

Kernels best_kernels() {
#ifdef AQUANT_GEMM_X86
    if (cpu_has_avx2_fma()) {
        return {{{kernel_rows_avx2<1, false>, kernel_rows_avx2<1, true>},
                 {kernel_rows_avx2<2, false>, kernel_rows_avx2<2, true>},
                 {kernel_rows_avx2<3, false>, kernel_rows_avx2<3, true>},
                 {kernel_rows_avx2<4, false>, kernel_rows_avx2<4, true>},
                 {kernel_rows_avx2<5, false>, kernel_rows_avx2<5, true>},
                 {kernel_rows_avx2<6, false>, kernel_rows_avx2<6, true>}},
                {offset_kernel_rows_avx2<1>, offset_kernel_rows_avx2<2>,
                 offset_kernel_rows_avx2<3>, offset_kernel_rows_avx2<4>,
                 offset_kernel_rows_avx2<5>, offset_kernel_rows_avx2<6>},
                "avx2_fma"};
    }
#endif
    return kPortableKernels;
}

std::atomic<const Kernels*>& kernels_slot() {
    static const Kernels best = best_kernels();
    static std::atomic<const Kernels*> slot{&best};
    return slot;
}

// Packs rows [i0, i0 + mc) x K columns [p0, p0 + kc) of op(A) (m rows in all) into MR-row
// panels: dst[(panel * kc + p) * MR + r]; rows past m are zero.
void pack_a(const MatrixRef& a, std::int64_t m, std::int64_t i0, std::int64_t mc, std::int64_t p0,
            std::int64_t kc, float* dst) {
    for (std::int64_t panel = 0; panel * MR < mc; ++panel, dst += kc * MR) {
        const std::int64_t r0 = i0 + panel * MR;
        const std::int64_t rows = std::max<std::int64_t>(0, std::min({MR, m - r0, i0 + mc - r0}));
        if (rows < MR) std::fill(dst, dst + kc * MR, 0.0f);
        if (!a.trans && rows == MR) {
            // Six row streams read in step, the panel written in order.
            const float* src[MR];
            for (std::int64_t r = 0; r < MR; ++r) src[r] = a.data + (r0 + r) * a.ld + p0;
            for (std::int64_t p = 0; p < kc; ++p) {
                for (std::int64_t r = 0; r < MR; ++r) dst[p * MR + r] = src[r][p];
            }
        } else if (!a.trans) {
            for (std::int64_t r = 0; r < rows; ++r) {
                const float* src = a.data + (r0 + r) * a.ld + p0;
                for (std::int64_t p = 0; p < kc; ++p) dst[p * MR + r] = src[p];
            }
        } else {
            for (std::int64_t p = 0; p < kc; ++p) {
                const float* src = a.data + (p0 + p) * a.ld + r0;
                for (std::int64_t r = 0; r < rows; ++r) dst[p * MR + r] = src[r];
            }
        }
    }
}

// Packs K rows [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) (n columns in all) into NR-column
// panels: dst[(panel * kc + p) * NR + l]; columns past n are zero.
void pack_b(const MatrixRef& b, std::int64_t n, std::int64_t p0, std::int64_t kc, std::int64_t j0,
            std::int64_t nc, float* dst) {
    for (std::int64_t panel = 0; panel * NR < nc; ++panel, dst += kc * NR) {
        const std::int64_t c0 = j0 + panel * NR;
        const std::int64_t cols = std::max<std::int64_t>(0, std::min({NR, n - c0, j0 + nc - c0}));
        if (!b.trans) {
            for (std::int64_t p = 0; p < kc; ++p) {
                const float* src = b.data + (p0 + p) * b.ld + c0;
                float* d = dst + p * NR;
                for (std::int64_t l = 0; l < cols; ++l) d[l] = src[l];
                for (std::int64_t l = cols; l < NR; ++l) d[l] = 0.0f;
            }
        } else {
            if (cols < NR) std::fill(dst, dst + kc * NR, 0.0f);
            for (std::int64_t l = 0; l < cols; ++l) {
                const float* src = b.data + (c0 + l) * b.ld + p0;
                for (std::int64_t p = 0; p < kc; ++p) dst[p * NR + l] = src[p];
            }
        }
    }
}

struct Problem {
    std::int64_t m, n, k;
    const OperandA* a;
    const OperandB* b;
    float* c;
    std::int64_t ldc;
    float alpha, beta;
    const Kernels* kern;
    const GemmEpilogue* epilogue;
};

float* gemm_buffer(std::size_t n, int slot) {
    thread_local std::vector<float> bufs[2];
    if (bufs[slot].size() < n) bufs[slot].resize(n);
    return bufs[slot].data();
}

// C rows [i0, i1) x columns [j0, j1) on the calling thread. i0 is a multiple of MR and j0 of NR
// whenever the operand on that side is prepacked.
void run_range(const Problem& pr, std::int64_t i0, std::int64_t i1, std::int64_t j0,
               std::int64_t j1) {
    const std::int64_t mp = round_up(pr.m, MR), np = round_up(pr.n, NR);
    for (std::int64_t jc = j0; jc < j1; jc += NC) {
        const std::int64_t nc = std::min(NC, j1 - jc);
        for (std::int64_t pc = 0; pc < pr.k; pc += KC) {
            const std::int64_t kc = std::min(KC, pr.k - pc);
            const float* bp;
            if (pr.b->packed) {
                bp = pr.b->packed->data() + pc * np + (jc / NR) * kc * NR;
            } else {
                float* buf = gemm_buffer(static_cast<std::size_t>(round_up(nc, NR) * kc), 0);
                if (pr.b->packer) {
                    pr.b->packer->pack(pc, kc, jc, nc, buf);
                } else {
                    pack_b(pr.b->matrix, pr.n, pc, kc, jc, nc, buf);
                }
                bp = buf;
            }
            const int mode = pc > 0 || pr.beta == 1.0f ? kAccumulate
                             : pr.beta == 0.0f         ? kOverwrite
                                                       : kScale;
            const GemmEpilogue* ep = pc + kc >= pr.k ? pr.epilogue : nullptr;
            for (std::int64_t ic = i0; ic < i1; ic += MC) {
                const std::int64_t mc = std::min(MC, i1 - ic);
                const float* ap;
                if (pr.a->packed) {
                    ap = pr.a->packed->data() + pc * mp + (ic / MR) * kc * MR;
                } else {
                    float* buf = gemm_buffer(static_cast<std::size_t>(round_up(mc, MR) * kc), 1);
                    pack_a(pr.a->matrix, pr.m, ic, mc, pc, kc, buf);
                    ap = buf;
                }
                // Row panels outer: the finished 6-row strip across the block's columns goes to
                // the epilogue at once, and C is written as few long row runs (a column-panel
                // outer order writes 64 bytes to each of up to 72 rows in turn, which stalls on
                // stores when C is not in cache).
                for (std::int64_t ir = 0; ir < mc; ir += MR) {
                    const std::int64_t mr = std::min(MR, mc - ir);
                    for (std::int64_t jr = 0; jr < nc; jr += NR) {
                        const std::int64_t nr = std::min(NR, nc - jr);
                        const float* bpanel = bp + (jr / NR) * kc * NR;
                        float* ct = pr.c + (ic + ir) * pr.ldc + jc + jr;
                        const MicroKernel kern = pr.kern->tile[mr - 1][nr <= 8 ? 1 : 0];
                        kern(kc, ap + (ir / MR) * kc * MR, bpanel, ct, pr.ldc, mr, nr, pr.alpha,
                             pr.beta, mode);
                    }
                    if (ep) {  // the mr x nc strip just finished, still in L1
                        ep->apply(ic + ir, ic + ir + mr, jc, jc + nc,
                                  pr.c + (ic + ir) * pr.ldc + jc, pr.ldc);
                    }
                }
            }
        }
    }
}

struct Tiling {
    std::int64_t mb, nb, tiles_m, tiles_n;
};

// Tile rows are multiples of MR and columns of NR (prepacked operands are addressed by panel).
// The per-element summation order does not depend on the tiling (K blocks are fixed), so it
// may depend on the thread count: one tile (no repacking) when the product runs serially.
Tiling choose_tiling(std::int64_t m, std::int64_t n, std::int64_t k, bool serial) {
    Tiling t{m, n, 1, 1};
    if (serial || m * n * k < kMinParallelMacs) return t;
    t.nb = std::clamp<std::int64_t>(round_up(ceil_div(n, kTargetTiles), NR), 2 * NR, 32 * NR);
    t.nb = std::min(t.nb, round_up(n, NR));
    t.tiles_n = ceil_div(n, t.nb);
    if (t.tiles_n < kTargetTiles && m >= 8 * MR) {
        const std::int64_t want_m = ceil_div(kTargetTiles, t.tiles_n);
        t.mb = std::clamp<std::int64_t>(round_up(ceil_div(m, want_m), 8 * MR), 8 * MR,
                                        round_up(m, MR));
        t.tiles_m = ceil_div(m, t.mb);
    }
    return t;
}

void scale_c(float* c, std::int64_t m, std::int64_t n, std::int64_t ldc, float beta) {
    for (std::int64_t i = 0; i < m; ++i) {
        float* row = c + i * ldc;
        for (std::int64_t j = 0; j < n; ++j) row[j] = beta == 0.0f ? 0.0f : row[j] * beta;
    }
}

}  // namespace

PackedA::PackedA(std::int64_t m, std::int64_t k, MatrixRef a)
    : m_(m), k_(k), buf_(static_cast<std::size_t>(round_up(m, MR) * k)) {
    const std::int64_t mp = round_up(m, MR);
    for (std::int64_t pc = 0; pc < k; pc += KC) {
        pack_a(a, m, 0, mp, pc, std::min(KC, k - pc), buf_.data() + pc * mp);
    }
}

PackedB::PackedB(std::int64_t k, std::int64_t n, MatrixRef b)
    : k_(k), n_(n), buf_(static_cast<std::size_t>(round_up(n, NR) * k)) {
    const std::int64_t np = round_up(n, NR);
    for (std::int64_t pc = 0; pc < k; pc += KC) {
        pack_b(b, n, pc, std::min(KC, k - pc), 0, np, buf_.data() + pc * np);
    }
}

void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const OperandA& a, const OperandB& b,
          float* c, std::int64_t ldc, float alpha, float beta, bool parallel,
          const GemmEpilogue* epilogue) {
    if (m <= 0 || n <= 0) return;
    if (k == 0) {
        scale_c(c, m, n, ldc, beta);
        if (epilogue) epilogue->apply(0, m, 0, n, c, ldc);
        return;
    }
    // A single output column with plain operands runs as its transpose (one row), which the
    // one-row kernel handles without wasting most of a 16-wide panel.
    if (n == 1 && m > 1 && ldc == 1 && !a.packed && !b.packed && !b.packer && !epilogue) {
        const OperandA at{nullptr, MatrixRef{b.matrix.data, b.matrix.ld, !b.matrix.trans}};
        OperandB bt;
        bt.matrix = MatrixRef{a.matrix.data, a.matrix.ld, !a.matrix.trans};
        gemm(1, m, k, at, bt, c, m, alpha, beta, parallel);
        return;
    }
    const Problem pr{m, n, k, &a, &b, c, ldc, alpha, beta, kernels_slot().load(), epilogue};
    const Tiling t =
        choose_tiling(m, n, k, !parallel || num_threads() == 1 || in_parallel_region());
    const std::int64_t tiles = t.tiles_m * t.tiles_n;
    auto body = [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t r0 = (i / t.tiles_n) * t.mb, c0 = (i % t.tiles_n) * t.nb;
            run_range(pr, r0, std::min(m, r0 + t.mb), c0, std::min(n, c0 + t.nb));
        }
    };
    if (tiles == 1 || !parallel) {
        body(0, tiles);
    } else {
        parallel_for(tiles, 1, body);
    }
}

namespace {
void gemm_args(const GemmArgs& g, bool parallel) {
    OperandA a;
    a.matrix = MatrixRef{g.a, g.lda, g.trans_a};
    OperandB b;
    b.matrix = MatrixRef{g.b, g.ldb, g.trans_b};
    gemm(g.m, g.n, g.k, a, b, g.c, g.ldc, g.alpha, g.beta, parallel);
}
}  // namespace

void gemm_f32(const GemmArgs& args) { gemm_args(args, true); }

void gemm_f32_serial(const GemmArgs& args) { gemm_args(args, false); }

std::int64_t gemm_rows_padded(std::int64_t m) { return round_up(m, MR); }

void gemm_shifted_b(std::int64_t m, std::int64_t n, std::int64_t k, const PackedA& a,
                    const float* b, const std::int64_t* b_offsets, float* c, std::int64_t ldc) {
    const Kernels* kern = kernels_slot().load();
    const std::int64_t mp = round_up(m, MR);
    for (std::int64_t pc = 0; pc < k; pc += KC) {
        const std::int64_t kc = std::min(KC, k - pc);
        const int mode = pc == 0 ? kOverwrite : kAccumulate;
        const float* ablock = a.data() + pc * mp;
        // Tiles outer, row panels inner: a tile's B rows stay in L1 across the panels.
        for (std::int64_t jr = 0; jr < n; jr += NR) {
            for (std::int64_t ir = 0; ir < mp; ir += MR) {
                const std::int64_t rows = std::min(MR, m - ir);
                kern->offsets[rows - 1](kc, ablock + ir * kc, b + jr, b_offsets + pc,
                                        c + ir * ldc + jr, ldc, mode);
            }
        }
    }
}

const char* set_gemm_kernel(GemmKernel k) {
    static const Kernels best = best_kernels();
    kernels_slot().store(k == GemmKernel::kPortable ? &kPortableKernels : &best);
    return kernels_slot().load()->name;
}

}  // namespace aquant::engine
