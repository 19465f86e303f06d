// `aquant quantize`: float model + data -> QDQ model, measured.
//   1. read; below opset 13 convert to 13 (io::convert_opset); fold constants; fold
//      BatchNormalization into Conv
//   2. plan: uniform weight bits for every quantizable layer, minus --exclude (float), plus
//      --override REGEX=BITS (later overrides win; --exclude wins over --override)
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

namespace aquant::pipeline {

struct QuantizeOptions {
    std::string model_path;
    std::string output_path;
    std::optional<int> bits;  // uniform weight bits 2..8 (the only target so far)
    int act_bits = 8;         // 8, or 0 = weight-only
    quant::Granularity granularity = quant::Granularity::kChannel;
    int block_size = 0;
    std::string weight_range = "mmse";
    std::string act_range = kDefaultActRange;
    DataOptions calib;  // path "" = sidecar
    std::int64_t calib_samples = 512;
    DataOptions eval;  // path "" = sidecar
    bool evaluate = true;
    std::int64_t batch = 64;
    int max_opset = 0;  // 0 = no limit
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
};

/// Runs the whole job and writes options.output_path (never options.model_path: ConfigError).
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

}  // namespace aquant::pipeline
