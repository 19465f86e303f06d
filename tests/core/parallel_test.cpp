#include "aquant/core/parallel.h"

#include <atomic>
#include <numeric>
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

}  // namespace
}  // namespace aquant
