// The one definition of how aquant quantizes a weight tensor, shared by the sensitivity
// estimators (which simulate it) and the exporter (which stores it), so predictions and the
// written model agree bit for bit.
//   - signed, symmetric, narrow range: codes in [-(2^(b-1) - 1), 2^(b-1) - 1] (2 bits =
//     ternary {-1, 0, 1} x scale), zero point 0;
//   - per output channel by default (axis as ir::Layer::channel_axis says), per tensor, or per
//     block of `block_size` along the reduction axis;
//   - scale from the named range estimator ("mmse" default, "minmax", "percentile").
#pragma once

#include <string>

#include "aquant/core/tensor.h"
#include "aquant/quant/scheme.h"

namespace aquant::quant {

struct WeightQuantConfig {
    Granularity granularity = Granularity::kChannel;
    int block_size = 32;         // kBlock only
    std::string range = "mmse";  // range estimator name (range.h)
};

/// The scheme for `bits` (2..8) on a weight of rank `rank` whose output channels lie on
/// `channel_axis` (negative counts from the back). Blocks run along the other axis for rank-2
/// weights and along axis 1 (input channels) for convolutions.
QuantScheme weight_scheme(int bits, const WeightQuantConfig& cfg, int channel_axis, std::size_t rank);

/// Scale (and zero point 0) for the weight.
QuantParams weight_params(const Tensor& w, int bits, const WeightQuantConfig& cfg, int channel_axis);

/// Bits to store the weight at its true bit-width, scales included (fp32 scale per group).
double weight_size_bits(std::int64_t params, int bits, std::size_t num_groups);

}  // namespace aquant::quant
