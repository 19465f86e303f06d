// ONNX GlobalAveragePool-1 (fp32): the mean over all spatial elements of each (n, c) plane,
// accumulated in double; output [N, C, 1, ...].
#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

class GlobalAveragePool final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        Dims out_dims = x.dims();
        for (std::size_t i = 2; i < out_dims.size(); ++i) out_dims[i] = 1;
        Tensor& y = ctx.allocate_output_uninit(0, DType::kF32, out_dims);
        const std::int64_t planes = x.dim(0) * x.dim(1);
        const std::int64_t inner = planes == 0 ? 0 : x.numel() / planes;
        const float* xp = x.data<float>();
        float* yp = y.data<float>();
        const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / (inner + 1));
        parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const float* p = xp + i * inner;
                double sum = 0.0;
                for (std::int64_t j = 0; j < inner; ++j) sum += p[j];
                yp[i] = static_cast<float>(sum / static_cast<double>(inner));
            }
        });
    }
};

}  // namespace

void register_global_average_pool(KernelRegistry& registry) {
    registry.add("GlobalAveragePool", [](const KernelBuildInfo&) -> KernelPtr {
        return std::make_unique<GlobalAveragePool>();
    });
}

}  // namespace aquant::engine
