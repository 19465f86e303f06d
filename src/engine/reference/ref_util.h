// Index helpers for the scalar reference kernels (the oracles of tests/engine). Deliberately
// plain: row-major offsets from multi-indices, no blocking, no fast paths.
#pragma once

#include <cstdint>
#include <vector>

namespace aquant::engine::ref {

using Shape = std::vector<std::int64_t>;

inline std::int64_t numel(const Shape& s) {
    std::int64_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

/// Row-major offset of multi-index `idx` in `shape`.
inline std::int64_t offset(const Shape& shape, const std::vector<std::int64_t>& idx) {
    std::int64_t off = 0;
    for (std::size_t i = 0; i < shape.size(); ++i) off = off * shape[i] + idx[i];
    return off;
}

/// Advances `idx` through `shape` in row-major order; false after the last index.
inline bool next_index(const Shape& shape, std::vector<std::int64_t>& idx) {
    for (std::size_t i = shape.size(); i-- > 0;) {
        if (++idx[i] < shape[i]) return true;
        idx[i] = 0;
    }
    return false;
}

/// Multi-index of flat row-major position `flat`.
inline std::vector<std::int64_t> unravel(const Shape& shape, std::int64_t flat) {
    std::vector<std::int64_t> idx(shape.size());
    for (std::size_t i = shape.size(); i-- > 0;) {
        idx[i] = flat % shape[i];
        flat /= shape[i];
    }
    return idx;
}

}  // namespace aquant::engine::ref
