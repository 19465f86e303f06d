// ONNX InstanceNormalization-6 (fp32): for each (n, c),
//   y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c]
// with mean and (population) variance over the spatial elements, accumulated in double.
#include <cmath>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

class InstanceNormalization final : public Kernel {
public:
    explicit InstanceNormalization(float epsilon) : epsilon_(epsilon) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        for (std::size_t i = 0; i < 3; ++i) {
            if (ctx.input(i).dtype() != DType::kF32) fail_type(ctx, i);
        }
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        const std::int64_t n = x.dim(0), c = x.dim(1);
        for (std::size_t i = 1; i < 3; ++i) {
            if (ctx.input(i).numel() != c) {
                ctx.fail("input " + std::to_string(i) + ": expected " + std::to_string(c) +
                         " values, got " + dims_str(ctx.input(i).dims()));
            }
        }
        const std::int64_t inner = n * c == 0 ? 0 : x.numel() / (n * c);
        Tensor& y = ctx.allocate_output(0, DType::kF32, x.dims());
        const float* xp = x.data<float>();
        const float* scale = ctx.input(1).data<float>();
        const float* bias = ctx.input(2).data<float>();
        float* yp = y.data<float>();
        const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / (inner + 1));
        parallel_for(n * c, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const float* src = xp + i * inner;
                double sum = 0.0;
                for (std::int64_t j = 0; j < inner; ++j) sum += src[j];
                const double mean = inner > 0 ? sum / static_cast<double>(inner) : 0.0;
                double sq = 0.0;
                for (std::int64_t j = 0; j < inner; ++j) sq += (src[j] - mean) * (src[j] - mean);
                const double var = inner > 0 ? sq / static_cast<double>(inner) : 0.0;
                const std::int64_t ch = i % c;
                const float a = static_cast<float>(scale[ch] / std::sqrt(var + epsilon_));
                const float b = static_cast<float>(bias[ch] - mean * a);
                float* dst = yp + i * inner;
                for (std::int64_t j = 0; j < inner; ++j) dst[j] = src[j] * a + b;
            }
        });
    }

private:
    float epsilon_;
};

}  // namespace

void register_instance_normalization(KernelRegistry& registry) {
    registry.add("InstanceNormalization", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.node.num_inputs() != 3) {
            info.fail("expected 3 inputs (input, scale, B), got " +
                      std::to_string(info.node.num_inputs()));
        }
        return std::make_unique<InstanceNormalization>(info.node.attr_float("epsilon", 1e-5f));
    });
}

}  // namespace aquant::engine
