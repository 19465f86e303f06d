#pragma once

#include <string>

#include "aquant/pipeline/evaluate.h"
#include "cli/cli.h"

namespace aquant::cli {

/// --data, --labels, --format, --scale, --mean, --std, --layout, --offset, --limit.
inline void add_data_flags(CLI::App* cmd, pipeline::DataOptions& d, const std::string& flag) {
    cmd->add_option(flag, d.path,
                    "Data: .npy, .npz, folder of .npy, test_data_set_N folder, IDX images "
                    "(.gz or raw); default: the model's sidecar data");
    cmd->add_option("--labels", d.labels_path, "Labels file (IDX labels or .npy)");
    cmd->add_option("--format", d.format, "npy|npz|npy-folder|onnx-test-data|idx (default: auto)");
    cmd->add_option("--scale", d.scale, "Multiply raw values by this (e.g. 0.00392157 = 1/255)");
    cmd->add_option("--mean", d.mean, "Subtract per-channel mean (after scale)")->delimiter(',');
    cmd->add_option("--std", d.std, "Divide by per-channel std")->delimiter(',');
    cmd->add_option("--layout", d.layout, "NCHW or NHWC");
    cmd->add_option("--offset", d.offset, "Skip this many samples")->check(CLI::NonNegativeNumber);
    cmd->add_option("--limit", d.limit, "Use at most this many samples")
        ->check(CLI::PositiveNumber);
}

/// --qdq int|float: how QDQ models run (integer kernels after QDQ fusion, or the float graph).
inline void add_qdq_flag(CLI::App* cmd, pipeline::RunnerOptions& r) {
    cmd->add_option_function<std::string>(
           "--qdq", [&r](const std::string& mode) { r.integer = mode == "int"; },
           "QDQ models: int (default) runs DequantizeLinear->Conv/Gemm/MatMul->QuantizeLinear "
           "in integer kernels as ONNX Runtime does; float runs the graph as written")
        ->check(CLI::IsMember({"int", "float"}, CLI::ignore_case))
        ->option_text("int|float");
}

}  // namespace aquant::cli
