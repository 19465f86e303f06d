// Bias quantization for QDQ export (weights: aquant/quant/weight.h, shared with the
// sensitivity estimators).
// - Bias: int32 with scale s_in * s_w (per output channel when the weight is), zero point 0,
//   q = saturate_int32(round_half_even(b / scale)) with one float32 division, as ONNX Runtime's
//   quantizer computes it.
#pragma once

#include <cstdint>
#include <vector>

#include "aquant/core/tensor.h"

namespace aquant::qdq {

struct QuantizedBias {
    Tensor codes;              // kI32, dims of the bias
    std::vector<float> scale;  // one per element of `codes` when per channel, else one
};

/// Bias of M elements with input scale `input_scale` and one or M weight scales. Returns an
/// empty result (codes undefined) when a product scale is not a positive normal float.
QuantizedBias quantize_bias(const Tensor& bias, float input_scale,
                            const std::vector<float>& weight_scales);

}  // namespace aquant::qdq
