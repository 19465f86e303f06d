#include <iostream>

#include "aquant/pipeline/quantize.h"
#include "cli/cli.h"

namespace aquant::cli {

void add_report_command(CLI::App& app, GlobalOptions& global) {
    auto model = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "report", "The per-layer plan, sizes, metrics and decisions recorded in a quantized "
                  "model\n  example: aquant report lenet5.w4a8.onnx --json");
    cmd->add_option("model", *model, "Model written by aquant quantize")->required();
    auto file = std::make_shared<std::string>();
    cmd->add_option("--report,-o", *file,
                    "Also write the report to FILE: .json, .md, .csv or .html (charts)");
    cmd->add_flag("--json", global.json, "JSON on stdout");
    cmd->callback([model, file, &global] {
        const auto report = pipeline::read_report(*model);
        if (!file->empty()) pipeline::write_report_file(report, *file);
        if (global.json) {
            std::cout << report.dump(2) << "\n";
        } else {
            std::cout << pipeline::format_report(report);
        }
    });
}

}  // namespace aquant::cli
