// Integer GEMM core shared by QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger and the
// fused ai.aquant.QLinearGemm: C[r][c] = sum_k (A[r][k] - za[r]) * (B[k][c] - zb[c]) in int32,
// then an output stage (raw int32, or ONNX Runtime-style requantization to uint8/int8).
//
// Both operands are 8-bit (uint8 or int8; INT4 arrives unpacked to int8). Packing subtracts the
// zero point and widens to int16, so every product and every pair sum of the micro-kernel is
// exact ((-255..255)^2 * 2 fits int32); the int32 accumulation itself is exact as long as
// depth * max|A - za| * max|B - zb| + |bias| < 2^31, which the kernels check (fits_int32()).
// Results are therefore identical for every ISA variant and every thread count.
//
// Layouts (depth padded to an even count with zeros, kp = depth_pairs(depth)):
// - rows operand: row tiles of kRowTile rows (the last padded with zero rows), each tile
//   [kp][kRowTile] int32, one int32 holding the int16 pair (k = 2i low half, k = 2i + 1 high half);
// - column operand: panels of kPanel columns (the last padded with zero columns), each panel
//   [kp][kPanel][2] int16.
// The micro-kernel multiplies one row tile by one panel into a kRowTile x kPanel int32 tile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace aquant::engine::qgemm {

constexpr std::int64_t kRowTile = 4;
constexpr std::int64_t kPanel = 16;

inline std::int64_t depth_pairs(std::int64_t depth) { return (depth + 1) / 2; }
inline std::int64_t row_tiles(std::int64_t rows) { return (rows + kRowTile - 1) / kRowTile; }
inline std::int64_t panels(std::int64_t cols) { return (cols + kPanel - 1) / kPanel; }

/// int32 elements of a packed rows operand / int16 elements of a packed column operand.
inline std::size_t packed_rows_size(std::int64_t rows, std::int64_t depth) {
    return static_cast<std::size_t>(row_tiles(rows) * depth_pairs(depth) * kRowTile);
}

inline std::size_t packed_cols_size(std::int64_t cols, std::int64_t depth) {
    return static_cast<std::size_t>(panels(cols) * depth_pairs(depth) * kPanel * 2);
}

/// Packs rows [0, rows) of A: element (r, k) at src[r * row_stride + k * depth_stride], minus
/// zero_point[zp_per_row ? r : 0].
template <typename T>
void pack_rows(const T* src, std::int64_t row_stride, std::int64_t depth_stride, std::int64_t rows,
               std::int64_t depth, const std::int32_t* zero_point, bool zp_per_row,
               std::int32_t* out) {
    const std::int64_t kp = depth_pairs(depth);
    for (std::int64_t t = 0; t < row_tiles(rows); ++t) {
        std::int32_t* tile = out + t * kp * kRowTile;
        for (std::int64_t i = 0; i < kRowTile; ++i) {
            const std::int64_t r = t * kRowTile + i;
            if (r >= rows) {
                for (std::int64_t kk = 0; kk < kp; ++kk) tile[kk * kRowTile + i] = 0;
                continue;
            }
            const std::int32_t z = zero_point[zp_per_row ? r : 0];
            const T* row = src + r * row_stride;
            for (std::int64_t kk = 0; kk < kp; ++kk) {
                const std::int64_t k = 2 * kk;
                const auto lo = static_cast<std::uint16_t>(
                    static_cast<std::int16_t>(static_cast<std::int32_t>(row[k * depth_stride]) - z));
                const auto hi = static_cast<std::uint16_t>(
                    k + 1 < depth
                        ? static_cast<std::int16_t>(
                              static_cast<std::int32_t>(row[(k + 1) * depth_stride]) - z)
                        : 0);
                tile[kk * kRowTile + i] = static_cast<std::int32_t>(
                    static_cast<std::uint32_t>(lo) | (static_cast<std::uint32_t>(hi) << 16));
            }
        }
    }
}

