// `aquant quantize`: float model + data -> QDQ model, measured.
//   1. read; below opset 13 convert to 13 (io::convert_opset); fold constants; fold
//      BatchNormalization into Conv
//   2. plan: with --bits, uniform weight bits for every quantizable layer; with a target
//      (--target-acc, --max-drop, --avg-bits, --size), the sensitivity table (measured on the
//      calibration data by --estimator, or read from --profile) and --allocator give per-layer
//      bits: a budget target allocates once; an accuracy target bisects the average-bits budget,
//      each candidate exported and measured on the evaluation data by the engine, and keeps the
//      smallest candidate that meets it. --exclude keeps layers float, --override REGEX=BITS
//      fixes their bits (later overrides win; --exclude wins over --override).
//   3. raise the opset to 21 when INT4 or per-block scales are written (unless --max-opset is
//      below 21: then INT4 is stored as INT8, recorded)
//   4. calibrate the activations to quantize on the calibration data
//   5. export QDQ, record provenance, evaluate the serialized result and the float model on the
//      evaluation data (one pass, same samples), record the metrics, write atomically
// Data: --calib / --eval, else the model's sidecar splits (calib: the first calib_samples rows
// of the calibration split). With data for only one of the two and no sidecar, that data is
// split disjointly: the first calib_samples rows calibrate, the rest evaluate (a warning says so).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aquant/pipeline/calibrate.h"
#include "aquant/pipeline/evaluate.h"
#include "aquant/quant/scheme.h"
#include "aquant/quant/weight.h"

namespace aquant::pipeline {

/// The allocator `quantize` uses without --allocator (the evidence benchmark, README).
inline constexpr const char* kDefaultAllocator = "loss-aware";

struct QuantizeOptions {
    std::string model_path;
    std::string output_path;
    // The target: exactly one of these.
    std::optional<int> bits;                 // uniform weight bits 2..8
    std::optional<double> target_acc;        // metric on the eval data, in (0, 1]
    std::optional<double> max_drop;          // fp32 metric - max_drop, in [0, 1)
    std::optional<double> avg_bits;          // average stored bits per weight (scales incl.)
    std::optional<std::int64_t> size_bytes;  // weight bytes at the true bit-width
    // Allocation (targets other than --bits).
    std::string allocator = kDefaultAllocator;
    std::string estimator;                   // "" = the allocator's own
    std::vector<int> candidate_bits = {2, 3, 4, 8};
    std::string profile_path;                // reuse a sensitivity profile
    std::string loss = "kl";                 // loss-aware estimator: kl | ce | logit-mse
    int max_evals = 10;                      // accuracy targets: candidates measured at most
    bool dry_run = false;                    // plan and predictions only; nothing written
    int act_bits = 8;         // 8, or 0 = weight-only
    quant::WeightQuantConfig weights;  // granularity, block size, range estimator
    std::string act_range = kDefaultActRange;
    DataOptions calib;  // path "" = sidecar
    std::int64_t calib_samples = 512;
    DataOptions eval;  // path "" = sidecar
    bool evaluate = true;
    std::int64_t batch = 64;
    int max_opset = 0;  // 0 = no limit
    bool int4_int8_compute = true;  // qdq::ExportPlan::int4_int8_compute
    std::vector<std::string> exclude;                   // ECMAScript regexes on node names
    std::vector<std::pair<std::string, int>> overrides;  // (regex, bits; 0 = float)
    std::string report_path;                            // .json
    std::optional<std::uint64_t> seed;                  // recorded; nothing is random yet
};

struct QuantizeResult {
    /// The report `aquant report` prints (report_json's layout) plus "output" and "file_bytes".
    nlohmann::json report;
    Metrics fp32;
    Metrics quantized;
    /// False when an accuracy target was missed (the best model found is written; exit 3).
    bool target_met = true;
    std::string target_message;  // what was reached against what was asked
};

/// Runs the whole job and writes options.output_path (never options.model_path: ConfigError);
/// with dry_run, returns the plan and its predictions and writes nothing.
QuantizeResult quantize(const QuantizeOptions& options);

/// The command recorded in aquant.command: "aquant quantize MODEL --bits 4 ..." with the flags
/// that shape the model; output paths, thread counts and logging flags are left out so the
/// same job gives the same bytes.
std::string quantize_command_line(const QuantizeOptions& options);

/// `aquant report`: {"model", "aquant_version", "command", "plan", "metrics", "decisions"} from a
/// quantized model's metadata_props. ModelError when the model has no aquant.plan.
nlohmann::json read_report(const std::string& model_path);
/// The per-layer table and totals, as quantize prints them.
std::string format_report(const nlohmann::json& report);
/// The report as the file `path` asks by its extension: .json, .md (Markdown), .csv (one row per
/// layer) or .html (self-contained, inline SVG charts: bits per layer, sensitivity per layer and
/// bit-width, the size/accuracy candidates of the search). ConfigError for another extension.
std::string report_as(const nlohmann::json& report, const std::string& path);
/// Writes report_as(report, path) atomically.
void write_report_file(const nlohmann::json& report, const std::string& path);

}  // namespace aquant::pipeline
