// The sensitivity table: layer x candidate bit-width -> measured effect. Estimators
// (src/sensitivity/, one file each) fill it; allocators (src/alloc/) consume it; `aquant
// sensitivity -o profile.json` stores it so `quantize --profile` re-allocates without
// recomputing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aquant::sensitivity {

struct LayerSensitivity {
    std::string name;     // node name
    std::string op_type;  // Conv, Gemm, MatMul, ...
    std::string weight;   // initializer name
    std::int64_t params = 0;
    /// Per candidate (same order as SensitivityTable::candidate_bits):
    std::vector<double> cost;          // predicted damage used by allocators (>= 0 expected)
    std::vector<double> weight_error;  // ||Q_b(W) - W||^2
    std::vector<double> size_bits;     // storage at that bit-width incl. scales/zero points
    /// Per candidate, measured on the calibration batches with only this layer quantized: the
    /// drop of top-1 accuracy (with labels) or of top-1 agreement with fp32 (without), as a
    /// fraction. Summed over layers it predicts a plan's metric (--dry-run). Empty when not
    /// measured (measure_top1_drop fills it).
    std::vector<double> top1_drop;
    double gain = 0;                   // estimator-specific per-layer constant (adaptive: psi)
    bool fixed = false;                // excluded/overridden: allocators must keep `fixed_bits`
    int fixed_bits = 0;                // 0 = keep float
};

struct SensitivityTable {
    std::string estimator;            // "adaptive", "mmse", "loss-aware"
    std::string metric;               // what cost measures, e.g. "kl", "logit-mse", "weight-mse"
    std::string weights;              // the weight quantizer measured, e.g. "channel mmse"
    std::vector<int> candidate_bits;  // ascending, e.g. {2,3,4,8}
    std::vector<LayerSensitivity> layers;  // topological order
    /// The fp32 model's top-1 on the calibration batches (1 when measured as agreement), the
    /// base that top1_drop is subtracted from; 0 when top1_drop was not measured.
    double fp32_top1 = 0;
    bool top1_with_labels = false;  // top1_drop is an accuracy drop (else agreement)

    /// Index of `bits` in candidate_bits, or -1.
    int candidate_index(int bits) const {
        for (std::size_t i = 0; i < candidate_bits.size(); ++i) {
            if (candidate_bits[i] == bits) return static_cast<int>(i);
        }
        return -1;
    }
};

}  // namespace aquant::sensitivity
