#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aquant/pipeline/runner.h"

namespace aquant::pipeline {

struct RunOptions {
    std::string model_path;
    std::map<std::string, std::string> inputs;  // input name -> .npy or .pb file
    std::string data_dir;                       // or an ONNX test_data_set_N folder
    std::string output_dir;                     // save outputs as <name>.npy when set
    RunnerOptions runner;                       // --qdq int|float
};

/// `aquant run`: per output name, dims, dtype, min/max/mean, argmax of the first rows and, when
/// the data folder holds reference outputs, the max abs difference to them. With QDQ fusion,
/// "qdq_fusion" holds the number of layers fused and kept in float.
nlohmann::json run_model(const RunOptions& options);
std::string format_run(const nlohmann::json& result);

struct BenchOptions {
    std::string model_path;
    std::int64_t batch = 1;
    int runs = 20;
    int warmup = 3;
    RunnerOptions runner;  // --qdq int|float
    bool profile = false;  // also time every node (pipeline/profile.h), in "profile"
};

/// `aquant bench`: random inputs (fixed seed), warm-up, then `runs` timed runs.
nlohmann::json bench_model(const BenchOptions& options);
std::string format_bench(const nlohmann::json& result);

}  // namespace aquant::pipeline
