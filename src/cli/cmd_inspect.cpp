#include <iostream>

#include "aquant/pipeline/inspect.h"
#include "cli/cli.h"

namespace aquant::cli {

void add_inspect_command(CLI::App& app, GlobalOptions& global) {
    auto model = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "inspect", "Opsets, inputs/outputs, op histogram, parameters, quantizable layers, "
                   "unsupported ops\n  example: aquant inspect models/lenet5_fmnist.onnx --json");
    cmd->add_option("model", *model, "ONNX model")->required();
    cmd->add_flag("--json", global.json, "JSON on stdout");
    cmd->callback([model, &global] {
        const auto info = pipeline::inspect_model(*model);
        if (global.json) {
            std::cout << info.dump(2) << "\n";
        } else {
            std::cout << pipeline::format_inspect(info);
        }
    });
}

}  // namespace aquant::cli
