#include "aquant/core/parallel.h"

#include <atomic>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace aquant {
namespace {

TEST(ParallelFor, CoversRangeOnceWithThreadIndependentChunks) {
    for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        std::vector<int> hits(1001, 0);
        std::vector<std::pair<std::int64_t, std::int64_t>> chunks(100);
        std::atomic<int> n_chunks{0};
        parallel_for(1001, 64, [&](std::int64_t b, std::int64_t e) {
            for (auto i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
            chunks[static_cast<std::size_t>(b / 64)] = {b, e};
            ++n_chunks;
        });
        EXPECT_EQ(n_chunks.load(), 16) << threads;
        for (int h : hits) ASSERT_EQ(h, 1) << threads;
        EXPECT_EQ(chunks[15].first, 960);
        EXPECT_EQ(chunks[15].second, 1001);
    }
}

TEST(ParallelFor, NestedCallsRunInline) {
    set_num_threads(2);
    std::atomic<long> sum{0};
    parallel_for(8, 1, [&](std::int64_t b, std::int64_t) {
        parallel_for(10, 3, [&](std::int64_t c, std::int64_t d) {
            for (auto i = c; i < d; ++i) sum += b * 10 + i;
        });
    });
    EXPECT_EQ(sum.load(), 80 * 79 / 2);
}

// Back-to-back regions (the pool returns when every chunk is done, without waiting for late
// workers to wake): every chunk of every region runs exactly once.
TEST(ParallelFor, ManyShortRegionsEachCoverTheirRange) {
    for (int threads : {2, 3}) {
        set_num_threads(threads);
        for (int r = 0; r < 2000; ++r) {
            std::vector<int> hits(37, 0);
            parallel_for(37, 5, [&](std::int64_t b, std::int64_t e) {
                for (auto i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
            });
            for (int h : hits) ASSERT_EQ(h, 1) << "threads " << threads << " region " << r;
        }
    }
    set_num_threads(1);
}

// An exception in a chunk reaches the caller once the chunks already running have finished,
// and the pool stays usable.
TEST(ParallelFor, ExceptionPropagatesAndPoolStaysUsable) {
    set_num_threads(2);
    for (int round = 0; round < 50; ++round) {
        EXPECT_THROW(parallel_for(64, 1,
                                  [&](std::int64_t b, std::int64_t) {
                                      if (b == 3) throw std::runtime_error("chunk 3");
                                  }),
                     std::runtime_error);
        EXPECT_FALSE(in_parallel_region());
        std::atomic<int> n{0};
        parallel_for(64, 1, [&](std::int64_t, std::int64_t) { ++n; });
        EXPECT_EQ(n.load(), 64);
    }
    set_num_threads(1);
}

}  // namespace
}  // namespace aquant
