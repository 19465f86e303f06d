// The one definition of how aquant quantizes a weight tensor, shared by the sensitivity
// estimators (which simulate it) and the exporter (which stores it), so predictions and the
// written model agree bit for bit.
//   - signed, symmetric, narrow range: codes in [-(2^(b-1) - 1), 2^(b-1) - 1] (2 bits =
//     ternary {-1, 0, 1} x scale), zero point 0, as ONNX Runtime's quantizer does for
//     symmetric weights (2^b - 1 levels: 255 at 8 bits, 15 at 4, 7 at 3, 3 at 2);
//   - per output channel by default, per tensor, or per block of `block_size` along the
//     reduction axis (ir::Layer says which axis is which);
//   - scale from the named range estimator ("mmse" default, "minmax", "percentile").
// Codes are stored as INT8, or as packed INT4 for b <= 4 (2- and 3-bit codes use only their
// 2^b - 1 levels of the INT4 range).
#pragma once

#include <cstdint>
#include <string>

#include "aquant/core/tensor.h"
#include "aquant/quant/range.h"
#include "aquant/quant/scheme.h"

namespace aquant::quant {

struct WeightQuantConfig {
    Granularity granularity = Granularity::kChannel;
    int block_size = 32;         // kBlock only
    std::string range = "mmse";  // range estimator name (range.h)
    RangeOptions range_options;
};

/// Where a weight keeps its output channels and its reduction (input) dimension; negative axes
/// count from the back.
struct WeightAxes {
    int channel = 0;
    int reduction = 1;
};

/// The scheme for `bits` (2..8) on a weight of rank `rank`. ConfigError for a bad config.
QuantScheme weight_scheme(int bits, const WeightQuantConfig& cfg, WeightAxes axes, std::size_t rank);

/// Scale (and zero point 0) for the weight.
QuantParams weight_params(const Tensor& w, int bits, const WeightQuantConfig& cfg, WeightAxes axes);

struct QuantizedWeight {
    QuantParams params;
    Tensor codes;                   // storage type (kI8 or packed kI4), dims of the weight
    Tensor dequantized;             // float32: DequantizeLinear of the stored codes
    double sqnr_db = 0;             // of `dequantized` against the float weight
    std::int64_t bytes_stored = 0;  // codes + scales + zero points as written
    std::int64_t bytes_packed = 0;  // the same at the true bit-width (codes packed to b bits)
};

/// Quantizes a float32 weight and stores its codes as `storage` (kI8, or kI4 for bits <= 4;
/// InternalError otherwise).
QuantizedWeight quantize_weight(const Tensor& w, int bits, const WeightQuantConfig& cfg,
                                WeightAxes axes, DType storage);

/// Bits to store the weight at its true bit-width, scales included (fp32 scale per group).
double weight_size_bits(std::int64_t params, int bits, std::size_t num_groups);

}  // namespace aquant::quant
