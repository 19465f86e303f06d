// Buffers of freed intermediate tensors, kept by the executor and handed out again by
// KernelContext::allocate_output. A buffer is recycled only when nothing else shares it
// (Tensor::buffer_use_count() == 1), so views made by Reshape/Identity, tensors kept by hooks and
// the caller's feeds are never overwritten.
#pragma once

#include "aquant/core/tensor.h"

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace aquant::engine {

class BufferPool {
public:
    /// A tensor from the pool (zero-filled unless `zero` is false), or an undefined tensor when
    /// none fits.
    Tensor take(DType dtype, const Dims& dims, bool zero = true);
    /// Keeps `t`'s buffer for reuse when it is not shared; otherwise drops it.
    void give(Tensor t);
    void clear();

    std::size_t held_bytes() const { return held_bytes_; }

    std::int64_t reused() const { return reused_; }

private:
    // Held buffers are capped so that a long-lived executor does not grow without bound.
    static constexpr std::size_t kMaxHeldBytes = std::size_t{512} << 20;

    std::map<std::pair<int, std::int64_t>, std::vector<Tensor>> free_;  // (dtype, numel)
    std::size_t held_bytes_ = 0;
    std::int64_t reused_ = 0;
};

}  // namespace aquant::engine
