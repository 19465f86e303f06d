#include <iostream>

#include "aquant/pipeline/quantize.h"
#include "aquant/quant/range.h"
#include "cli/data_flags.h"

namespace aquant::cli {
namespace {

struct QuantizeFlags {
    pipeline::QuantizeOptions opt;
    std::string act_bits = "8";
    std::string granularity = "channel";
    std::vector<std::string> overrides;
    std::string calib_path;
};

int parse_act_bits(const std::string& v) {
    if (v == "8") return 8;
    if (v == "none") return 0;
    throw ConfigError("--act-bits: expected 8 or none, got '" + v + "'");
}

void parse_granularity(const std::string& v, pipeline::QuantizeOptions& o) {
    if (v == "tensor") {
        o.granularity = quant::Granularity::kTensor;
    } else if (v == "channel") {
        o.granularity = quant::Granularity::kChannel;
    } else if (v.rfind("block:", 0) == 0) {
        o.granularity = quant::Granularity::kBlock;
        try {
            o.block_size = std::stoi(v.substr(6));
        } catch (const std::exception&) {
            o.block_size = 0;
        }
        if (o.block_size < 1) {
            throw ConfigError("--granularity: block size in '" + v + "' must be >= 1");
        }
    } else {
        throw ConfigError("--granularity: expected tensor, channel or block:N, got '" + v + "'");
    }
}

std::pair<std::string, int> parse_override(const std::string& v) {
    const auto eq = v.rfind('=');
    int bits = -1;
    if (eq != std::string::npos && eq > 0) {
        try {
            std::size_t used = 0;
            bits = std::stoi(v.substr(eq + 1), &used);
            if (used != v.size() - eq - 1) bits = -1;
        } catch (const std::exception&) {
            bits = -1;
        }
    }
    if (bits < 0) throw ConfigError("--override: expected REGEX=BITS, got '" + v + "'");
    return {v.substr(0, eq), bits};
}

std::string estimator_names() {
    std::string s;
    for (const auto& n : quant::range_estimator_names()) s += (s.empty() ? "" : "|") + n;
    return s;
}

// Finishes the options after parsing: enums from strings, shared preprocessing for calib data.
void finish(QuantizeFlags& f) {
    auto& o = f.opt;
    o.act_bits = parse_act_bits(f.act_bits);
    parse_granularity(f.granularity, o);
    for (const auto& v : f.overrides) o.overrides.push_back(parse_override(v));
    o.calib.path = f.calib_path;
    o.calib.format = o.eval.format;
    o.calib.scale = o.eval.scale;
    o.calib.mean = o.eval.mean;
    o.calib.std = o.eval.std;
    o.calib.layout = o.eval.layout;
}

}  // namespace

void add_quantize_command(CLI::App& app, GlobalOptions& global) {
    auto f = std::make_shared<QuantizeFlags>();
    auto& o = f->opt;
    auto* cmd = app.add_subcommand(
        "quantize",
        "Quantize a float model to QDQ ONNX (INT8/INT4 weights, 8-bit activations), evaluate "
        "it, write it\n"
        "  examples: aquant quantize models/lenet5_fmnist.onnx --bits 8 -o lenet5.w8a8.onnx\n"
        "            aquant quantize m.onnx --bits 4 --granularity block:32 -o m.w4.onnx\n"
        "            aquant quantize m.onnx --bits 4 --max-opset 17 --exclude '^/fc3' -o q.onnx\n"
        "            aquant quantize m.onnx --bits 8 --calib train.npz --eval test.npz -o q.onnx");
    cmd->add_option("model", o.model_path, "Float ONNX model")->required();
    cmd->add_option("-o,--output", o.output_path, "Quantized model to write")->required();
    cmd->add_option("--bits", o.bits, "Uniform weight bits, 2..8 (INT4 storage at <= 4)");
    cmd->add_option("--act-bits", f->act_bits, "Activation bits: 8, or none (weight-only)");
    cmd->add_option("--granularity", f->granularity,
                    "Weight scales: tensor, channel (default) or block:N (opset 21)");
    cmd->add_option("--weight-range", o.weight_range,
                    "Weight range estimator: " + estimator_names() + " (default mmse)");
    cmd->add_option("--act-range", o.act_range,
                    "Activation range estimator: " + estimator_names() + " (default " +
                        pipeline::kDefaultActRange + ": best W8A8 accuracy on the bundled models)");
    cmd->add_option("--calib", f->calib_path,
                    "Calibration data (default: the sidecar's calib split); formats as --eval");
    cmd->add_option("--calib-samples", o.calib_samples, "Calibration samples (default 512)")
        ->check(CLI::PositiveNumber);
    add_data_flags(cmd, o.eval, "--eval");
    cmd->add_option("--max-opset", o.max_opset,
                    "Highest opset to write; below 21 INT4 is stored as INT8 (recorded)")
        ->check(CLI::Range(13, 21));
    cmd->add_option("--exclude", o.exclude, "Keep layers whose node name matches REGEX float");
    cmd->add_option("--override", f->overrides, "REGEX=BITS: weight bits for matching layers "
                                                "(0 = float; later flags win)");
    cmd->add_option("--report", o.report_path, "Also write the report as JSON to FILE.json");
    cmd->add_option("--batch", o.batch, "Batch size for calibration and evaluation")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seed", o.seed, "Seed (recorded; the job uses no randomness)");
    cmd->add_flag("--json", global.json, "JSON report on stdout");
    cmd->callback([f, &global] {
        finish(*f);
        const auto result = pipeline::quantize(f->opt);
        if (global.json) {
            std::cout << result.report.dump(2) << "\n";
        } else {
            std::cout << pipeline::format_report(result.report);
        }
    });
}

}  // namespace aquant::cli
