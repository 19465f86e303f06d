// Scale / zero-point inputs of the integer kernels (QLinearConv, QLinearMatMul, ConvInteger,
// MatMulInteger, ai.aquant.QLinearGemm): read, validated, and turned into a qgemm output stage.
// Every check returns an error text naming the input ("input 4 (w_scale): expected 1 or 8
// values, got [3]"), or empty; kernels pass it to ctx.fail() / info.fail().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "aquant/core/tensor.h"
#include "qgemm.h"
#include "quant_layout.h"

namespace aquant::engine::qparams {

inline std::string input_label(std::size_t index, const char* name) {
    return "input " + std::to_string(index) + " (" + name + ")";
}

/// True for the 8-bit activation / weight types of the integer kernels.
inline bool is_8bit(DType t) { return t == DType::kU8 || t == DType::kI8; }

/// Scales of a scale input: float32 (or float16) values, each positive and finite, count 1 or
/// `per_channel` (0: only 1 allowed).
inline std::string read_scales(const Tensor& t, std::size_t index, const char* name,
                               std::int64_t per_channel, std::vector<float>* out) {
    const std::string where = input_label(index, name);
    if (t.dtype() != DType::kF32 && t.dtype() != DType::kF16) {
        return where + ": expected float scales, got '" + std::string(dtype_name(t.dtype())) + "'";
    }
    if (t.numel() != 1 && (per_channel == 0 || t.numel() != per_channel || t.rank() != 1)) {
        return where + ": expected " +
               (per_channel ? "1 or " + std::to_string(per_channel) + " values (1-D)"
                            : std::string("a scalar")) +
               ", got " + dims_str(t.dims());
    }
    out->resize(static_cast<std::size_t>(t.numel()));
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        const float s = scale_value(t, i);
        if (!(s > 0.0f) || !std::isfinite(s)) {
            return where + ": expected positive finite scales, got " + std::to_string(s) +
                   " at index " + std::to_string(i);
        }
        (*out)[static_cast<std::size_t>(i)] = s;
    }
    return "";
}

/// Zero points of type `type` (uint8 / int8), count 1 or `per_channel` (0: only 1). A null
/// tensor means a single 0.
inline std::string read_zero_points(const Tensor* t, std::size_t index, const char* name,
                                    DType type, std::int64_t per_channel,
                                    std::vector<std::int32_t>* out) {
    out->assign(1, 0);
    if (!t) return "";
    const std::string where = input_label(index, name);
    if (t->dtype() != type) {
        return where + ": expected type '" + std::string(dtype_name(type)) + "', got '" +
               std::string(dtype_name(t->dtype())) + "'";
    }
    if (t->numel() != 1 && (per_channel == 0 || t->numel() != per_channel)) {
        return where + ": expected " +
               (per_channel ? "1 or " + std::to_string(per_channel) + " values"
                            : std::string("a scalar")) +
               ", got " + dims_str(t->dims());
    }
    out->resize(static_cast<std::size_t>(t->numel()));
    for (std::int64_t i = 0; i < t->numel(); ++i) {
        (*out)[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(quant_value(*t, i));
    }
    return "";
}

/// Largest |v - zero_point| over the whole range of an 8-bit type.
inline std::int64_t max_abs_offset(DType type, std::int32_t zero_point) {
    const std::int64_t lo = type == DType::kU8 ? 0 : -128, hi = type == DType::kU8 ? 255 : 127;
    return std::max<std::int64_t>(zero_point - lo, hi - zero_point);
}

/// Multipliers (a_scale * b_scale[c]) / y_scale in float32, in ONNX Runtime's order.
inline std::vector<float> multipliers(float a_scale, const std::vector<float>& b_scale,
                                      float y_scale) {
    std::vector<float> m(b_scale.size());
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = a_scale * b_scale[i] / y_scale;
    return m;
}

/// The requantizing stage for output type `y_type` (uint8 / int8). `multiplier` must outlive it.
inline qgemm::OutputStage requant_stage(const std::vector<float>& multiplier,
                                        const std::int32_t* bias, std::int32_t y_zero_point,
                                        DType y_type) {
    qgemm::OutputStage s;
    s.requantize = true;
    s.bias = bias;
    s.multiplier = multiplier.data();
    s.per_channel = multiplier.size() > 1;
    s.zero_point = y_zero_point;
    const std::int32_t lo = y_type == DType::kU8 ? 0 : -128, hi = y_type == DType::kU8 ? 255 : 127;
    s.lo = static_cast<float>(lo - y_zero_point);
    s.hi = static_cast<float>(hi - y_zero_point);
    return s;
}

}  // namespace aquant::engine::qparams
