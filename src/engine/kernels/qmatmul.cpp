#include "qmatmul.h"

#include <algorithm>

#include "aquant/core/parallel.h"

namespace aquant::engine::qmatmul {
namespace {

// Rows and panels per work item: 16 row tiles (64 rows) x 8 panels (128 columns); the item's
// packed A (64 * depth int16) and the current panel stay in cache.
constexpr std::int64_t kTilesPerItem = 16;
constexpr std::int64_t kPanelsPerItem = 8;

}  // namespace

template <typename B>
PackedB pack_b(const B* b, std::int64_t depth, std::int64_t cols, bool trans_b,
               const std::vector<std::int32_t>& zero_point) {
    PackedB p;
    p.depth = depth;
    p.cols = cols;
    const bool per_col = zero_point.size() > 1;
    const std::int64_t depth_stride = trans_b ? 1 : cols, col_stride = trans_b ? depth : 1;
    for (std::int64_t k = 0; k < depth; ++k) {
        for (std::int64_t c = 0; c < cols; ++c) {
            const std::int64_t v = static_cast<std::int64_t>(b[k * depth_stride + c * col_stride]) -
                                   zero_point[per_col ? c : 0];
            p.max_abs = std::max(p.max_abs, v < 0 ? -v : v);
        }
    }
    p.data.resize(qgemm::packed_cols_size(cols, depth));
    qgemm::pack_cols(b, depth_stride, col_stride, depth, cols, zero_point.data(), per_col,
                     p.data.data());
    return p;
}

template <typename A, typename Y>
void run(const A* a, std::int64_t rows, std::int64_t lda, const std::int32_t* a_zero_point,
         std::int64_t a_zp_period, const PackedB& b, const qgemm::OutputStage& stage, Y* y,
         std::int64_t ldy) {
    if (rows == 0 || b.cols == 0) return;
    const std::int64_t kp = qgemm::depth_pairs(b.depth);
    const std::int64_t tiles = qgemm::row_tiles(rows), npanels = qgemm::panels(b.cols);
    const std::int64_t row_items = (tiles + kTilesPerItem - 1) / kTilesPerItem;
    const std::int64_t col_items = (npanels + kPanelsPerItem - 1) / kPanelsPerItem;
    // A is packed once per run, in parallel by row tile.
    std::vector<std::int32_t> packed_a(qgemm::packed_rows_size(rows, b.depth));
    std::vector<std::int32_t> row_zp;
    if (a_zp_period > 1) {
        row_zp.resize(static_cast<std::size_t>(rows));
        for (std::int64_t r = 0; r < rows; ++r) {
            row_zp[static_cast<std::size_t>(r)] = a_zero_point[r % a_zp_period];
        }
    }
    parallel_for(tiles, 16, [&](std::int64_t begin, std::int64_t end) {
        const std::int64_t r0 = begin * qgemm::kRowTile;
        const std::int64_t r1 = std::min(rows, end * qgemm::kRowTile);
        const std::int32_t* zp = row_zp.empty() ? a_zero_point : row_zp.data() + r0;
        qgemm::pack_rows(a + r0 * lda, lda, 1, r1 - r0, b.depth, zp, !row_zp.empty(),
                         packed_a.data() + begin * kp * qgemm::kRowTile);
    });
    parallel_for(row_items * col_items, 1, [&](std::int64_t begin, std::int64_t end) {
        alignas(64) std::int32_t tile[qgemm::kRowTile * qgemm::kPanel];
        for (std::int64_t item = begin; item < end; ++item) {
            const std::int64_t ri = item / col_items, ci = item % col_items;
            const std::int64_t t0 = ri * kTilesPerItem, t1 = std::min(tiles, t0 + kTilesPerItem);
            const std::int64_t q0 = ci * kPanelsPerItem;
            const std::int64_t q1 = std::min(npanels, q0 + kPanelsPerItem);
            for (std::int64_t q = q0; q < q1; ++q) {
                const std::int64_t c0 = q * qgemm::kPanel;
                const std::int64_t nc = std::min(qgemm::kPanel, b.cols - c0);
                const std::int16_t* panel = b.data.data() + q * kp * qgemm::kPanel * 2;
                for (std::int64_t t = t0; t < t1; ++t) {
                    qgemm::micro_kernel(packed_a.data() + t * kp * qgemm::kRowTile, panel, kp,
                                        tile);
                    const std::int64_t r0 = t * qgemm::kRowTile;
                    const std::int64_t nr = std::min(qgemm::kRowTile, rows - r0);
                    std::int64_t row_offset[qgemm::kRowTile];
                    for (std::int64_t i = 0; i < nr; ++i) row_offset[i] = (r0 + i) * ldy;
                    qgemm::store_tile<Y, false>(tile, nr, nc, row_offset, nullptr, c0, stage,
                                                y + c0);
                }
            }
        }
    });
}

std::int64_t Shape::broadcast_index(const Dims& in, std::int64_t i) const {
    std::int64_t idx = 0, stride = 1;
    for (std::size_t d = batch.size(); d-- > 0;) {
        const std::int64_t coord = i % batch[d];
        i /= batch[d];
        if (in[d] != 1) idx += coord * stride;
        stride *= in[d];
    }
    return idx;
}

std::string resolve_shape(const Dims& a_in, const Dims& b_in, Shape* out) {
    if (a_in.empty() || b_in.empty()) {
        return "inputs must have rank >= 1, got " + dims_str(a_in) + " and " + dims_str(b_in);
    }
    Dims a = a_in, b = b_in;
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    Shape s;
    s.m = a[a.size() - 2];
    s.k = a.back();
    s.n = b.back();
    if (b[b.size() - 2] != s.k) {
        return "inner dimensions differ: a " + dims_str(a_in) + ", b " + dims_str(b_in);
    }
    const std::size_t r = std::max(a.size(), b.size()) - 2;
    s.a_batch.assign(r, 1);
    s.b_batch.assign(r, 1);
    s.batch.assign(r, 1);
    for (std::size_t i = 0; i < r; ++i) {
        if (i + a.size() - 2 >= r) s.a_batch[i] = a[i + a.size() - 2 - r];
        if (i + b.size() - 2 >= r) s.b_batch[i] = b[i + b.size() - 2 - r];
        const std::int64_t x = s.a_batch[i], y = s.b_batch[i];
        if (x != y && x != 1 && y != 1) {
            return "batch dimensions do not broadcast: a " + dims_str(a_in) + ", b " +
                   dims_str(b_in);
        }
        s.batch[i] = x == 1 ? y : x;
    }
    s.out_dims = s.batch;
    if (a_in.size() > 1) s.out_dims.push_back(s.m);
    if (b_in.size() > 1) s.out_dims.push_back(s.n);
    *out = s;
    return "";
}

template PackedB pack_b<std::uint8_t>(const std::uint8_t*, std::int64_t, std::int64_t, bool,
                                      const std::vector<std::int32_t>&);
template PackedB pack_b<std::int8_t>(const std::int8_t*, std::int64_t, std::int64_t, bool,
                                     const std::vector<std::int32_t>&);

#define AQUANT_QMATMUL_RUN(A, Y)                                                                \
    template void run<A, Y>(const A*, std::int64_t, std::int64_t, const std::int32_t*,          \
                            std::int64_t, const PackedB&, const qgemm::OutputStage&, Y*,        \
                            std::int64_t);
AQUANT_QMATMUL_RUN(std::uint8_t, std::uint8_t)
AQUANT_QMATMUL_RUN(std::uint8_t, std::int8_t)
AQUANT_QMATMUL_RUN(std::uint8_t, std::int32_t)
AQUANT_QMATMUL_RUN(std::int8_t, std::uint8_t)
AQUANT_QMATMUL_RUN(std::int8_t, std::int8_t)
AQUANT_QMATMUL_RUN(std::int8_t, std::int32_t)
#undef AQUANT_QMATMUL_RUN

}  // namespace aquant::engine::qmatmul
