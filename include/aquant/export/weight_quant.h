// Weight and bias quantization for QDQ export.
// - Weights: symmetric (zero point 0), narrow range as ONNX Runtime's quantizer does for
//   symmetric weights (codes in [-(2^(b-1) - 1), 2^(b-1) - 1], so 2^b - 1 levels: 255 at 8
//   bits, 15 at 4, 7 at 3, 3 at 2), per tensor, per output channel or per block along the
//   reduction axis (layer_rule.h). Codes are stored as INT8, or as packed INT4 for b <= 4
//   (2- and 3-bit codes use only their 2^b - 1 levels of the INT4 range).
// - Bias: int32 with scale s_in * s_w (per output channel when the weight is), zero point 0,
//   q = saturate_int32(round_half_even(b / scale)) with one float32 division, as ONNX Runtime's
//   quantizer computes it.
#pragma once

#include <cstdint>
#include <vector>

#include "aquant/core/tensor.h"
#include "aquant/export/layer_rule.h"
#include "aquant/quant/range.h"
#include "aquant/quant/scheme.h"

namespace aquant::qdq {

/// The weight scheme for `bits` (2..8) at the given granularity; block_size only for kBlock.
quant::QuantScheme weight_scheme(int bits, quant::Granularity granularity, int block_size,
                                 const WeightLayout& layout);

struct QuantizedWeight {
    quant::QuantParams params;
    Tensor codes;            // storage type (kI8 or packed kI4), dims of the weight
    Tensor dequantized;      // float32: DequantizeLinear of the stored codes
    double sqnr_db = 0;      // of `dequantized` against the float weight
    std::int64_t bytes_stored = 0;  // codes + scales + zero points as written
    std::int64_t bytes_packed = 0;  // the same at the true bit-width (codes packed to b bits)
};

/// Quantizes a float32 weight. `storage` is kI8 or kI4 (InternalError if the codes do not fit).
QuantizedWeight quantize_weight(const Tensor& w, const quant::QuantScheme& scheme,
                                const quant::RangeEstimator& range, DType storage,
                                const quant::RangeOptions& options = {});

struct QuantizedBias {
    Tensor codes;              // kI32, dims of the bias
    std::vector<float> scale;  // one per element of `codes` when per channel, else one
};

/// Bias of M elements with input scale `input_scale` and one or M weight scales. Returns an
/// empty result (codes undefined) when a product scale is not a positive normal float.
QuantizedBias quantize_bias(const Tensor& bias, float input_scale,
                            const std::vector<float>& weight_scales);

}  // namespace aquant::qdq
