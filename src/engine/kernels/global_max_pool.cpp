// ONNX GlobalMaxPool-1 (fp32): the maximum over all spatial elements of each (n, c) plane;
// output [N, C, 1, ...]. NaN propagates.
#include <cmath>
#include <limits>

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"

namespace aquant::engine {
namespace {

class GlobalMaxPool final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DType::kF32) fail_type(ctx, 0);
        if (x.rank() < 3) ctx.fail("input 0 (X): expected rank >= 3, got " + dims_str(x.dims()));
        Dims out_dims = x.dims();
        for (std::size_t i = 2; i < out_dims.size(); ++i) out_dims[i] = 1;
        Tensor& y = ctx.allocate_output(0, DType::kF32, out_dims);
        const std::int64_t planes = x.dim(0) * x.dim(1);
        const std::int64_t inner = planes == 0 ? 0 : x.numel() / planes;
        const float* xp = x.data<float>();
        float* yp = y.data<float>();
        const std::int64_t grain = std::max<std::int64_t>(1, kElementwiseGrain / (inner + 1));
        parallel_for(planes, grain, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t i = begin; i < end; ++i) {
                const float* p = xp + i * inner;
                float m = -std::numeric_limits<float>::infinity();
                bool nan = false;
                for (std::int64_t j = 0; j < inner; ++j) {
                    m = p[j] > m ? p[j] : m;
                    nan |= std::isnan(p[j]);
                }
                yp[i] = nan ? std::numeric_limits<float>::quiet_NaN() : m;
            }
        });
    }
};

}  // namespace

void register_global_max_pool(KernelRegistry& registry) {
    registry.add("GlobalMaxPool", [](const KernelBuildInfo&) -> KernelPtr {
        return std::make_unique<GlobalMaxPool>();
    });
}

}  // namespace aquant::engine
