// The engine's sgemm against Eigen's general matrix product on the products the models run:
// each Conv (not depthwise) as W_g [M/group x C/group*k] times its im2col matrix [.. x N*OH*OW],
// each Gemm and each MatMul with a 2-D B as one product, a batched MatMul as `count` products.
// Shapes are read from the models by running them once (inputs random, axis 0 = batch).
// Operands are row-major and contiguous for every contender; "prepacked" packs the weight side
// once beforehand, as the Conv, Gemm and MatMul kernels do with constant weights.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <tuple>

#include "aquant/core/parallel.h"
#include "aquant/engine/gemm.h"
#include "aquant/pipeline/runner.h"
#include "gemm_bench.h"

namespace aquant::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Shape {
    std::int64_t m, n, k;
    std::int64_t count;  // products per model run
    bool weight_is_a;    // Conv: the weights are A; Gemm/MatMul: B
    std::string where;   // "model:node (op)"
};

Dims dims_of(const ir::Graph& g, const engine::ValueMap& values, ir::ValueId v) {
    if (auto it = values.find(v.index); it != values.end()) return it->second.dims();
    const auto& val = g.value(v);
    if (val.initializer) return val.initializer->dims();
    if (val.type && val.type->static_dims()) return *val.type->static_dims();
    return {};
}

std::int64_t prod(const Dims& d, std::size_t from, std::size_t to) {
    std::int64_t p = 1;
    for (std::size_t i = from; i < to && i < d.size(); ++i) p *= d[i];
    return p;
}

std::vector<Shape> model_shapes(const std::string& path, std::int64_t batch) {
    pipeline::ModelRunner runner = pipeline::ModelRunner::from_file(path);
    engine::Executor& exec = runner.executor();
    const ir::Graph& g = exec.graph();
    engine::ValueMap values;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
    for (ir::ValueId v : g.real_inputs()) {
        const auto& val = g.value(v);
        Dims d;
        for (std::size_t i = 0; i < val.type->shape->size(); ++i) {
            const auto& dim = (*val.type->shape)[i];
            d.push_back(dim.known() ? dim.value : batch);
        }
        Tensor t(val.type->elem_type, d);
        if (t.dtype() == DType::kF32) {
            for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = ud(rng);
        }
        values[v.index] = t;
    }
    engine::RunOptions ro;
    ro.keep_intermediates = true;
    exec.run(values, {}, ro);
    const std::string model = path.substr(path.find_last_of('/') + 1);
    std::vector<Shape> out;
    for (const ir::Node& n : g.nodes()) {
        if (n.removed) continue;
        const std::string where = model + ":" + n.name + " (" + n.op_type + ")";
        if (n.op_type == "Conv") {
            const Dims x = dims_of(g, values, n.inputs[0]), w = dims_of(g, values, n.inputs[1]);
            const Dims y = dims_of(g, values, n.outputs[0]);
            const std::int64_t group = n.attr_int("group", 1);
            if (w.size() < 3 || y.size() != w.size()) continue;
            if (w[1] == 1 && group > 1) continue;  // depthwise: direct loops, no GEMM
            out.push_back({w[0] / group, prod(y, 0, 1) * prod(y, 2, y.size()),
                           prod(w, 1, w.size()), group, true, where});
        } else if (n.op_type == "Gemm") {
            const Dims y = dims_of(g, values, n.outputs[0]);
            const Dims a = dims_of(g, values, n.inputs[0]);
            const bool ta = n.attr_int("transA", 0) != 0;
            if (y.size() != 2 || a.size() != 2) continue;
            out.push_back({y[0], y[1], ta ? a[0] : a[1], 1, false, where});
        } else if (n.op_type == "MatMul") {
            const Dims a = dims_of(g, values, n.inputs[0]), b = dims_of(g, values, n.inputs[1]);
            if (a.size() < 2 || b.size() < 2) continue;
            const std::int64_t k = a.back(), nn = b.back();
            if (b.size() == 2) {
                out.push_back({prod(a, 0, a.size() - 1), nn, k, 1, false, where});
            } else {
                out.push_back({a[a.size() - 2], nn, k, prod(b, 0, b.size() - 2), false, where});
            }
        }
    }
    return out;
}

template <typename F>
double median_ms(int runs, F&& f) {
    f();  // warm-up
    f();
    std::vector<double> t;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = Clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    const std::size_t h = t.size() / 2;
    return t.size() % 2 ? t[h] : 0.5 * (t[h - 1] + t[h]);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
    }
    return d;
}

}  // namespace

