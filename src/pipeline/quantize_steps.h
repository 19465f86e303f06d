// The stages of pipeline::quantize, one file each. Private to src/pipeline/.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aquant/data/dataset.h"
#include "aquant/export/qdq_export.h"
#include "aquant/pipeline/quantize.h"
#include "aquant/pipeline/sensitivity.h"

namespace aquant::pipeline::detail {

/// quantize_prepare.cpp: opset >= 13, constant folding, BatchNormalization folding.
void prepare_float_model(ir::Model& model, std::vector<qdq::Decision>& decisions);
/// Raises the opset to 21 when the plan writes INT4 or per-block scales and max_opset allows it.
void raise_opset_for_plan(ir::Model& model, const qdq::ExportPlan& plan,
                          std::vector<qdq::Decision>& decisions);

/// quantize_plan.cpp: uniform bits, --exclude, --override (recorded as decisions).
qdq::ExportPlan uniform_plan(const ir::Graph& g, const QuantizeOptions& options,
                             std::vector<qdq::Decision>& decisions);

/// An --exclude/--override pattern; ConfigError naming the flag for a bad one.
std::regex compile_regex(const std::string& flag, const std::string& pattern);

/// Everything of the plan but the per-layer bits: activations, weight config, max opset.
void set_plan_options(qdq::ExportPlan& plan, const QuantizeOptions& options);

/// quantize_data.cpp: the calibration and evaluation data (see quantize.h).
struct QuantizeData {
    data::DatasetPtr calib;
    data::DatasetPtr eval;  // null when options.evaluate is false
};
QuantizeData open_quantize_data(const ir::Graph& graph, const QuantizeOptions& options);

/// sensitivity.cpp: the table of `options.estimator` on a prepared float model (the first
/// options.calib_samples rows of `calib`), with top1_drop measured.
sensitivity::SensitivityTable estimate_table(std::shared_ptr<const ir::Model> model,
                                             const std::string& model_path,
                                             const data::Dataset& calib,
                                             const SensitivityOptions& options);

/// quantize_report.cpp: the report object of a quantized model's metadata.
nlohmann::json report_from_metadata(const ir::Model& model);

}  // namespace aquant::pipeline::detail