/// Packs columns [0, cols) of B: element (k, c) at src[k * depth_stride + c * col_stride], minus
/// zero_point[zp_per_col ? c : 0].
template <typename T>
void pack_cols(const T* src, std::int64_t depth_stride, std::int64_t col_stride,
               std::int64_t depth, std::int64_t cols, const std::int32_t* zero_point,
               bool zp_per_col, std::int16_t* out) {
    const std::int64_t kp = depth_pairs(depth);
    for (std::int64_t p = 0; p < panels(cols); ++p) {
        std::int16_t* panel = out + p * kp * kPanel * 2;
        const std::int64_t c0 = p * kPanel, n = std::min(kPanel, cols - c0);
        for (std::int64_t kk = 0; kk < kp; ++kk) {
            const std::int64_t k = 2 * kk;
            std::int16_t* dst = panel + kk * kPanel * 2;
            const T* s0 = src + k * depth_stride + c0 * col_stride;
            const T* s1 = s0 + depth_stride;
            const bool odd_tail = k + 1 >= depth;
            if (!zp_per_col && col_stride == 1 && !odd_tail) {
                const std::int32_t z = zero_point[0];
                for (std::int64_t j = 0; j < n; ++j) {
                    dst[2 * j] = static_cast<std::int16_t>(s0[j] - z);
                    dst[2 * j + 1] = static_cast<std::int16_t>(s1[j] - z);
                }
            } else {
                for (std::int64_t j = 0; j < n; ++j) {
                    const std::int32_t z = zero_point[zp_per_col ? c0 + j : 0];
                    dst[2 * j] = static_cast<std::int16_t>(s0[j * col_stride] - z);
                    dst[2 * j + 1] = odd_tail ? std::int16_t{0}
                                              : static_cast<std::int16_t>(s1[j * col_stride] - z);
                }
            }
            std::fill(dst + 2 * n, dst + 2 * kPanel, std::int16_t{0});
        }
    }
}

/// Packs columns [0, cols) of B whose row k starts at rows[k] (element (k, c) = rows[k][c]),
/// minus a per-tensor zero point: the im2col-free form used by stride-1 convolutions, whose rows
/// are shifted views of the padded input.
template <typename T>
void pack_cols_gather(const T* const* rows, std::int64_t depth, std::int64_t cols,
                      std::int32_t zero_point, std::int16_t* out) {
    const std::int64_t kp = depth_pairs(depth);
    for (std::int64_t p = 0; p < panels(cols); ++p) {
        std::int16_t* panel = out + p * kp * kPanel * 2;
        const std::int64_t c0 = p * kPanel, n = std::min(kPanel, cols - c0);
        for (std::int64_t kk = 0; kk < kp; ++kk) {
            const std::int64_t k = 2 * kk;
            std::int16_t* dst = panel + kk * kPanel * 2;
            const T* s0 = rows[k] + c0;
            if (k + 1 < depth) {
                const T* s1 = rows[k + 1] + c0;
                for (std::int64_t j = 0; j < n; ++j) {
                    dst[2 * j] = static_cast<std::int16_t>(s0[j] - zero_point);
                    dst[2 * j + 1] = static_cast<std::int16_t>(s1[j] - zero_point);
                }
            } else {
                for (std::int64_t j = 0; j < n; ++j) {
                    dst[2 * j] = static_cast<std::int16_t>(s0[j] - zero_point);
                    dst[2 * j + 1] = 0;
                }
            }
            std::fill(dst + 2 * n, dst + 2 * kPanel, std::int16_t{0});
        }
    }
}

/// out[i * kPanel + j] = sum over the depth of row tile i x panel column j (kRowTile x kPanel).
void micro_kernel(const std::int32_t* row_tile, const std::int16_t* panel, std::int64_t kp,
                  std::int32_t* out);

/// Instruction-set variant of micro_kernel, chosen once at start-up (AVX2 when the CPU has it,
/// else SSE2 on x86-64, else portable C++). Tests may force one; all give identical results.
enum class Isa { kGeneric, kSse2, kAvx2 };
Isa active_isa();
bool isa_supported(Isa isa);
/// Selects `isa` (must be supported) and returns the previous one. Not thread-safe: for tests.
Isa set_isa(Isa isa);
const char* isa_name(Isa isa);

