// A fixed thread pool. parallel_for splits [0, n) into chunks whose boundaries depend only on n
// and the grain, never on the thread count, so a kernel that writes disjoint outputs per chunk
// gives bit-identical results for any --threads.
#pragma once

#include <cstdint>
#include <functional>

namespace aquant {

/// Sets the number of worker threads used by parallel_for (>= 1). Default: hardware threads.
void set_num_threads(int n);
int num_threads();

/// True inside a chunk that parallel_for handed to the pool: a nested parallel_for runs serially.
bool in_parallel_region();

/// Calls fn(begin, end) for consecutive chunks of at most `grain` items covering [0, n).
void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace aquant
