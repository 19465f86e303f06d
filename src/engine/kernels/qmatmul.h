// Integer matrix product shared by QLinearMatMul, MatMulInteger and ai.aquant.QLinearGemm:
// Y[r][c] = stage(sum_k (A[r][k] - a_zero_point[r]) * (B[k][c] - b_zero_point[c])), exact int32
// accumulation (qgemm.h), output channel = column (per-column b scale / zero point / bias).
// B is packed once when constant; A is packed per run. Work is split over (row block, column
// block); each output element is computed by the same exact arithmetic whatever the split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "qgemm.h"

namespace aquant::engine::qmatmul {

/// B [depth, cols] (or [cols, depth] when trans_b) minus its zero point, in qgemm panels.
struct PackedB {
    std::int64_t depth = 0, cols = 0;
    std::int64_t max_abs = 0;  // largest |b - b_zero_point|
    std::vector<std::int16_t> data;
};

/// `zero_point`: one value or one per column.
template <typename B>
PackedB pack_b(const B* b, std::int64_t depth, std::int64_t cols, bool trans_b,
               const std::vector<std::int32_t>& zero_point);

/// y[r * ldy + c] for r < rows, c < b.cols; A row r at a + r * lda. `a_zero_point`: one value, or
/// one per row when a_zp_per_row (row index r % a_zp_period, for batched A sharing [M] points).
template <typename A, typename Y>
void run(const A* a, std::int64_t rows, std::int64_t lda, const std::int32_t* a_zero_point,
         std::int64_t a_zp_period, const PackedB& b, const qgemm::OutputStage& stage, Y* y,
         std::int64_t ldy);

/// numpy matmul shapes (1-D promotion, batch broadcasting).
struct Shape {
    std::int64_t m = 0, k = 0, n = 0;
    Dims batch;             // broadcast batch dims
    Dims a_batch, b_batch;  // each input's batch dims, left-padded with 1 to batch's rank
    Dims out_dims;
    std::int64_t batch_count() const { return dims_numel(batch); }
    /// Matrix index into A / B of flat batch index i.
    std::int64_t a_index(std::int64_t i) const { return broadcast_index(a_batch, i); }
    std::int64_t b_index(std::int64_t i) const { return broadcast_index(b_batch, i); }

private:
    std::int64_t broadcast_index(const Dims& in, std::int64_t i) const;
};

/// Error text, or empty.
std::string resolve_shape(const Dims& a, const Dims& b, Shape* out);

}  // namespace aquant::engine::qmatmul
