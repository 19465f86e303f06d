#include "aquant/export/weight_quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "aquant/quant/quantize.h"

namespace aquant::qdq {

QuantizedBias quantize_bias(const Tensor& bias, float input_scale,
                            const std::vector<float>& weight_scales) {
    QuantizedBias out;
    const std::vector<float> b = bias.to_f32();
    out.scale.reserve(weight_scales.size());
    for (float sw : weight_scales) {
        const float s = input_scale * sw;
        if (!(std::isfinite(s) && s >= std::numeric_limits<float>::min())) return {};
        out.scale.push_back(s);
    }
    quant::RoundToNearestGuard guard;
    std::vector<std::int32_t> codes(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) {
        const float s = out.scale.size() == 1 ? out.scale[0] : out.scale[i];
        const double v = std::nearbyint(static_cast<double>(b[i] / s));
        const double lo = std::numeric_limits<std::int32_t>::min();
        const double hi = std::numeric_limits<std::int32_t>::max();
        codes[i] = static_cast<std::int32_t>(std::isnan(v) ? 0.0 : std::clamp(v, lo, hi));
    }
    out.codes = Tensor::from_vector<std::int32_t>(bias.dims(), codes);
    return out;
}

}  // namespace aquant::qdq