/// What happens to an int32 tile: stored raw (int32 outputs), or requantized as ONNX Runtime's
/// MlasRequantizeOutput does: v = float(acc + bias[ch]) * multiplier[ch], clamped to
/// [q_min - zero_point, q_max - zero_point], rounded half to even, plus zero_point.
struct OutputStage {
    bool requantize = false;
    const std::int32_t* bias = nullptr;  // per channel, or null
    const float* multiplier = nullptr;   // per channel when per_channel, else one value
    bool per_channel = false;
    std::int32_t zero_point = 0;
    float lo = 0.0f, hi = 0.0f;  // q_min - zero_point, q_max - zero_point
};

/// Round half to even of v, |v| <= 2^22, by the float magic-number trick (as MLAS): exact under
/// the default FE_TONEAREST mode.
inline std::int32_t round_half_even_small(float v) {
    constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: the float ulp is 1 above 2^23
    constexpr std::int32_t kMagicBits = 0x4B400000;
    const float t = v + kMagic;
    std::int32_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    return bits - kMagicBits;
}

inline std::int32_t requantize_one(std::int32_t acc, std::int32_t bias, float multiplier,
                                   const OutputStage& s) {
    float v = static_cast<float>(acc + bias) * multiplier;
    v = std::min(std::max(v, s.lo), s.hi);
    return round_half_even_small(v) + s.zero_point;
}

/// Writes rows [0, rows) x columns [0, cols) of a kRowTile x kPanel tile. Element (i, j) goes to
/// dst[row_offset[i] + col_offset[j]] (col_offset null: + j); its channel (bias, multiplier) is
/// ch0 + i when kChannelIsRow, else ch0 + j.
template <typename Dst, bool kChannelIsRow>
void store_tile(const std::int32_t* tile, std::int64_t rows, std::int64_t cols,
                const std::int64_t* row_offset, const std::int64_t* col_offset, std::int64_t ch0,
                const OutputStage& s, Dst* dst) {
    for (std::int64_t i = 0; i < rows; ++i) {
        const std::int32_t* t = tile + i * kPanel;
        Dst* d = dst + row_offset[i];
        if constexpr (std::is_same_v<Dst, std::int32_t>) {
            if (col_offset) {
                for (std::int64_t j = 0; j < cols; ++j) d[col_offset[j]] = t[j];
            } else {
                std::memcpy(d, t, sizeof(std::int32_t) * static_cast<std::size_t>(cols));
            }
        } else if constexpr (kChannelIsRow) {
            const std::int64_t ch = ch0 + i;
            const std::int32_t b = s.bias ? s.bias[ch] : 0;
            const float m = s.multiplier[s.per_channel ? ch : 0];
            if (col_offset) {
                for (std::int64_t j = 0; j < cols; ++j) {
                    d[col_offset[j]] = static_cast<Dst>(requantize_one(t[j], b, m, s));
                }
            } else {
                for (std::int64_t j = 0; j < cols; ++j) {
                    d[j] = static_cast<Dst>(requantize_one(t[j], b, m, s));
                }
            }
        } else {
            for (std::int64_t j = 0; j < cols; ++j) {
                const std::int64_t ch = ch0 + j;
                const std::int32_t b = s.bias ? s.bias[ch] : 0;
                const float m = s.multiplier[s.per_channel ? ch : 0];
                d[col_offset ? col_offset[j] : j] = static_cast<Dst>(requantize_one(t[j], b, m, s));
            }
        }
    }
}

/// True when depth * max_a * max_b + max_bias cannot overflow int32 (max_*: largest magnitude
/// after the zero point is subtracted).
inline bool fits_int32(std::int64_t depth, std::int64_t max_a, std::int64_t max_b,
                       std::int64_t max_bias) {
    const long double bound = static_cast<long double>(depth) * max_a * max_b + max_bias;
    return bound <= 2147483647.0L;
}

}  // namespace aquant::engine::qgemm
