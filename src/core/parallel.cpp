#include "aquant/core/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace aquant {
namespace {

class Pool {
public:
    explicit Pool(int n) { resize(n); }

    ~Pool() { stop(); }

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    void resize(int n) {
        stop();
        stopping_ = false;
        for (int i = 1; i < std::max(1, n); ++i) workers_.emplace_back([this] { loop(); });
    }

    // Runs job(chunk) for chunk in [0, chunks); the caller takes part.
    void run(std::int64_t chunks, const std::function<void(std::int64_t)>& job) {
        std::unique_lock<std::mutex> lock(run_mutex_);  // one parallel region at a time
        {
            std::lock_guard<std::mutex> g(m_);
            job_ = &job;
            chunks_ = chunks;
            next_.store(0);
            pending_ = static_cast<int>(workers_.size());
            ++generation_;
        }
        cv_.notify_all();
        work();
        std::unique_lock<std::mutex> g(m_);
        done_cv_.wait(g, [this] { return pending_ == 0; });
        job_ = nullptr;
    }

private:
    void work() {
        for (;;) {
            const std::int64_t c = next_.fetch_add(1);
            if (c >= chunks_) break;
            (*job_)(c);
        }
    }

    void loop() {
        std::uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> g(m_);
                cv_.wait(g, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
            }
            work();
            std::lock_guard<std::mutex> g(m_);
            if (--pending_ == 0) done_cv_.notify_one();
        }
    }

    void stop() {
        {
            std::lock_guard<std::mutex> g(m_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    std::vector<std::thread> workers_;
    std::mutex m_, run_mutex_;
    std::condition_variable cv_, done_cv_;
    const std::function<void(std::int64_t)>* job_ = nullptr;
    std::int64_t chunks_ = 0;
    std::atomic<std::int64_t> next_{0};
    int pending_ = 0;
    std::uint64_t generation_ = 0;
    bool stopping_ = false;
};

int default_threads() {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

Pool& pool() {
    static Pool p(default_threads());
    return p;
}

thread_local bool in_parallel_region = false;

}  // namespace

void set_num_threads(int n) {
    n = std::max(1, n);
    if (n != pool().size()) pool().resize(n);
}

int num_threads() { return pool().size(); }

void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& fn) {
    if (n <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    const std::int64_t chunks = (n + grain - 1) / grain;
    if (chunks == 1 || pool().size() == 1 || in_parallel_region) {
        for (std::int64_t c = 0; c < chunks; ++c) fn(c * grain, std::min(n, (c + 1) * grain));
        return;
    }
    pool().run(chunks, [&](std::int64_t c) {
        in_parallel_region = true;
        fn(c * grain, std::min(n, (c + 1) * grain));
        in_parallel_region = false;
    });
}

}  // namespace aquant
