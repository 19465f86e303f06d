// Internal: x viewed as [outer, dim, inner] around the scheme's axis, and which parameter group
// each element belongs to (see scheme.h for the ONNX parameter layout).
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/quant/scheme.h"

#include <cstdint>
#include <vector>

namespace aquant::quant::detail {

struct GroupLayout {
    Granularity granularity = Granularity::kTensor;
    std::int64_t outer = 1;
    std::int64_t dim = 1;  // x.dims[axis] (numel for per tensor)
    std::int64_t inner = 1;
    std::int64_t block = 1;       // block_size (kBlock)
    std::int64_t num_blocks = 1;  // ceil(dim / block)
    std::int64_t numel = 0;

    std::int64_t num_groups() const {
        switch (granularity) {
            case Granularity::kTensor:
                return 1;
            case Granularity::kChannel:
                return dim;
            case Granularity::kBlock:
                return outer * num_blocks * inner;
        }
        return 1;
    }

    /// Group of element i (row-major flat index); the scalar definition the fast paths follow.
    std::int64_t group_of(std::int64_t i) const {
        const std::int64_t j = i % inner;
        const std::int64_t d = (i / inner) % dim;
        const std::int64_t o = i / (inner * dim);
        switch (granularity) {
            case Granularity::kTensor:
                return 0;
            case Granularity::kChannel:
                return d;
            case Granularity::kBlock:
                return (o * num_blocks + d / block) * inner + j;
        }
        return 0;
    }
};

/// Throws InternalError with params_mismatch's text when p does not fit x of shape dims.
void check_params(const QuantParams& p, const Dims& dims);

/// Throws ConfigError for an axis outside the rank (scheme must be valid).
GroupLayout make_layout(const QuantScheme& s, const Dims& dims);

/// Copies the elements of group g into out (cleared first), in row-major order.
void gather_group(const float* x, const GroupLayout& L, std::int64_t g, std::vector<float>& out);

/// Writes `values` (in gather_group order) back to the elements of group g.
void scatter_group(const float* values, const GroupLayout& L, std::int64_t g, float* x);

}  // namespace aquant::quant::detail
