// ONNX Equal, Less, Greater, LessOrEqual, GreaterOrEqual: broadcasting comparisons with a bool
// result.
#include "elementwise.h"

namespace aquant::engine {
namespace {

struct OpEqual {
    template <typename T>
    static bool eval(const T& a, const T& b) {
        return a == b;
    }
};

struct OpLess {
    template <typename T>
    static bool eval(const T& a, const T& b) {
        return a < b;
    }
};

struct OpGreater {
    template <typename T>
    static bool eval(const T& a, const T& b) {
        return a > b;
    }
};

struct OpLessOrEqual {
    template <typename T>
    static bool eval(const T& a, const T& b) {
        return a <= b;
    }
};

struct OpGreaterOrEqual {
    template <typename T>
    static bool eval(const T& a, const T& b) {
        return a >= b;
    }
};

template <typename Op>
class Compare final : public Kernel {
public:
    explicit Compare(std::int64_t legacy_axis) : legacy_axis_(legacy_axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& a = ctx.input(0);
        const Tensor b = legacy_broadcast_view(ctx, a, ctx.input(1), legacy_axis_);
        if (a.dtype() != b.dtype()) {
            ctx.fail("inputs have different element types '" + std::string(dtype_name(a.dtype())) +
                     "' and '" + std::string(dtype_name(b.dtype())) + "'");
        }
        const BroadcastPlan plan = plan_binary(ctx, a, b);
        auto apply = [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, DType::kBool, plan.out_dims);
            binary_broadcast<T, T, bool>(plan, a, b, y,
                                         [](const T& x, const T& z) { return Op::eval(x, z); });
        };
        if (a.dtype() == DType::kString) {
            apply(Tag<std::string>{});
            return;
        }
        if (!visit_type<AQUANT_NUMERIC_TYPES, bool>(a.dtype(), apply)) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t legacy_axis_;
};

template <typename Op>
KernelPtr make_compare(const KernelBuildInfo& info) {
    return std::make_unique<Compare<Op>>(legacy_broadcast_axis(info));
}

}  // namespace

void register_compare(KernelRegistry& registry) {
    registry.add("Equal", make_compare<OpEqual>);
    registry.add("Less", make_compare<OpLess>);
    registry.add("Greater", make_compare<OpGreater>);
    registry.add("LessOrEqual", make_compare<OpLessOrEqual>);
    registry.add("GreaterOrEqual", make_compare<OpGreaterOrEqual>);
}

}  // namespace aquant::engine
