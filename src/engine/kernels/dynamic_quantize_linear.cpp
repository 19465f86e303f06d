// ONNX DynamicQuantizeLinear-11 (float32 x -> uint8 y, scalar y_scale and y_zero_point), as
// ONNX Runtime's CPU kernel computes it (float32 throughout):
//   lo = min(0, min(x)), hi = max(0, max(x))
//   y_scale = hi == lo ? 1 : (hi - lo) / 255
//   y_zero_point = round_half_even(clamp(0 - lo / y_scale, 0, 255))
//   y = saturate(round_half_even(x / y_scale) + y_zero_point)        (QuantizeLinear)
// The all-zero (or empty) input gives y_scale 1 as in ONNX Runtime; the ONNX reference
// implementation writes 1/255 there (no backend test covers the case). NaN inputs are skipped
// by the min/max and quantize to 0, as in ONNX Runtime on x86.
#include <algorithm>
#include <cmath>
#include <vector>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "aquant/quant/quantize.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

constexpr std::int64_t kChunk = 1 << 14;

class DynamicQuantizeLinear final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        const float* xv = x.data<float>();
        const std::int64_t n = x.numel();
        const std::int64_t chunks = (n + kChunk - 1) / kChunk;
        std::vector<float> lo(static_cast<std::size_t>(chunks), 0.0f), hi(lo);
        parallel_for(chunks, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t c = begin; c < end; ++c) {
                float l = 0.0f, h = 0.0f;  // the range always includes 0
                for (std::int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) {
                    l = std::min(l, xv[i]);  // NaN compares false and is skipped
                    h = std::max(h, xv[i]);
                }
                lo[static_cast<std::size_t>(c)] = l;
                hi[static_cast<std::size_t>(c)] = h;
            }
        });
        float min = 0.0f, max = 0.0f;
        for (std::int64_t c = 0; c < chunks; ++c) {
            min = std::min(min, lo[static_cast<std::size_t>(c)]);
            max = std::max(max, hi[static_cast<std::size_t>(c)]);
        }
        quant::RoundToNearestGuard guard;
        const float scale = max == min ? 1.0f : (max - min) / 255.0f;
        const float initial_zero_point = 0.0f - min / scale;
        const auto zero_point = static_cast<std::int32_t>(
            std::nearbyint(std::max(0.0f, std::min(255.0f, initial_zero_point))));

        Tensor& y = ctx.allocate_output(0, DType::kU8, x.dims());
        ctx.allocate_output(1, DType::kF32, {}).data<float>()[0] = scale;
        ctx.allocate_output(2, DType::kU8, {}).data<std::uint8_t>()[0] =
            static_cast<std::uint8_t>(zero_point);
        std::uint8_t* out = y.data<std::uint8_t>();
        parallel_for(chunks, 1, [&](std::int64_t begin, std::int64_t end) {
            quant::RoundToNearestGuard thread_guard;
            for (std::int64_t i = begin * kChunk; i < std::min(n, end * kChunk); ++i) {
                out[i] = static_cast<std::uint8_t>(
                    quant::quantize_value(xv[i], scale, zero_point, 0, 255));
            }
        });
    }
};

}  // namespace

void register_dynamic_quantize_linear(KernelRegistry& registry) {
    registry.add("DynamicQuantizeLinear", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.node.num_inputs() < 1) info.fail("expected input x");
        if (info.node.outputs.size() != 3) {
            info.fail("expected outputs y, y_scale and y_zero_point, got " +
                      std::to_string(info.node.outputs.size()));
        }
        return std::make_unique<DynamicQuantizeLinear>();
    });
}

}  // namespace aquant::engine
