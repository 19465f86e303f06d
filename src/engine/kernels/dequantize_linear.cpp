// ONNX DequantizeLinear-10/13/19/21: y = (x - x_zero_point) * x_scale, per tensor, per axis or
// blocked (block_size). x: uint8, int8, uint16, int16, int32 (zero point 0), uint4, int4 (packed
// two per byte, low nibble first). The output type is the scale's (float32, or float16 from
// opset 19). The subtraction is exact (int64); the product is in float.
#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "quant_layout.h"

namespace aquant::engine {
namespace {

class DequantizeLinear final : public Kernel {
public:
    DequantizeLinear(std::int64_t axis, std::int64_t block_size)
        : axis_(axis), block_size_(block_size) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& scale = ctx.input(1);
        std::int64_t lo, hi;
        if (!quant_range(x.dtype(), &lo, &hi)) fail_type(ctx, 0);
        if (scale.dtype() != DType::kF32 && scale.dtype() != DType::kF16) fail_type(ctx, 1);
        const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
        if (zp && zp->dtype() != x.dtype()) {
            ctx.fail("input 2 (x_zero_point): type '" + std::string(dtype_name(zp->dtype())) +
                     "' differs from x type '" + std::string(dtype_name(x.dtype())) + "'");
        }
        QuantLayout l;
        const std::string err = resolve_quant_layout(x, scale, zp, axis_, block_size_, &l);
        if (!err.empty()) ctx.fail(err);
        std::vector<float> scales(static_cast<std::size_t>(scale.numel()));
        std::vector<std::int64_t> zps(static_cast<std::size_t>(scale.numel()), 0);
        for (std::int64_t i = 0; i < scale.numel(); ++i) {
            scales[static_cast<std::size_t>(i)] = scale_value(scale, i);
            if (zp) zps[static_cast<std::size_t>(i)] = quant_value(*zp, i);
        }
        if (x.dtype() == DType::kI32) {
            for (auto z : zps) {
                if (z != 0) ctx.fail("input 2 (x_zero_point): must be 0 for int32 input");
            }
        }
        const bool half = scale.dtype() == DType::kF16;
        Tensor& y = ctx.allocate_output(0, scale.dtype(), x.dims());
        if (x.numel() == 0) return;
        std::vector<float> tmp;
        float* out = half ? (tmp.resize(static_cast<std::size_t>(x.numel())), tmp.data())
                          : y.data<float>();
        if (dtype_is_4bit(x.dtype())) {
            for (std::int64_t row = 0, flat = 0; row < l.outer * l.axis_len; ++row) {
                const std::int64_t o = row / l.axis_len, a = row % l.axis_len;
                for (std::int64_t i = 0; i < l.inner; ++i, ++flat) {
                    const auto s = static_cast<std::size_t>(l.scale_index(o, a, i));
                    out[flat] = static_cast<float>(quant_value(x, flat) - zps[s]) * scales[s];
                }
            }
        } else {
            visit_type<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::int32_t>(
                x.dtype(), [&](auto tag) {
                    using T = typename decltype(tag)::type;
                    dequantize(x.data<T>(), l, scales, zps, out);
                });
        }
        if (half) {
            auto* h = y.data<std::uint16_t>();
            for (std::int64_t i = 0; i < x.numel(); ++i) h[i] = float_to_half(tmp[static_cast<std::size_t>(i)]);
        }
    }

private:
    template <typename T>
    static void dequantize(const T* x, const QuantLayout& l, const std::vector<float>& scales,
                           const std::vector<std::int64_t>& zps, float* out) {
        const std::int64_t rows = l.outer * l.axis_len;
        const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / l.inner);
        parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t row = begin; row < end; ++row) {
                const std::int64_t o = row / l.axis_len, a = row % l.axis_len;
                const std::int64_t base = row * l.inner;
                for (std::int64_t i = 0; i < l.inner; ++i) {
                    const auto s = static_cast<std::size_t>(
                        l.kind == QuantLayout::Kind::kBlocked ? l.scale_index(o, a, i)
                                                              : l.scale_index(o, a, 0));
                    out[base + i] =
                        static_cast<float>(static_cast<std::int64_t>(x[base + i]) - zps[s]) *
                        scales[s];
                }
            }
        });
    }

    std::int64_t axis_, block_size_;
};

}  // namespace

void register_dequantize_linear(KernelRegistry& registry) {
    registry.add("DequantizeLinear", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 2) info.fail("expected inputs x and x_scale");
        return std::make_unique<DequantizeLinear>(n.attr_int("axis", 1),
                                                  n.attr_int("block_size", 0));
    });
}

}  // namespace aquant::engine
