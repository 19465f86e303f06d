#include <iostream>

#include "aquant/core/error.h"
#include "aquant/pipeline/run.h"
#include "cli/cli.h"
#include "cli/data_flags.h"

namespace aquant::cli {

void add_run_command(CLI::App& app, GlobalOptions& global) {
    auto opt = std::make_shared<pipeline::RunOptions>();
    auto inputs = std::make_shared<std::vector<std::string>>();
    auto* cmd = app.add_subcommand(
        "run",
        "Run the reference engine; print output stats, save outputs (-o DIR)\n"
        "  examples: aquant run m.onnx --input input=x.npy -o out/\n"
        "            aquant run m.onnx --data test_data_set_0   (compares with output_K.pb)");
    cmd->add_option("model", opt->model_path, "ONNX model")->required();
    cmd->add_option("--input", *inputs, "NAME=FILE (.npy or TensorProto .pb), repeatable");
    cmd->add_option("--data", opt->data_dir, "ONNX test_data_set_N folder");
    cmd->add_option("-o,--output-dir", opt->output_dir, "Write each output as <name>.npy");
    add_qdq_flag(cmd, opt->runner);
    cmd->add_flag("--json", global.json, "JSON on stdout");
    cmd->callback([opt, inputs, &global] {
        for (const auto& kv : *inputs) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) {
                throw ConfigError("--input: expected NAME=FILE, got '" + kv + "'");
            }
            opt->inputs[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        const auto r = pipeline::run_model(*opt);
        std::cout << (global.json ? r.dump(2) + "\n" : pipeline::format_run(r));
    });
}

void add_bench_command(CLI::App& app, GlobalOptions& global) {
    auto opt = std::make_shared<pipeline::BenchOptions>();
    auto* cmd = app.add_subcommand(
        "bench", "Latency and throughput of the reference engine\n"
                 "  example: aquant bench models/resnet_fmnist.onnx --batch 16 --threads 1");
    cmd->add_option("model", opt->model_path, "ONNX model")->required();
    cmd->add_option("--batch", opt->batch, "Batch size")->check(CLI::PositiveNumber);
    cmd->add_option("--runs", opt->runs, "Timed runs (median reported)")->check(CLI::PositiveNumber);
    cmd->add_flag("--profile", opt->profile, "Also time every node and op type (median over the runs)");
    cmd->add_option("--warmup", opt->warmup, "Untimed warm-up runs")
        ->check(CLI::NonNegativeNumber);
    add_qdq_flag(cmd, opt->runner);
    cmd->add_flag("--json", global.json, "JSON on stdout");
    cmd->callback([opt, &global] {
        const auto r = pipeline::bench_model(*opt);
        std::cout << (global.json ? r.dump(2) + "\n" : pipeline::format_bench(r));
    });
}

}  // namespace aquant::cli
