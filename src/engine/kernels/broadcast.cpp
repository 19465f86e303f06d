#include "broadcast.h"

namespace aquant::engine {

std::optional<Dims> broadcast_dims(const std::vector<const Dims*>& shapes) {
    std::size_t rank = 0;
    for (const Dims* d : shapes) {
        rank = std::max(rank, d->size());
    }
    Dims out(rank, 1);
    for (const Dims* d : shapes) {
        const std::size_t pad = rank - d->size();
        for (std::size_t i = 0; i < d->size(); ++i) {
            const std::int64_t v = (*d)[i];
            std::int64_t& o = out[pad + i];
            if (v == o || v == 1) {
                continue;
            }
            if (o == 1) {
                o = v;
            } else {
                return std::nullopt;
            }
        }
    }
    return out;
}

bool BroadcastPlan::make(const std::vector<const Dims*>& inputs) {
    auto dims = broadcast_dims(inputs);
    if (!dims) {
        return false;
    }
    out_dims = *dims;
    numel = dims_numel(out_dims);
    const std::size_t rank = out_dims.size();
    const std::size_t n = inputs.size();

    // Per input: padded dims and contiguous strides.
    std::vector<std::vector<std::int64_t>> in_dims(n), in_strides(n);
    for (std::size_t k = 0; k < n; ++k) {
        in_dims[k].assign(rank - inputs[k]->size(), 1);
        in_dims[k].insert(in_dims[k].end(), inputs[k]->begin(), inputs[k]->end());
        in_strides[k].assign(rank, 0);
        std::int64_t s = 1;
        for (std::size_t d = rank; d-- > 0;) {
            in_strides[k][d] = s;
            s *= in_dims[k][d];
        }
    }

    shape.clear();
    strides.assign(n, {});
    std::vector<bool> prev_present;
    for (std::size_t d = 0; d < rank; ++d) {
        if (out_dims[d] == 1) {
            continue;
        }
        std::vector<bool> present(n);
        for (std::size_t k = 0; k < n; ++k) {
            present[k] = in_dims[k][d] != 1;
        }
        if (!shape.empty() && present == prev_present) {
            // Merge with the previous run: dims are contiguous in every present input.
            shape.back() *= out_dims[d];
            for (std::size_t k = 0; k < n; ++k) {
                strides[k].back() = present[k] ? in_strides[k][d] : 0;
            }
        } else {
            shape.push_back(out_dims[d]);
            for (std::size_t k = 0; k < n; ++k) {
                strides[k].push_back(present[k] ? in_strides[k][d] : 0);
            }
        }
        prev_present = std::move(present);
    }
    if (shape.empty()) {
        shape.push_back(1);
        for (auto& s : strides) {
            s.push_back(0);
        }
    }
    return true;
}

void BroadcastPlan::row_offsets(std::int64_t row, std::int64_t* offsets) const {
    const std::size_t n = strides.size();
    for (std::size_t k = 0; k < n; ++k) {
        offsets[k] = 0;
    }
    for (std::size_t d = shape.size() - 1; d-- > 0;) {
        const std::int64_t idx = row % shape[d];
        row /= shape[d];
        for (std::size_t k = 0; k < n; ++k) {
            offsets[k] += idx * strides[k][d];
        }
    }
}

}  // namespace aquant::engine
