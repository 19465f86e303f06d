// Per-thread scratch memory for kernels (im2col columns, gate buffers). The buffer grows to the
// largest request seen on the thread and is reused, so steady-state runs do not allocate.
#pragma once

#include <cstddef>
#include <vector>

namespace aquant::engine {

/// A float buffer of at least n elements, owned by the calling thread; contents are unspecified.
/// `slot` (0..5) selects one of a few independent buffers for kernels that need more than one.
inline float* thread_scratch(std::size_t n, int slot = 0) {
    thread_local std::vector<float> buffers[6];
    std::vector<float>& b = buffers[slot];
    if (b.size() < n) b.resize(n);
    return b.data();
}

}  // namespace aquant::engine