nlohmann::json gemm_bench(const GemmBenchOptions& o) {
    using namespace engine;
    nlohmann::json result;
    result["threads"] = num_threads();
    result["runs"] = o.runs;
    result["gemm_kernel"] = set_gemm_kernel(GemmKernel::kBest);
    result["shapes"] = nlohmann::json::array();
    // One entry per distinct (m, n, k); `count` and the nodes add up over the models.
    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::pair<Shape, int>> uniq;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> order;
    for (const auto& path : o.models) {
        for (std::int64_t batch : o.batches) {
            for (Shape s : model_shapes(path, batch)) {
                s.where += " batch " + std::to_string(batch);
                const auto key = std::make_tuple(s.m, s.n, s.k);
                auto it = uniq.find(key);
                if (it == uniq.end()) {
                    uniq.emplace(key, std::make_pair(s, 1));
                    order.push_back(key);
                } else {
                    it->second.second += 1;
                }
            }
        }
    }
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
    double sum[4] = {0, 0, 0, 0};
    for (const auto& key : order) {
        const Shape& s = uniq.at(key).first;
        std::vector<float> a(static_cast<std::size_t>(s.m * s.k));
        std::vector<float> b(static_cast<std::size_t>(s.k * s.n));
        for (float& v : a) v = ud(rng);
        for (float& v : b) v = ud(rng);
        std::vector<float> c0(static_cast<std::size_t>(s.m * s.n)), c1 = c0, c2 = c0, c3 = c0;
        OperandA pa;
        pa.matrix = MatrixRef{a.data(), s.k, false};
        OperandB pb;
        pb.matrix = MatrixRef{b.data(), s.n, false};
        const PackedA wa(s.m, s.k, pa.matrix);
        const PackedB wb(s.k, s.n, pb.matrix);
        OperandA qa = pa;
        OperandB qb = pb;
        if (s.weight_is_a) {
            qa.packed = &wa;
        } else {
            qb.packed = &wb;
        }
        const std::int64_t reps = s.count;
        auto times = [&](auto&& f) {
            return median_ms(o.runs, [&] {
                for (std::int64_t r = 0; r < reps; ++r) f();
            });
        };
        const double t_plain = times([&] { gemm(s.m, s.n, s.k, pa, pb, c0.data(), s.n); });
        const double t_packed = times([&] { gemm(s.m, s.n, s.k, qa, qb, c1.data(), s.n); });
        const double t_eigen = times(
            [&] { eigen_gemm_baseline(s.m, s.n, s.k, a.data(), b.data(), c2.data()); });
        const double t_eigen_avx2 =
            times([&] { eigen_gemm_avx2(s.m, s.n, s.k, a.data(), b.data(), c3.data()); });
        const double flops = 2.0 * static_cast<double>(s.m * s.n * s.k * reps);
        sum[0] += t_plain;
        sum[1] += t_packed;
        sum[2] += t_eigen;
        sum[3] += t_eigen_avx2;
        result["shapes"].push_back({
            {"m", s.m},
            {"n", s.n},
            {"k", s.k},
            {"count", reps},
            {"first_use", s.where},
            {"uses", uniq.at(key).second},
            {"aquant_ms", t_plain},
            {"aquant_prepacked_ms", t_packed},
            {"eigen_ms", t_eigen},
            {"eigen_avx2_ms", t_eigen_avx2},
            {"aquant_prepacked_gflops", flops / t_packed * 1e-6},
            {"eigen_avx2_gflops", flops / t_eigen_avx2 * 1e-6},
            {"max_abs_diff", std::max({max_abs_diff(c0, c2), max_abs_diff(c1, c2),
                                       max_abs_diff(c3, c2)})},
        });
    }
    result["total_ms"] = {{"aquant", sum[0]},
                          {"aquant_prepacked", sum[1]},
                          {"eigen", sum[2]},
                          {"eigen_avx2", sum[3]}};
    return result;
}

std::string format_gemm_bench(const nlohmann::json& j) {
    std::ostringstream os;
    os << "sgemm vs Eigen, threads " << j["threads"] << ", median of " << j["runs"]
       << " runs, engine kernel " << j["gemm_kernel"].get<std::string>()
       << "; ms per model run (count products)\n\n";
    os << "| m | n | k | count | first use | aquant | aquant prepacked | Eigen | Eigen AVX2+FMA |"
          " prepacked / Eigen AVX2 |\n|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n";
    char line[512];
    for (const auto& s : j["shapes"]) {
        std::snprintf(line, sizeof(line),
                      "| %lld | %lld | %lld | %lld | %s | %.4f | %.4f | %.4f | %.4f | %.2f |\n",
                      static_cast<long long>(s["m"].get<std::int64_t>()),
                      static_cast<long long>(s["n"].get<std::int64_t>()),
                      static_cast<long long>(s["k"].get<std::int64_t>()),
                      static_cast<long long>(s["count"].get<std::int64_t>()),
                      s["first_use"].get<std::string>().c_str(), s["aquant_ms"].get<double>(),
                      s["aquant_prepacked_ms"].get<double>(), s["eigen_ms"].get<double>(),
                      s["eigen_avx2_ms"].get<double>(),
                      s["aquant_prepacked_ms"].get<double>() / s["eigen_avx2_ms"].get<double>());
        os << line;
    }
    const auto& t = j["total_ms"];
    std::snprintf(line, sizeof(line),
                  "| | | | | **sum** | %.3f | %.3f | %.3f | %.3f | %.2f |\n",
                  t["aquant"].get<double>(), t["aquant_prepacked"].get<double>(),
                  t["eigen"].get<double>(), t["eigen_avx2"].get<double>(),
                  t["aquant_prepacked"].get<double>() / t["eigen_avx2"].get<double>());
    os << line;
    return os.str();
}

}  // namespace aquant::bench
