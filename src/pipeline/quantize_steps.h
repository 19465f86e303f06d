// The stages of pipeline::quantize, one file each. Private to src/pipeline/.
#pragma once

#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "aquant/data/dataset.h"
#include "aquant/export/qdq_export.h"
#include "aquant/pipeline/quantize.h"

namespace aquant::pipeline::detail {

/// quantize_prepare.cpp: opset >= 13, constant folding, BatchNormalization folding.
void prepare_float_model(ir::Model& model, std::vector<qdq::Decision>& decisions);
/// Raises the opset to 21 when the plan writes INT4 or per-block scales and max_opset allows it.
void raise_opset_for_plan(ir::Model& model, const qdq::ExportPlan& plan,
                          std::vector<qdq::Decision>& decisions);

/// quantize_plan.cpp: uniform bits, --exclude, --override (recorded as decisions).
qdq::ExportPlan uniform_plan(const ir::Graph& g, const QuantizeOptions& options,
                             std::vector<qdq::Decision>& decisions);

/// quantize_data.cpp: the calibration and evaluation data (see quantize.h).
struct QuantizeData {
    data::DatasetPtr calib;
    data::DatasetPtr eval;  // null when options.evaluate is false
};
QuantizeData open_quantize_data(const ir::Graph& graph, const QuantizeOptions& options);

/// quantize_report.cpp: the report object of a quantized model's metadata.
nlohmann::json report_from_metadata(const ir::Model& model);

}  // namespace aquant::pipeline::detail
