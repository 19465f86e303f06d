// ONNX QuantizeLinear-10/13/19/21 (float32 or float16 input):
//   y = saturate(round_half_even(x / y_scale) + y_zero_point)
// per tensor, per axis or blocked (block_size). The output type is y_zero_point's, else the
// output_dtype attribute (opset 21), else uint8: uint8, int8, uint16, int16, int32, uint4 and int4
// (packed two per byte, low nibble first). The division is in float as ONNX Runtime; rounding is
// std::nearbyint under the default FE_TONEAREST mode; NaN maps to the zero point.
#include <cmath>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "quant_layout.h"

namespace aquant::engine {
namespace {

inline std::int64_t quantize_one(float x, float scale, std::int64_t zp, std::int64_t lo,
                                 std::int64_t hi) {
    const float q = std::nearbyint(x / scale);
    if (std::isnan(q)) return std::clamp(zp, lo, hi);
    const double v = static_cast<double>(q) + static_cast<double>(zp);
    if (v <= static_cast<double>(lo)) return lo;
    if (v >= static_cast<double>(hi)) return hi;
    return static_cast<std::int64_t>(v);
}

class QuantizeLinear final : public Kernel {
public:
    QuantizeLinear(std::int64_t axis, std::int64_t block_size, DType out_type)
        : axis_(axis), block_size_(block_size), out_type_(out_type) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& scale = ctx.input(1);
        if (x.dtype() != DType::kF32 && x.dtype() != DType::kF16) fail_type(ctx, 0);
        if (scale.dtype() != DType::kF32 && scale.dtype() != DType::kF16) fail_type(ctx, 1);
        const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
        const DType out_type = zp ? zp->dtype() : out_type_;
        std::int64_t lo, hi;
        if (!quant_range(out_type, &lo, &hi)) {
            ctx.fail("output type '" + std::string(dtype_name(out_type)) + "' is not supported");
        }
        QuantLayout l;
        const std::string err = resolve_quant_layout(x, scale, zp, axis_, block_size_, &l);
        if (!err.empty()) ctx.fail(err);
        Tensor& y = ctx.allocate_output(0, out_type, x.dims());
        if (x.numel() == 0) return;
        // Inputs as float (float16 widened), scales and zero points as flat arrays.
        std::vector<float> xbuf;
        const float* xf = nullptr;
        if (x.dtype() == DType::kF32) {
            xf = x.data<float>();
        } else {
            xbuf = x.to_f32();
            xf = xbuf.data();
        }
        std::vector<float> scales(static_cast<std::size_t>(scale.numel()));
        std::vector<std::int64_t> zps(static_cast<std::size_t>(scale.numel()), 0);
        for (std::int64_t i = 0; i < scale.numel(); ++i) {
            scales[static_cast<std::size_t>(i)] = scale_value(scale, i);
            if (zp) zps[static_cast<std::size_t>(i)] = quant_value(*zp, i);
        }
        auto value = [&](std::int64_t o, std::int64_t a, std::int64_t i, std::int64_t flat) {
            const auto s = static_cast<std::size_t>(l.scale_index(o, a, i));
            return quantize_one(xf[flat], scales[s], zps[s], lo, hi);
        };
        if (dtype_is_4bit(out_type)) {
            // Serial: neighbouring elements share a byte.
            auto* out = static_cast<std::uint8_t*>(y.raw());
            for (std::int64_t o = 0, flat = 0; o < l.outer; ++o) {
                for (std::int64_t a = 0; a < l.axis_len; ++a) {
                    for (std::int64_t i = 0; i < l.inner; ++i, ++flat) {
                        const auto nib = static_cast<std::uint8_t>(value(o, a, i, flat) & 0x0F);
                        std::uint8_t& byte = out[flat / 2];
                        byte = flat % 2 == 0 ? static_cast<std::uint8_t>((byte & 0xF0) | nib)
                                             : static_cast<std::uint8_t>((byte & 0x0F) | (nib << 4));
                    }
                }
            }
            return;
        }
        visit_type<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::int32_t>(
            out_type, [&](auto tag) {
                using T = typename decltype(tag)::type;
                T* out = y.data<T>();
                const std::int64_t rows = l.outer * l.axis_len;
                const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / l.inner);
                parallel_for(rows, grain, [&](std::int64_t begin, std::int64_t end) {
                    for (std::int64_t row = begin; row < end; ++row) {
                        const std::int64_t o = row / l.axis_len, a = row % l.axis_len;
                        const std::int64_t base = row * l.inner;
                        if (l.kind != QuantLayout::Kind::kBlocked) {
                            const auto s = static_cast<std::size_t>(l.scale_index(o, a, 0));
                            const float sc = scales[s];
                            const std::int64_t z = zps[s];
                            for (std::int64_t i = 0; i < l.inner; ++i) {
                                out[base + i] = static_cast<T>(quantize_one(xf[base + i], sc, z, lo, hi));
                            }
                        } else {
                            for (std::int64_t i = 0; i < l.inner; ++i) {
                                out[base + i] = static_cast<T>(value(o, a, i, base + i));
                            }
                        }
                    }
                });
            });
    }

private:
    std::int64_t axis_, block_size_;
    DType out_type_;
};

}  // namespace

void register_quantize_linear(KernelRegistry& registry) {
    registry.add("QuantizeLinear", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 2) info.fail("expected inputs x and y_scale");
        if (n.attr_int("saturate", 1) != 1) {
            info.fail("attribute 'saturate' = 0 applies to float8 outputs, which are not supported");
        }
        DType out_type = DType::kU8;
        const std::int64_t code = n.attr_int("output_dtype", 0);
        if (code != 0) {
            const auto dt = dtype_from_code(static_cast<int>(code));
            std::int64_t lo, hi;
            if (!dt || !quant_range(*dt, &lo, &hi)) {
                info.fail("attribute 'output_dtype': type code " + std::to_string(code) +
                          " is not supported");
            }
            out_type = *dt;
        }
        return std::make_unique<QuantizeLinear>(n.attr_int("axis", 1), n.attr_int("block_size", 0),
                                                out_type);
    });
}

}  // namespace aquant::engine
