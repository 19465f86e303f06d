#include "aquant/quant/weight.h"

#include "aquant/core/error.h"
#include "aquant/quant/metrics.h"
#include "aquant/quant/quantize.h"

namespace aquant::quant {

QuantScheme weight_scheme(int bits, const WeightQuantConfig& cfg, WeightAxes axes,
                          std::size_t rank) {
    QuantScheme s;
    s.bits = bits;
    s.is_signed = true;
    s.symmetric = true;
    s.narrow_range = true;
    s.granularity = cfg.granularity;
    if (cfg.granularity == Granularity::kChannel) {
        s.axis = normalize_axis(axes.channel, rank);
    } else if (cfg.granularity == Granularity::kBlock) {
        s.axis = normalize_axis(axes.reduction, rank);
        s.block_size = cfg.block_size;
    }
    validate_scheme(s);
    return s;
}

QuantParams weight_params(const Tensor& w, int bits, const WeightQuantConfig& cfg,
                          WeightAxes axes) {
    const QuantScheme s = weight_scheme(bits, cfg, axes, w.rank());
    return estimate_params(w, s, range_estimator(cfg.range), cfg.range_options);
}

namespace {

std::int64_t packed_bytes(std::int64_t n, int bits) { return (n * bits + 7) / 8; }

}  // namespace

QuantizedWeight quantize_weight(const Tensor& w, int bits, const WeightQuantConfig& cfg,
                                WeightAxes axes, DType storage) {
    if (storage != DType::kI8 && !(storage == DType::kI4 && bits <= 4)) {
        throw InternalError("quantize_weight: " + std::to_string(bits) + "-bit codes stored as " +
                            std::string(dtype_name(storage)));
    }
    QuantizedWeight q;
    q.params = weight_params(w, bits, cfg, axes);
    q.codes = quantize(w, q.params, storage);
    q.dequantized = dequantize(q.codes, q.params);
    q.sqnr_db = sqnr_db(w.data<float>(), q.dequantized.data<float>(), w.numel());
    const auto groups = static_cast<std::int64_t>(q.params.num_groups());
    const std::int64_t scale_bytes = 4 * groups;
    q.bytes_stored = static_cast<std::int64_t>(dtype_storage_bytes(storage, w.numel())) +
                     scale_bytes + static_cast<std::int64_t>(dtype_storage_bytes(storage, groups));
    q.bytes_packed = packed_bytes(w.numel(), bits) + scale_bytes + packed_bytes(groups, bits);
    return q;
}

double weight_size_bits(std::int64_t params, int bits, std::size_t num_groups) {
    return static_cast<double>(params) * bits + 32.0 * static_cast<double>(num_groups);
}

}  // namespace aquant::quant
