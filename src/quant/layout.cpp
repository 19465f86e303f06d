#include "quant/layout.h"

#include "aquant/core/error.h"

#include <algorithm>

namespace aquant::quant::detail {

void check_params(const QuantParams& p, const Dims& dims) {
    if (auto why = params_mismatch(p, dims))
        throw InternalError("quant: " + *why);
}

GroupLayout make_layout(const QuantScheme& s, const Dims& dims) {
    GroupLayout L;
    L.granularity = s.granularity;
    L.numel = dims_numel(dims);
    if (s.granularity == Granularity::kTensor) {
        L.dim = L.numel;
        return L;
    }
    const auto axis = static_cast<std::size_t>(normalize_axis(s.axis, dims.size()));
    for (std::size_t i = 0; i < axis; ++i)
        L.outer *= dims[i];
    L.dim = dims[axis];
    for (std::size_t i = axis + 1; i < dims.size(); ++i)
        L.inner *= dims[i];
    if (s.granularity == Granularity::kBlock) {
        L.block = s.block_size;
        L.num_blocks = (L.dim + L.block - 1) / L.block;
    }
    return L;
}

namespace {
// Calls fn(flat index) for each element of group g, in row-major order.
template <typename Fn>
void for_each_in_group(const GroupLayout& L, std::int64_t g, Fn&& fn) {
    switch (L.granularity) {
        case Granularity::kTensor:
            for (std::int64_t i = 0; i < L.numel; ++i)
                fn(i);
            return;
        case Granularity::kChannel:
            for (std::int64_t o = 0; o < L.outer; ++o) {
                const std::int64_t base = (o * L.dim + g) * L.inner;
                for (std::int64_t j = 0; j < L.inner; ++j)
                    fn(base + j);
            }
            return;
        case Granularity::kBlock: {
            const std::int64_t j = g % L.inner;
            const std::int64_t k = (g / L.inner) % L.num_blocks;
            const std::int64_t o = g / (L.inner * L.num_blocks);
            const std::int64_t end = std::min(L.dim, (k + 1) * L.block);
            for (std::int64_t d = k * L.block; d < end; ++d)
                fn((o * L.dim + d) * L.inner + j);
            return;
        }
    }
}
}  // namespace

void gather_group(const float* x, const GroupLayout& L, std::int64_t g, std::vector<float>& out) {
    out.clear();
    for_each_in_group(L, g, [&](std::int64_t i) { out.push_back(x[i]); });
}

void scatter_group(const float* values, const GroupLayout& L, std::int64_t g, float* x) {
    std::int64_t k = 0;
    for_each_in_group(L, g, [&](std::int64_t i) { x[i] = values[k++]; });
}

}  // namespace aquant::quant::detail
