#include <iostream>

#include "aquant/pipeline/quantize.h"
#include "aquant/quant/range.h"
#include "cli/data_flags.h"
#include "cli/quantize_flags.h"
#include "cli/weight_flags.h"

namespace aquant::cli {
namespace {


// --size BYTES: a number with an optional unit (k/M = 1000, Ki/Mi = 1024; a trailing B allowed).
std::int64_t parse_size(const std::string& v) {
    std::size_t used = 0;
    double x = -1;
    try {
        x = std::stod(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = v.substr(used);
    if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
    double mult = 0;
    if (unit.empty()) mult = 1;
    if (unit == "k" || unit == "K") mult = 1e3;
    if (unit == "M") mult = 1e6;
    if (unit == "Ki") mult = 1024;
    if (unit == "Mi") mult = 1024.0 * 1024;
    if (used == 0 || mult == 0 || !(x > 0)) {
        throw ConfigError("--size: expected bytes such as 60000, 60k, 1.5M or 64Ki, got '" + v + "'");
    }
    return static_cast<std::int64_t>(x * mult);
}

int parse_act_bits(const std::string& v) {
    if (v == "8") return 8;
    if (v == "none") return 0;
    throw ConfigError("--act-bits: expected 8 or none, got '" + v + "'");
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
    o.int4_int8_compute = f.int4_compute == "int8";
    parse_granularity(f.granularity, o.weights);
    if (!f.size.empty()) o.size_bytes = parse_size(f.size);
    for (const auto& v : f.overrides) o.overrides.push_back(parse_override(v));
    o.calib.path = f.calib_path;
    o.calib.format = o.eval.format;
    o.calib.scale = o.eval.scale;
    o.calib.mean = o.eval.mean;
    o.calib.std = o.eval.std;
    o.calib.layout = o.eval.layout;
}

}  // namespace

void add_quantize_options(CLI::App* cmd, QuantizeFlags& flags) {
    auto* f = &flags;
    auto& o = f->opt;
    cmd->add_option("model", o.model_path, "Float ONNX model")->required();
    cmd->add_option("-o,--output", o.output_path, "Quantized model to write (not with --dry-run)");
    cmd->add_option("--target-acc", o.target_acc,
                    "Target: smallest model whose metric on the eval data (top-1 with labels, "
                    "else top-1 agreement with fp32) is >= A, e.g. 0.9");
    cmd->add_option("--max-drop", o.max_drop,
                    "Target: metric >= fp32's measured metric - D, e.g. 0.01");
    cmd->add_option("--avg-bits", o.avg_bits,
                    "Target: average stored bits per weight, scales included, e.g. 4.5");
    cmd->add_option("--size", f->size, "Target: weight bytes at the true bit-width, e.g. 60k");
    cmd->add_option("--bits", o.bits, "Uniform weight bits, 2..8 (INT4 storage at <= 4)");
    cmd->add_option("--allocator", o.allocator,
                    std::string("Bit allocator: adaptive | mmse | loss-aware (default ") +
                        pipeline::kDefaultAllocator +
                        ": the smallest models at equal accuracy on the bundled models, README)");
    cmd->add_option("--estimator", o.estimator,
                    "Sensitivity estimator: adaptive | mmse | loss-aware (default: the "
                    "allocator's own; the adaptive allocator needs adaptive)");
    cmd->add_option("--weight-bits", o.candidate_bits, "Candidate weight bits (default 2,3,4,8)")
        ->delimiter(',')
        ->check(CLI::Range(2, 8));
    cmd->add_option("--profile", o.profile_path,
                    "Reuse a sensitivity profile (aquant sensitivity -o FILE) instead of "
                    "measuring one");
    cmd->add_option("--loss", o.loss, "loss-aware estimator: kl (default) | ce | logit-mse");
    cmd->add_option("--max-evals", o.max_evals,
                    "Accuracy targets: candidates measured at most (default 10)");
    cmd->add_flag("--dry-run", o.dry_run,
                  "Print the plan, predicted size and accuracy; write nothing");
    cmd->add_option("--act-bits", f->act_bits, "Activation bits: 8, or none (weight-only)");
    cmd->add_option("--granularity", f->granularity,
                    "Weight scales: tensor, channel (default) or block:N (opset 21)");
    cmd->add_option("--weight-range", o.weights.range,
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
    cmd->add_option("--int4-compute", f->int4_compute,
                    "int8 (default): INT4 weights of layers with quantized activations also pass "
                    "QuantizeLinear(int8)->DequantizeLinear, so that ONNX Runtime (no 4-bit "
                    "kernels) runs them with int8 integer kernels, as aquant does; storage stays "
                    "INT4. float: the INT4 DequantizeLinear alone (ORT computes those layers in "
                    "float)")
        ->check(CLI::IsMember({"int8", "float"}));
    cmd->add_option("--exclude", o.exclude, "Keep layers whose node name matches REGEX float");
    cmd->add_option("--override", f->overrides, "REGEX=BITS: weight bits for matching layers "
                                                "(0 = float; later flags win)");
    cmd->add_option("--report", o.report_path,
                    "Also write the report to FILE: .json, .md, .csv or .html (charts)");
    cmd->add_option("--batch", o.batch, "Batch size for calibration and evaluation")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seed", o.seed, "Seed (recorded; the job uses no randomness)");
}

void finish_quantize_flags(QuantizeFlags& f) { finish(f); }

void add_quantize_command(CLI::App& app, GlobalOptions& global) {
    auto f = std::make_shared<QuantizeFlags>();
    auto* cmd = app.add_subcommand(
        "quantize",
        "Quantize a float model to QDQ ONNX (INT8/INT4 weights, 8-bit activations): the smallest "
        "model that meets a target, measured; exit 3 when the target is missed\n"
        "  examples: aquant quantize models/resnet_fmnist.onnx --target-acc 0.91 -o resnet.q.onnx\n"
        "            aquant quantize m.onnx --max-drop 0.005 --allocator mmse -o q.onnx\n"
        "            aquant sensitivity m.onnx -o m.profile.json && aquant quantize m.onnx "
        "--profile m.profile.json --avg-bits 3.5 --dry-run\n"
        "            aquant quantize models/lenet5_fmnist.onnx --bits 8 -o lenet5.w8a8.onnx\n"
        "            aquant quantize m.onnx --bits 4 --granularity block:32 -o m.w4.onnx\n"
        "            aquant quantize m.onnx --bits 4 --max-opset 17 --exclude '^/fc3' -o q.onnx\n"
        "            aquant quantize m.onnx --bits 8 --calib train.npz --eval test.npz -o q.onnx");
    add_quantize_options(cmd, *f);
    cmd->add_flag("--json", global.json, "JSON report on stdout");
    cmd->callback([f, &global] {
        finish(*f);
        const auto result = pipeline::quantize(f->opt);
        if (global.json) {
            std::cout << result.report.dump(2) << "\n";
        } else {
            std::cout << pipeline::format_report(result.report);
        }
        if (!result.target_message.empty() && (!result.target_met || !global.quiet)) {
            std::cerr << "aquant: " << (result.target_met ? "" : "error: ") << result.target_message
                      << "\n";
        }
        if (!result.target_met) set_exit_code(3);
    });
}

}  // namespace aquant::cli
