// ONNX PRelu: y = x < 0 ? slope * x : x, with slope broadcast to x's shape (unidirectional).
#include "elementwise.h"

namespace aquant::engine {
namespace {

class PRelu final : public Kernel {
public:
    explicit PRelu(bool per_channel) : per_channel_(per_channel) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        Tensor slope = ctx.input(1);
        if (per_channel_ && slope.rank() == 1 && x.rank() >= 2 && slope.numel() == x.dim(1)) {
            // PRelu < 7: a 1-D slope holds one value per channel (axis 1).
            Dims d(x.rank() - 1, 1);
            d[0] = slope.numel();
            slope = slope.reshaped(d);
        }
        if (slope.dtype() != x.dtype()) {
            fail_type(ctx, 1);
        }
        const BroadcastPlan plan = plan_binary(ctx, x, slope);
        if (plan.out_dims != x.dims()) {
            ctx.fail("slope of shape " + dims_str(slope.dims()) +
                     " does not broadcast to X of shape " + dims_str(x.dims()));
        }
        const bool ok = visit_type<AQUANT_SIGNED_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = allocate_like(ctx, 0, x);
            binary_broadcast<T, T, T>(
                plan, x, slope, y, [](T v, T s) { return v < T(0) ? static_cast<T>(s * v) : v; });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    bool per_channel_;
};

}  // namespace

void register_prelu(KernelRegistry& registry) {
    registry.add("PRelu", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<PRelu>(info.opset < 7);
    });
}

}  // namespace aquant::engine
