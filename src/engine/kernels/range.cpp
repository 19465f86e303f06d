// ONNX Range: start, start + delta, ... while < limit (> limit for a negative delta);
// n = max(ceil((limit - start) / delta), 0).
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <cmath>

namespace aquant::engine {
namespace {

class Range final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        for (std::size_t i = 0; i < 3; ++i) {
            if (ctx.input(i).numel() != 1 || ctx.input(i).dtype() != ctx.input(0).dtype()) {
                ctx.fail(
                    "input " + std::to_string(i) + ": expected a scalar of input 0's type, got " +
                    std::string(dtype_name(ctx.input(i).dtype())) + dims_str(ctx.input(i).dims()));
            }
        }
        const bool ok = visit_type<float, double, std::int16_t, std::int32_t, std::int64_t>(
            ctx.input(0).dtype(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                const T start = elems<T>(ctx.input(0))[0];
                const T limit = elems<T>(ctx.input(1))[0];
                const T delta = elems<T>(ctx.input(2))[0];
                if (delta == T(0)) {
                    ctx.fail("delta is 0");
                }
                const double count =
                    std::ceil((static_cast<double>(limit) - static_cast<double>(start)) /
                              static_cast<double>(delta));
                const auto n = static_cast<std::int64_t>(std::max(count, 0.0));
                Tensor& y = ctx.allocate_output(0, ctx.input(0).dtype(), {n});
                T* py = elems<T>(y);
                for (std::int64_t i = 0; i < n; ++i) {
                    py[i] = static_cast<T>(start + static_cast<T>(i) * delta);
                }
            });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }
};

}  // namespace

void register_range(KernelRegistry& registry) {
    registry.add("Range",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<Range>(); });
}

}  // namespace aquant::engine
