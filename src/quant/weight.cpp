#include "aquant/quant/weight.h"

#include "aquant/quant/range.h"

namespace aquant::quant {

QuantScheme weight_scheme(int bits, const WeightQuantConfig& cfg, int channel_axis,
                          std::size_t rank) {
    QuantScheme s;
    s.bits = bits;
    s.is_signed = true;
    s.symmetric = true;
    s.narrow_range = bits >= 2;
    s.granularity = cfg.granularity;
    const int axis = normalize_axis(channel_axis, rank);
    if (cfg.granularity == Granularity::kChannel) {
        s.axis = axis;
    } else if (cfg.granularity == Granularity::kBlock) {
        s.axis = rank == 2 ? 1 - axis : 1;
        s.block_size = cfg.block_size;
    }
    return s;
}

QuantParams weight_params(const Tensor& w, int bits, const WeightQuantConfig& cfg,
                          int channel_axis) {
    const QuantScheme s = weight_scheme(bits, cfg, channel_axis, w.rank());
    return estimate_params(w, s, range_estimator(cfg.range));
}

double weight_size_bits(std::int64_t params, int bits, std::size_t num_groups) {
    return static_cast<double>(params) * bits + 32.0 * static_cast<double>(num_groups);
}

}  // namespace aquant::quant
