// Activation calibration: runs the float model over calibration batches with an executor hook,
// feeds each tensor to be quantized into a histogram observer (quant/observer.h; 2048 bins, so
// nothing but the histograms is kept), then turns each histogram into QuantParams with the
// chosen range estimator. Deterministic: batches are read in order, and the engine's results do
// not depend on the thread count.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aquant/data/dataset.h"
#include "aquant/ir/graph.h"
#include "aquant/quant/range.h"
#include "aquant/quant/scheme.h"

namespace aquant::pipeline {

/// The default activation range estimator of `aquant quantize` (measured: see README).
inline constexpr const char* kDefaultActRange = "mmse";

struct CalibrationOptions {
    std::string act_range = kDefaultActRange;  // a quant::range_estimator name
    quant::RangeOptions range_options;
    std::int64_t batch = 64;
};

struct CalibrationResult {
    std::map<std::string, quant::QuantParams> params;  // by tensor name
    std::int64_t samples = 0;
    std::int64_t nonfinite = 0;  // values skipped over all tensors
};

/// `tensors` are value names of `model` (graph inputs or node outputs); ConfigError naming a
/// tensor that does not exist or that no node produces on the way to it, DataError for empty
/// data.
CalibrationResult calibrate_activations(std::shared_ptr<const ir::Model> model,
                                        const std::vector<std::string>& tensors,
                                        const data::Dataset& data,
                                        const quant::QuantScheme& scheme,
                                        const CalibrationOptions& options = {});

}  // namespace aquant::pipeline
