// `aquant batch MANIFEST`: many quantize jobs from one file, one JSON summary, and an exit code a
// CI job can gate on. The manifest is text: one job per line, written as the arguments of
// `aquant quantize` (quotes group words; '#' starts a comment; blank lines are skipped):
//
//   # model                          target             output
//   models/lenet5_fmnist.onnx       --target-acc 0.89  -o out/lenet5.q.onnx
//   models/resnet_fmnist.onnx       --max-drop 0.01    -o out/resnet.q.onnx --report out/r.html
//
// Relative paths in a line are relative to the manifest's folder. Every job runs, also after a
// failed one. Exit code: 1 when a job failed (bad model, data, flags), else 3 when a job missed
// its target, else 0.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "aquant/core/error.h"
#include "aquant/core/log.h"
#include "cli/cli.h"
#include "cli/quantize_flags.h"

namespace aquant::cli {
namespace {

namespace fs = std::filesystem;

// Splits a manifest line into words: whitespace separates, '...' and "..." group, '#' outside
// quotes ends the line. ConfigError for an unterminated quote.
std::vector<std::string> split_words(const std::string& line, const std::string& where) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (char c : line) {
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else {
                cur += c;
            }
            continue;
        }
        if (c == '#') break;
        if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
            continue;
        }
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) words.push_back(cur);
            cur.clear();
            in_word = false;
            continue;
        }
        cur += c;
        in_word = true;
    }
    if (quote) throw ConfigError(where + ": unterminated quote");
    if (in_word) words.push_back(cur);
    return words;
}

std::string resolve(const fs::path& base, const std::string& p) {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (base / p).lexically_normal().string();
}

struct Job {
    std::string where;  // manifest:line
    std::vector<std::string> words;
};

std::vector<Job> read_manifest(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw IoError(path + ": cannot open the manifest");
    std::vector<Job> jobs;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        const std::string where = path + ":" + std::to_string(n);
        auto words = split_words(line, where);
        if (!words.empty()) jobs.push_back({where, std::move(words)});
    }
    if (jobs.empty()) throw ConfigError(path + ": no jobs (one `aquant quantize` argument list per line)");
    return jobs;
}

nlohmann::json run_job(const Job& job, const fs::path& base, int* exit_code) {
    nlohmann::json r{{"job", job.where}};
    QuantizeFlags flags;
    CLI::App app{"quantize job", "aquant batch"};
    add_quantize_options(&app, flags);
    try {
        std::vector<std::string> args(job.words.rbegin(), job.words.rend());  // CLI11: reversed
        try {
            app.parse(args);
        } catch (const CLI::ParseError& e) {
            throw ConfigError(job.where + ": " + e.what());
        }
        finish_quantize_flags(flags);
        auto& o = flags.opt;
        o.model_path = resolve(base, o.model_path);
        o.output_path = resolve(base, o.output_path);
        o.calib.path = resolve(base, o.calib.path);
        o.calib.labels_path = resolve(base, o.calib.labels_path);
        o.eval.path = resolve(base, o.eval.path);
        o.eval.labels_path = resolve(base, o.eval.labels_path);
        o.profile_path = resolve(base, o.profile_path);
        o.report_path = resolve(base, o.report_path);
        r["model"] = o.model_path;
        r["output"] = o.output_path;
        logger().info("batch: {}: {}", job.where, pipeline::quantize_command_line(o));
        const pipeline::QuantizeResult q = pipeline::quantize(o);
        r["status"] = q.target_met ? "met" : "missed";
        r["exit_code"] = q.target_met ? 0 : 3;
        if (!q.target_message.empty()) r["message"] = q.target_message;
        const auto& totals = q.report.value("plan", nlohmann::json::object())
                                 .value("totals", nlohmann::json::object());
        r["avg_weight_bits"] = totals.value("avg_weight_bits", 0.0);
        r["bytes_packed"] = totals.value("bytes_packed", std::int64_t{0});
        r["file_bytes"] = q.report.value("file_bytes", nlohmann::json::object());
        r["metrics"] = q.report.value("metrics", nlohmann::json::object());
        r["seconds"] = q.report.value("seconds", nlohmann::json::object()).value("total", 0.0);
        *exit_code = q.target_met ? 0 : 3;
    } catch (const Error& e) {
        r["status"] = "error";
        r["exit_code"] = e.exit_code();
        r["message"] = e.what();
        std::cerr << "aquant: error: " << job.where << ": " << e.what() << "\n";
        *exit_code = 1;
    }
    return r;
}

}  // namespace

void add_batch_command(CLI::App& app, GlobalOptions& global) {
    auto manifest = std::make_shared<std::string>();
    auto summary = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "batch",
        "Many quantize jobs from one manifest, one JSON summary; exit 1 if a job failed, else 3 if "
        "a target was missed, else 0\n"
        "  manifest: one job per line, the arguments of `aquant quantize`; '#' comments;\n"
        "            paths relative to the manifest's folder, e.g.\n"
        "              models/lenet5_fmnist.onnx --target-acc 0.89 -o out/lenet5.q.onnx\n"
        "  example: aquant batch release.jobs -o summary.json");
    cmd->add_option("manifest", *manifest, "Manifest file")->required();
    cmd->add_option("-o,--output", *summary, "Also write the summary JSON to FILE");
    cmd->add_flag("--json", global.json, "(the summary is always JSON)");
    cmd->callback([manifest, summary] {
        const auto jobs = read_manifest(*manifest);
        const fs::path base = fs::absolute(*manifest).parent_path();
        int exit_code = 0;
        nlohmann::json out{{"manifest", *manifest}, {"jobs", nlohmann::json::array()}};
        int met = 0, missed = 0, failed = 0;
        for (const Job& job : jobs) {
            int code = 0;
            nlohmann::json r = run_job(job, base, &code);
            met += code == 0;
            missed += code == 3;
            failed += code == 1;
            if (code == 1) {
                exit_code = 1;
            } else if (code == 3 && exit_code == 0) {
                exit_code = 3;
            }
            out["jobs"].push_back(std::move(r));
        }
        out["met"] = met;
        out["missed"] = missed;
        out["failed"] = failed;
        out["exit_code"] = exit_code;
        if (!summary->empty()) {
            const std::string tmp = *summary + ".tmp";
            {
                std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
                f << out.dump(2) << "\n";
                if (!f) throw IoError(*summary + ": cannot write the summary");
            }
            std::error_code ec;
            fs::rename(tmp, *summary, ec);
            if (ec) throw IoError(*summary + ": cannot write the summary: " + ec.message());
        }
        std::cout << out.dump(2) << "\n";
        set_exit_code(exit_code);
    });
}

}  // namespace aquant::cli
