#include "aquant/pipeline/profile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "aquant/core/error.h"
#include "aquant/core/parallel.h"
#include "aquant/pipeline/runner.h"

namespace aquant::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// Normal random floats (seed fixed) for every graph input; a symbolic axis 0 becomes `batch`.
engine::ValueMap random_feeds(const ir::Graph& g, const std::string& path, std::int64_t batch) {
    engine::ValueMap feeds;
    std::mt19937 rng(1234);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (ir::ValueId v : g.real_inputs()) {
        const auto& val = g.value(v);
        if (!val.type || !val.type->shape) {
            throw ModelError(path + ": input '" + val.name + "' has no shape");
        }
        Dims dims;
        for (std::size_t i = 0; i < val.type->shape->size(); ++i) {
            const auto& d = (*val.type->shape)[i];
            if (d.known()) {
                dims.push_back(d.value);
            } else if (i == 0) {
                dims.push_back(batch);
            } else {
                throw ModelError(path + ": input '" + val.name + "' dimension " +
                                 std::to_string(i) + " is symbolic; profiling needs a fixed shape");
            }
        }
        Tensor t(val.type->elem_type, dims);
        if (t.dtype() == DType::kF32) {
            for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = nd(rng);
        }
        feeds[v.index] = t;
    }
    return feeds;
}

}  // namespace

nlohmann::json profile_model(const ProfileOptions& options) {
    ModelRunner runner = ModelRunner::from_file(options.model_path);
    engine::Executor& exec = runner.executor();
    const ir::Graph& g = exec.graph();
    const engine::ValueMap feeds = random_feeds(g, options.model_path, options.batch);

    std::vector<const ir::Node*> order;           // execution order (first run)
    std::map<const ir::Node*, std::size_t> slot;  // node -> index in order
    std::vector<std::vector<double>> times;
    std::vector<double> totals;
    for (int r = 0; r < options.warmup + options.runs; ++r) {
        const bool timed = r >= options.warmup;
        engine::ValueMap values = feeds;
        engine::RunOptions ro;
        ro.hook_sees_fused = true;
        Clock::time_point last;
        ro.hook = [&](const ir::Node& n, const std::vector<Tensor>&) {
            const Clock::time_point now = Clock::now();
            auto it = slot.find(&n);
            if (it == slot.end()) {
                it = slot.emplace(&n, order.size()).first;
                order.push_back(&n);
                times.emplace_back();
            }
            if (timed) {
                times[it->second].push_back(
                    std::chrono::duration<double, std::milli>(now - last).count());
            }
            last = Clock::now();
        };
        if (timed) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // as bench_model
        const Clock::time_point t0 = Clock::now();
        last = t0;
        exec.run(values, {}, ro);
        if (timed) {
            totals.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
    }

    nlohmann::json j;
    j["model"] = options.model_path;
    j["batch"] = options.batch;
    j["threads"] = num_threads();
    j["runs"] = options.runs;
    const double total = totals.empty() ? 0.0 : median(totals);
    j["total_ms"] = total;
    j["total_min_ms"] = totals.empty() ? 0.0 : *std::min_element(totals.begin(), totals.end());
    j["nodes"] = nlohmann::json::array();
    struct OpSum {
        int count = 0;
        double ms = 0.0;
    };
    std::map<std::string, OpSum> ops;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const double ms = times[i].empty() ? 0.0 : median(times[i]);
        const std::string op = order[i]->domain.empty() || order[i]->domain == "ai.onnx"
                                   ? order[i]->op_type
                                   : order[i]->domain + "." + order[i]->op_type;
        j["nodes"].push_back({{"name", order[i]->name},
                              {"op", op},
                              {"median_ms", ms},
                              {"share", total > 0 ? ms / total : 0.0}});
        ops[op].count += 1;
        ops[op].ms += ms;
    }
    std::vector<std::pair<std::string, OpSum>> by_time(ops.begin(), ops.end());
    std::stable_sort(by_time.begin(), by_time.end(),
                     [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
    j["ops"] = nlohmann::json::array();
    for (const auto& [op, s] : by_time) {
        j["ops"].push_back({{"op", op},
                            {"count", s.count},
                            {"ms", s.ms},
                            {"share", total > 0 ? s.ms / total : 0.0}});
    }
    return j;
}

std::string format_profile(const nlohmann::json& j) {
    std::ostringstream os;
    char line[256];
    os << j["model"].get<std::string>() << ": batch " << j["batch"] << ", threads " << j["threads"]
       << ", " << j["runs"] << " runs: median " << j["total_ms"].get<double>() << " ms, min "
       << j["total_min_ms"].get<double>() << " ms\n";
    os << "  by op:\n";
    for (const auto& o : j["ops"]) {
        std::snprintf(line, sizeof(line), "    %-28s %4d  %10.4f ms  %5.1f %%\n",
                      o["op"].get<std::string>().c_str(), o["count"].get<int>(),
                      o["ms"].get<double>(), 100.0 * o["share"].get<double>());
        os << line;
    }
    os << "  by node (execution order):\n";
    for (const auto& n : j["nodes"]) {
        std::snprintf(line, sizeof(line), "    %-40s %-20s %10.4f ms  %5.1f %%\n",
                      n["name"].get<std::string>().c_str(), n["op"].get<std::string>().c_str(),
                      n["median_ms"].get<double>(), 100.0 * n["share"].get<double>());
        os << line;
    }
    return os.str();
}

}  // namespace aquant::pipeline
