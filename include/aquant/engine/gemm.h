// Single-precision GEMM on row-major buffers, the workhorse of Conv, ConvTranspose, Gemm, MatMul,
// LSTM and GRU: C = alpha * op(A) * op(B) + beta * C.
//
// Blocked and packed (panels of 6 rows of A and 16 columns of B, K in blocks of 256) with a
// micro-kernel chosen once per process: AVX2+FMA when the CPU has it, else a portable 4-wide
// vector kernel. Every element of C is accumulated in the same order whatever the tiling, and the
// output is split over threads in tiles that depend only on (m, n, k), so results are
// bit-identical for any thread count (they differ between the two micro-kernels, FMA or not, and
// from ONNX Runtime: within float rounding of the exact product).
//
// Operands can be packed ahead of time (PackedA, PackedB: constant weights packed once at kernel
// build time) or produced on the fly by a BPacker (Conv packs its im2col panels straight from the
// image, with no im2col buffer).
#pragma once

#include <cstdint>
#include <vector>

namespace aquant::engine {

/// A row-major matrix view: element (r, c) of op(M) is data[r * ld + c], or data[c * ld + r]
/// when `trans` is set (the stored matrix is op(M)^T).
struct MatrixRef {
    const float* data = nullptr;
    std::int64_t ld = 0;
    bool trans = false;
};

/// op(A) (m x k) in the packed layout of the GEMM.
class PackedA {
public:
    PackedA() = default;
    PackedA(std::int64_t m, std::int64_t k, MatrixRef a);
    std::int64_t m() const { return m_; }
    std::int64_t k() const { return k_; }
    const float* data() const { return buf_.data(); }

private:
    std::int64_t m_ = 0, k_ = 0;
    std::vector<float> buf_;
};

/// op(B) (k x n) in the packed layout of the GEMM.
class PackedB {
public:
    PackedB() = default;
    PackedB(std::int64_t k, std::int64_t n, MatrixRef b);
    std::int64_t k() const { return k_; }
    std::int64_t n() const { return n_; }
    const float* data() const { return buf_.data(); }

private:
    std::int64_t k_ = 0, n_ = 0;
    std::vector<float> buf_;
};

/// B produced on demand (e.g. im2col of an image).
class BPacker {
public:
    /// Panel width: pack() writes column groups of this many floats per row of B.
    static constexpr std::int64_t kPanel = 16;
    virtual ~BPacker() = default;
    /// Writes rows [k0, k0 + kc) x columns [j0, j0 + nc) of B as ceil(nc / kPanel) panels; panel
    /// p holds kc rows of kPanel floats (row r, lane l = column j0 + p * kPanel + l) at
    /// dst + p * kc * kPanel; lanes past the last column are zero.
    virtual void pack(std::int64_t k0, std::int64_t kc, std::int64_t j0, std::int64_t nc,
                      float* dst) const = 0;
};

/// One side of a product: exactly one of packed / packer / matrix is used (first non-null).
struct OperandA {
    const PackedA* packed = nullptr;
    MatrixRef matrix;
};

struct OperandB {
    const PackedB* packed = nullptr;
    const BPacker* packer = nullptr;
    MatrixRef matrix;
};

/// Work on finished parts of C while they are in cache (Conv: bias, residual, activation, and
/// the copy to the output's layout). apply() gets every element of C once, in strips of at
/// most 6 rows (one micro-panel) and 256 columns, right after their last K block: rows
/// [r0, r1) x columns [c0, c1) of C, tile = &C(r0, c0). Calls for different strips may run on
/// different threads at once.
class GemmEpilogue {
public:
    virtual ~GemmEpilogue() = default;
    virtual void apply(std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
                       float* tile, std::int64_t ldc) const = 0;
};

/// C (m x n, row stride ldc) = alpha * op(A) * op(B) + beta * C. beta 0: C is overwritten (NaN
/// in it ignored). C must not alias A or B. `parallel`: split over aquant::parallel_for (serial
/// when already inside a parallel region).
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const OperandA& a, const OperandB& b,
          float* c, std::int64_t ldc, float alpha = 1.0f, float beta = 0.0f,
          bool parallel = true, const GemmEpilogue* epilogue = nullptr);

/// C = A * B where B(k, j) = b[b_offsets[k] + j]: each row of B is a window of one buffer
/// (a stride-1 convolution over a flat, padded image). n must be a multiple of BPacker::kPanel
/// and C must have round_up(m, 6) writable rows of at least n floats (whole micro-tiles are
/// stored); b must be readable up to max(b_offsets) + n. Runs on the calling thread.
void gemm_shifted_b(std::int64_t m, std::int64_t n, std::int64_t k, const PackedA& a,
                    const float* b, const std::int64_t* b_offsets, float* c, std::int64_t ldc);

/// Rows of C gemm_shifted_b may write for m rows of A.
std::int64_t gemm_rows_padded(std::int64_t m);

/// Plain-matrix form of gemm().
struct GemmArgs {
    std::int64_t m = 0;  // rows of op(A) and C
    std::int64_t n = 0;  // columns of op(B) and C
    std::int64_t k = 0;  // columns of op(A), rows of op(B)
    const float* a = nullptr;
    std::int64_t lda = 0;  // row stride of A as stored (k, or m when trans_a)
    bool trans_a = false;  // A stored as k x m
    const float* b = nullptr;
    std::int64_t ldb = 0;  // row stride of B as stored (n, or k when trans_b)
    bool trans_b = false;  // B stored as n x k
    float* c = nullptr;
    std::int64_t ldc = 0;
    float alpha = 1.0f;
    float beta = 0.0f;
};

void gemm_f32(const GemmArgs& args);
/// Same result as gemm_f32, always on the calling thread.
void gemm_f32_serial(const GemmArgs& args);

/// Micro-kernel selection: the best the CPU supports (default), or the portable one (tests of
/// the fallback). Returns the name of the kernel now in use ("avx2_fma" or "portable").
enum class GemmKernel { kBest, kPortable };
const char* set_gemm_kernel(GemmKernel k);

}  // namespace aquant::engine
