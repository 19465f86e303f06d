#include "aquant/pipeline/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "aquant/core/parallel.h"
#include "aquant/data/dataset.h"
#include "aquant/data/npy.h"
#include "aquant/io/tensor_pb.h"
#include "aquant/pipeline/profile.h"
#include "aquant/pipeline/runner.h"

namespace aquant::pipeline {
namespace fs = std::filesystem;

namespace {

Tensor read_input_file(const std::string& path) {
    if (!fs::exists(path)) throw IoError(path + ": no such file");
    const auto ext = fs::path(path).extension().string();
    if (ext == ".pb") return io::read_tensor_pb(path);
    return data::read_npy(path);
}

std::string safe_file_name(std::string name) {
    for (char& c : name) {
        if (c == '/' || c == '\\' || c == ':' || c == ' ') c = '_';
    }
    return name;
}

nlohmann::json tensor_stats(const Tensor& t) {
    nlohmann::json j;
    j["dims"] = t.dims();
    j["dtype"] = std::string(dtype_name(t.dtype()));
    if (t.dtype() == DType::kString || t.numel() == 0) return j;
    const auto v = t.to_f64();
    double mn = v[0], mx = v[0], sum = 0;
    for (double x : v) {
        mn = std::min(mn, x);
        mx = std::max(mx, x);
        sum += x;
    }
    j["min"] = mn;
    j["max"] = mx;
    j["mean"] = sum / static_cast<double>(v.size());
    if (t.rank() >= 2) {
        const std::int64_t rows = t.dim(0);
        const std::int64_t cols = t.numel() / std::max<std::int64_t>(rows, 1);
        nlohmann::json am = nlohmann::json::array();
        for (std::int64_t r = 0; r < std::min<std::int64_t>(rows, 8); ++r) {
            const auto* row = v.data() + r * cols;
            am.push_back(std::max_element(row, row + cols) - row);
        }
        j["argmax"] = am;
    }
    return j;
}

nlohmann::json fusion_json(const engine::QdqFusionReport& r) {
    nlohmann::json j;
    j["fused"] = r.fused.size();
    j["kept_float"] = r.skipped.size();
    j["summary"] = r.summary();
    return j;
}

}  // namespace

nlohmann::json run_model(const RunOptions& options) {
    ModelRunner runner = ModelRunner::from_file(options.model_path, options.runner);
    std::map<std::string, Tensor> feeds;
    std::map<std::string, Tensor> expected;
    if (!options.data_dir.empty()) {
        data::DataSpec spec;
        spec.path = options.data_dir;
        spec.inputs = data::model_input_specs(runner.graph());
        const auto ds = data::open_dataset(spec);
        const auto batch = ds->read(0, ds->size());
        feeds = batch.inputs;
        expected = batch.reference_outputs;
    }
    const auto real_inputs = runner.graph().real_inputs();
    for (const auto& [name, file] : options.inputs) {
        if (!runner.graph().find_value(name)) {
            throw ConfigError("--input " + name + "=" + file + ": the model has no input '" +
                              name + "'");
        }
        feeds[name] = read_input_file(file);
    }
    if (feeds.empty() && real_inputs.size() == 1 && options.inputs.empty()) {
        throw ConfigError("no inputs: pass --input NAME=FILE or --data DIR");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto outs = runner.run(feeds);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json result;
    result["model"] = options.model_path;
    result["elapsed_ms"] = ms;
    if (runner.fused()) result["qdq_fusion"] = fusion_json(runner.fusion());
    result["outputs"] = nlohmann::json::array();
    const auto names = runner.output_names();
    if (!options.output_dir.empty()) fs::create_directories(options.output_dir);
    for (std::size_t i = 0; i < outs.size(); ++i) {
        nlohmann::json o = tensor_stats(outs[i]);
        o["name"] = names[i];
        // Reference outputs: by TensorProto name, else by position (output_K).
        const Tensor* ref = nullptr;
        if (auto it = expected.find(names[i]); it != expected.end()) ref = &it->second;
        if (auto it = expected.find("output_" + std::to_string(i)); !ref && it != expected.end())
            ref = &it->second;
        if (ref && ref->numel() == outs[i].numel() && outs[i].dtype() != DType::kString) {
            const auto a = outs[i].to_f64();
            const auto b = ref->to_f64();
            double diff = 0;
            for (std::size_t k = 0; k < a.size(); ++k) diff = std::max(diff, std::fabs(a[k] - b[k]));
            o["max_abs_diff_to_reference"] = diff;
        }
        if (!options.output_dir.empty()) {
            const auto file = (fs::path(options.output_dir) / (safe_file_name(names[i]) + ".npy"));
            data::write_npy(outs[i], file.string());
            o["file"] = file.string();
        }
        result["outputs"].push_back(o);
    }
    return result;
}

std::string format_run(const nlohmann::json& r) {
    std::ostringstream os;
    os << r["model"].get<std::string>() << ": ran in " << r["elapsed_ms"].get<double>() << " ms";
    if (r.contains("qdq_fusion")) {
        os << " (integer execution: " << r["qdq_fusion"]["summary"].get<std::string>() << ")";
    }
    os << "\n";
    for (const auto& o : r["outputs"]) {
        os << "  " << o["name"].get<std::string>() << "  " << o["dtype"].get<std::string>()
           << dims_str(o["dims"].get<Dims>());
        if (o.contains("min")) {
            os << "  min " << o["min"].get<double>() << "  max " << o["max"].get<double>()
               << "  mean " << o["mean"].get<double>();
        }
        if (o.contains("argmax")) {
            os << "  argmax";
            for (const auto& a : o["argmax"]) os << " " << a.get<std::int64_t>();
        }
        if (o.contains("max_abs_diff_to_reference")) {
            os << "  max |diff| to reference " << o["max_abs_diff_to_reference"].get<double>();
        }
        if (o.contains("file")) os << "  -> " << o["file"].get<std::string>();
        os << "\n";
    }
    return os.str();
}

nlohmann::json bench_model(const BenchOptions& options) {
    ModelRunner runner = ModelRunner::from_file(options.model_path, options.runner);
    const ir::Graph& g = runner.graph();
    std::map<std::string, Tensor> feeds;
    std::mt19937 rng(1234);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (ir::ValueId v : g.real_inputs()) {
        const auto& val = g.value(v);
        if (!val.type || !val.type->shape) {
            throw ModelError(options.model_path + ": input '" + val.name + "' has no shape");
        }
        Dims dims;
        for (std::size_t i = 0; i < val.type->shape->size(); ++i) {
            const auto& d = (*val.type->shape)[i];
            if (d.known()) {
                dims.push_back(i == 0 && runner.fixed_batch() > 0 ? d.value : d.value);
            } else if (i == 0) {
                dims.push_back(options.batch);
            } else {
                throw ModelError(options.model_path + ": input '" + val.name + "' dimension " +
                                 std::to_string(i) + " is symbolic; bench needs a fixed shape");
            }
        }
        if (runner.fixed_batch() > 0 && !dims.empty()) dims[0] = options.batch * dims[0];
        Tensor t(val.type->elem_type, dims);
        if (t.dtype() == DType::kF32) {
            for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = nd(rng);
        }
        feeds[val.name] = t;
    }
    for (int i = 0; i < options.warmup; ++i) runner.run(feeds);
    std::vector<double> ms;
    for (int i = 0; i < options.runs; ++i) {
        // A short idle gap before each timed run, as ONNX Runtime's asynchronous harness has
        // (tools/ort/ort_bench.js): on a busy machine a process that never sleeps is preempted
        // in the middle of runs far more often, which swamps the medians.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const auto t0 = std::chrono::steady_clock::now();
        runner.run(feeds);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                               t0)
                         .count());
    }
    std::sort(ms.begin(), ms.end());
    nlohmann::json j;
    j["model"] = options.model_path;
    j["batch"] = options.batch;
    j["threads"] = num_threads();
    j["runs"] = options.runs;
    j["median_ms"] = ms[ms.size() / 2];
    j["min_ms"] = ms.front();
    j["throughput_per_s"] = 1000.0 * static_cast<double>(options.batch) / ms[ms.size() / 2];
    if (runner.fused()) j["qdq_fusion"] = fusion_json(runner.fusion());
    if (options.profile) {
        ProfileOptions po;
        po.model_path = options.model_path;
        po.batch = options.batch;
        po.runs = options.runs;
        po.warmup = options.warmup;
        j["profile"] = profile_model(po);
    }
    return j;
}

std::string format_bench(const nlohmann::json& j) {
    std::ostringstream os;
    os << j["model"].get<std::string>() << ": batch " << j["batch"] << ", threads "
       << j["threads"] << ", " << j["runs"] << " runs: median " << j["median_ms"].get<double>()
       << " ms, min " << j["min_ms"].get<double>() << " ms, "
       << j["throughput_per_s"].get<double>() << " samples/s";
    if (j.contains("qdq_fusion")) {
        os << " (integer execution: " << j["qdq_fusion"]["summary"].get<std::string>() << ")";
    }
    os << "\n";
    if (j.contains("profile")) os << format_profile(j["profile"]);
    return os.str();
}

}  // namespace aquant::pipeline
