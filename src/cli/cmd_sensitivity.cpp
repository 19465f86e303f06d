#include <iostream>

#include "aquant/pipeline/sensitivity.h"
#include "aquant/sensitivity/estimator.h"
#include "cli/weight_flags.h"
#include "cli/data_flags.h"

namespace aquant::cli {

void add_sensitivity_command(CLI::App& app, GlobalOptions& global) {
    auto opt = std::make_shared<pipeline::SensitivityOptions>();
    auto granularity = std::make_shared<std::string>("channel");
    std::string names;
    for (const auto& e : sensitivity::estimators()) {
        names += "\n    " + e.name + ": " + e.summary;
    }
    auto* cmd = app.add_subcommand(
        "sensitivity",
        "Per-layer sensitivity for each candidate bit-width, as a reusable profile\n"
        "  example: aquant sensitivity models/resnet_fmnist.onnx --estimator loss-aware "
        "-o resnet.profile.json\n  estimators:" + names);
    cmd->add_option("model", opt->model_path, "ONNX model")->required();
    cmd->add_option("--estimator", opt->estimator, "adaptive | mmse | loss-aware");
    cmd->add_option("--weight-bits", opt->candidate_bits, "Candidate bit-widths")
        ->delimiter(',')
        ->check(CLI::Range(2, 8));
    add_data_flags(cmd, opt->calib, "--calib");
    cmd->add_option("--calib-samples", opt->calib_samples, "Calibration samples")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--loss", opt->loss, "loss-aware: kl (default) | ce | logit-mse");
    cmd->add_option("--weight-range", opt->weights.range, "mmse (default) | minmax | percentile");
    cmd->add_option("--granularity", *granularity,
                    "Weight scales: tensor, channel (default) or block:N");
    cmd->add_option("--seed", opt->seed, "Seed of the noise draws (adaptive)");
    cmd->add_option("-o,--output", opt->output_path, "Write the profile (.json)");
    cmd->add_flag("--json", global.json, "JSON on stdout");
    cmd->callback([opt, granularity, &global] {
        parse_granularity(*granularity, opt->weights);
        const auto table = pipeline::measure_sensitivity(*opt);
        if (global.json) {
            std::cout << pipeline::profile_json(table, opt->model_path).dump(2) << "\n";
        } else {
            std::cout << pipeline::format_sensitivity(table);
        }
    });
}

}  // namespace aquant::cli
