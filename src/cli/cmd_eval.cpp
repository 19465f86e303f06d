#include <iostream>

#include "cli/data_flags.h"

namespace aquant::cli {

void add_eval_command(CLI::App& app, GlobalOptions& global) {
    auto opt = std::make_shared<pipeline::EvalOptions>();
    auto* cmd = app.add_subcommand(
        "eval",
        "Top-1/top-5 accuracy with labels; fidelity against --reference without\n"
        "  examples: aquant eval models/lenet5_fmnist.onnx            (sidecar test split)\n"
        "            aquant eval m.onnx --data t10k-images-idx3-ubyte.gz --scale 0.00392157\n"
        "            aquant eval m.q.onnx --reference m.onnx --data calib.npz");
    cmd->add_option("model", opt->model_path, "ONNX model")->required();
    add_data_flags(cmd, opt->data, "--data");
    cmd->add_option("--reference", opt->reference_path,
                    "Reference model: top-1 agreement, KL divergence, SQNR (dB)");
    cmd->add_option("--output", opt->output_name, "Model output holding the logits");
    cmd->add_option("--batch", opt->batch, "Batch size")->check(CLI::PositiveNumber);
    add_qdq_flag(cmd, opt->runner);
    cmd->add_flag("--json", global.json, "JSON on stdout");
    cmd->callback([opt, &global] {
        const auto m = pipeline::evaluate(*opt);
        if (global.json) {
            std::cout << m.to_json().dump(2) << "\n";
        } else {
            std::cout << pipeline::format_metrics(m);
        }
    });
}

}  // namespace aquant::cli
