// Numpy (multidirectional) broadcasting. A BroadcastPlan collapses the output dims into runs in
// which every input is either present or broadcast, so a kernel iterates rows of the innermost
// run with a stride of 0 or 1 per input.
#pragma once

#include "aquant/core/parallel.h"
#include "aquant/core/tensor.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace aquant::engine {

/// The broadcast shape of `shapes`, or nullopt when two dims differ and neither is 1.
std::optional<Dims> broadcast_dims(const std::vector<const Dims*>& shapes);

struct BroadcastPlan {
    Dims out_dims;
    std::int64_t numel = 0;
    std::vector<std::int64_t> shape;                 // collapsed output dims, never empty
    std::vector<std::vector<std::int64_t>> strides;  // [input][collapsed dim], 0 = broadcast

    /// False when the shapes do not broadcast.
    bool make(const std::vector<const Dims*>& inputs);

    std::int64_t inner() const { return shape.back(); }

    std::int64_t rows() const { return inner() == 0 ? 0 : numel / inner(); }

    std::int64_t inner_stride(std::size_t input) const { return strides[input].back(); }

    /// Offset of the first element of output row `row` in each input.
    void row_offsets(std::int64_t row, std::int64_t* offsets) const;
};

/// Calls fn(row_begin_out_offset, in_offsets, inner) for each output row, rows split into
/// chunks of about kElementwiseGrain elements (independent of the thread count).
template <std::size_t N, typename Fn>
void for_each_row(const BroadcastPlan& plan, Fn&& fn) {
    const std::int64_t inner = plan.inner();
    const std::int64_t rows = plan.rows();
    const std::int64_t grain =
        std::max<std::int64_t>(1, (std::int64_t{1} << 14) / std::max<std::int64_t>(inner, 1));
    parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) {
        std::int64_t offs[N > 0 ? N : 1];
        for (std::int64_t r = begin; r < end; ++r) {
            plan.row_offsets(r, offs);
            fn(r * inner, static_cast<const std::int64_t*>(offs), inner);
        }
    });
}

}  // namespace aquant::engine
