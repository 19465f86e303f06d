// ONNX Add, Sub, Mul, Div, Mod: numpy broadcasting over one element type (binary_broadcast).
#include "elementwise.h"

#include <cmath>
#include <type_traits>

namespace aquant::engine {
namespace {

struct OpAdd {
    template <typename T>
    static T eval(T a, T b) {
        return static_cast<T>(a + b);
    }
};

struct OpSub {
    template <typename T>
    static T eval(T a, T b) {
        return static_cast<T>(a - b);
    }
};

struct OpMul {
    template <typename T>
    static T eval(T a, T b) {
        return static_cast<T>(a * b);
    }
};

struct OpDiv {
    template <typename T>
    static T eval(T a, T b) {
        if constexpr (std::is_integral_v<T>) {
            if (b == T(0)) {
                return T(0);  // integer division by zero is undefined; no trap
            }
        }
        return static_cast<T>(a / b);
    }
};

// Mod with fmod = 0: the result takes the sign of the divisor (Python %); integers only.
struct OpMod {
    template <typename T>
    static T eval(T a, T b) {
        if constexpr (std::is_floating_point_v<T>) {
            return std::fmod(a, b);
        } else {
            if (b == T(0)) {
                return T(0);
            }
            T r = static_cast<T>(a % b);
            if constexpr (std::is_signed_v<T>) {
                if (r != 0 && ((r < 0) != (b < 0))) {
                    r = static_cast<T>(r + b);
                }
            }
            return r;
        }
    }
};

struct OpFmod {
    template <typename T>
    static T eval(T a, T b) {
        if constexpr (std::is_floating_point_v<T>) {
            return std::fmod(a, b);
        } else {
            return b == T(0) ? T(0) : static_cast<T>(a % b);
        }
    }
};

template <typename Op>
class Binary final : public Kernel {
public:
    explicit Binary(std::int64_t legacy_axis) : legacy_axis_(legacy_axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& a = ctx.input(0);
        const Tensor b = legacy_broadcast_view(ctx, a, ctx.input(1), legacy_axis_);
        if (a.dtype() != b.dtype()) {
            ctx.fail("inputs have different element types '" + std::string(dtype_name(a.dtype())) +
                     "' and '" + std::string(dtype_name(b.dtype())) + "'");
        }
        const BroadcastPlan plan = plan_binary(ctx, a, b);
        if (is_half(a.dtype())) {
            // float16/bfloat16: computed in float, rounded once at the end.
            Tensor y(DType::kF32, plan.out_dims);
            binary_broadcast<float, float, float>(plan, cast_tensor(ctx, a, DType::kF32),
                                                  cast_tensor(ctx, b, DType::kF32), y,
                                                  [](float x, float z) { return Op::eval(x, z); });
            ctx.set_output(0, cast_tensor(ctx, y, a.dtype()));
            return;
        }
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES>(a.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output_uninit(0, a.dtype(), plan.out_dims);
            binary_broadcast<T, T, T>(plan, a, b, y, [](T x, T z) { return Op::eval(x, z); });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t legacy_axis_;
};

template <typename Op>
KernelPtr make_binary(const KernelBuildInfo& info) {
    return std::make_unique<Binary<Op>>(legacy_broadcast_axis(info));
}

}  // namespace

void register_binary(KernelRegistry& registry) {
    registry.add("Add", make_binary<OpAdd>);
    registry.add("Sub", make_binary<OpSub>);
    registry.add("Mul", make_binary<OpMul>);
    registry.add("Div", make_binary<OpDiv>);
    registry.add("Mod", [](const KernelBuildInfo& info) -> KernelPtr {
        const std::int64_t fmod = info.node.attr_int("fmod", 0);
        if (fmod != 0 && fmod != 1) {
            info.fail("attribute 'fmod': expected 0 or 1, got " + std::to_string(fmod));
        }
        if (fmod == 1) {
            return std::make_unique<Binary<OpFmod>>(-1);
        }
        return std::make_unique<Binary<OpMod>>(-1);
    });
}

}  // namespace aquant::engine
