// ONNX And, Or, Xor (broadcasting, bool) and Not.
#include "elementwise.h"

namespace aquant::engine {
namespace {

struct OpAnd {
    static bool eval(bool a, bool b) { return a && b; }
};

struct OpOr {
    static bool eval(bool a, bool b) { return a || b; }
};

struct OpXor {
    static bool eval(bool a, bool b) { return a != b; }
};

void check_bool(const KernelContext& ctx, std::size_t i) {
    if (ctx.input(i).dtype() != DType::kBool) {
        fail_type(ctx, i);
    }
}

template <typename Op>
class Logical final : public Kernel {
public:
    explicit Logical(std::int64_t legacy_axis) : legacy_axis_(legacy_axis) {}

    void run(KernelContext& ctx) const override {
        check_bool(ctx, 0);
        check_bool(ctx, 1);
        const Tensor& a = ctx.input(0);
        const Tensor b = legacy_broadcast_view(ctx, a, ctx.input(1), legacy_axis_);
        const BroadcastPlan plan = plan_binary(ctx, a, b);
        Tensor& y = ctx.allocate_output(0, DType::kBool, plan.out_dims);
        binary_broadcast<bool, bool, bool>(plan, a, b, y,
                                           [](bool x, bool z) { return Op::eval(x, z); });
    }

private:
    std::int64_t legacy_axis_;
};

class Not final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        check_bool(ctx, 0);
        const Tensor& x = ctx.input(0);
        Tensor& y = allocate_like(ctx, 0, x);
        const bool* px = elems<bool>(x);
        bool* py = elems<bool>(y);
        for (std::int64_t i = 0; i < x.numel(); ++i) {
            py[i] = !px[i];
        }
    }
};

template <typename Op>
KernelPtr make_logical(const KernelBuildInfo& info) {
    return std::make_unique<Logical<Op>>(legacy_broadcast_axis(info));
}

}  // namespace

void register_logical(KernelRegistry& registry) {
    registry.add("And", make_logical<OpAnd>);
    registry.add("Or", make_logical<OpOr>);
    registry.add("Xor", make_logical<OpXor>);
    registry.add("Not",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<Not>(); });
}

}  // namespace aquant::engine
