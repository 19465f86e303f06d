#include "aquant/export/weight_quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "aquant/quant/metrics.h"
#include "aquant/quant/quantize.h"

namespace aquant::qdq {

quant::QuantScheme weight_scheme(int bits, quant::Granularity granularity, int block_size,
                                 const WeightLayout& layout) {
    quant::QuantScheme s;
    s.bits = bits;
    s.is_signed = true;
    s.symmetric = true;
    s.narrow_range = true;
    s.granularity = granularity;
    if (granularity == quant::Granularity::kChannel) s.axis = layout.channel_axis;
    if (granularity == quant::Granularity::kBlock) {
        s.axis = layout.reduction_axis;
        s.block_size = block_size;
    }
    quant::validate_scheme(s);
    return s;
}

namespace {

std::int64_t packed_bytes(std::int64_t n, int bits) { return (n * bits + 7) / 8; }

}  // namespace

QuantizedWeight quantize_weight(const Tensor& w, const quant::QuantScheme& scheme,
                                const quant::RangeEstimator& range, DType storage,
                                const quant::RangeOptions& options) {
    QuantizedWeight q;
    q.params = quant::estimate_params(w, scheme, range, options);
    q.codes = quant::quantize(w, q.params, storage);
    q.dequantized = quant::dequantize(q.codes, q.params);
    q.sqnr_db = quant::sqnr_db(w.data<float>(), q.dequantized.data<float>(), w.numel());
    const auto groups = static_cast<std::int64_t>(q.params.num_groups());
    const std::int64_t scale_bytes = 4 * groups;
    q.bytes_stored = static_cast<std::int64_t>(dtype_storage_bytes(storage, w.numel())) +
                     scale_bytes +
                     static_cast<std::int64_t>(dtype_storage_bytes(storage, groups));
    q.bytes_packed = packed_bytes(w.numel(), scheme.bits) + scale_bytes +
                     packed_bytes(groups, scheme.bits);
    return q;
}

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
