// ONNX Pow: base and exponent may have different element types (Pow-12); the result has the
// base's type. Computed in double, then converted, so integer powers are exact in range.
#include "elementwise.h"

#include <cmath>

namespace aquant::engine {
namespace {

class Pow final : public Kernel {
public:
    explicit Pow(std::int64_t legacy_axis) : legacy_axis_(legacy_axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& a = ctx.input(0);
        const Tensor b = legacy_broadcast_view(ctx, a, ctx.input(1), legacy_axis_);
        const BroadcastPlan plan = plan_binary(ctx, a, b);
        bool ok_b = true;
        const bool ok_a =
            visit_type<float, double, std::int32_t, std::int64_t>(a.dtype(), [&](auto ta) {
                using A = typename decltype(ta)::type;
                ok_b = visit_type<AQUANT_NUMERIC_TYPES>(b.dtype(), [&](auto tb) {
                    using B = typename decltype(tb)::type;
                    Tensor& y = ctx.allocate_output(0, a.dtype(), plan.out_dims);
                    binary_broadcast<A, B, A>(plan, a, b, y, [](A x, B e) {
                        return static_cast<A>(
                            std::pow(static_cast<double>(x), static_cast<double>(e)));
                    });
                });
            });
        if (!ok_a) {
            fail_type(ctx, 0);
        }
        if (!ok_b) {
            fail_type(ctx, 1);
        }
    }

private:
    std::int64_t legacy_axis_;
};

}  // namespace

void register_pow(KernelRegistry& registry) {
    registry.add("Pow", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Pow>(legacy_broadcast_axis(info));
    });
}

}  // namespace aquant::engine
