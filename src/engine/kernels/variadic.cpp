// ONNX Max, Min, Sum, Mean: any number of inputs, folded pairwise left to right with numpy
// broadcasting (opset < 8 required equal shapes, a special case).
#include "elementwise.h"

#include <algorithm>

namespace aquant::engine {
namespace {

struct OpMax {
    static constexpr bool kIntegers = true;

    template <typename T>
    static T eval(T a, T b) {
        return std::max(a, b);
    }
};

struct OpMin {
    static constexpr bool kIntegers = true;

    template <typename T>
    static T eval(T a, T b) {
        return std::min(a, b);
    }
};

struct OpSum {
    static constexpr bool kIntegers = false;

    template <typename T>
    static T eval(T a, T b) {
        return a + b;
    }
};

template <typename Op, bool kMean>
class Variadic final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& first = ctx.input(0);
        for (std::size_t i = 1; i < ctx.num_inputs(); ++i) {
            if (ctx.input(i).dtype() != first.dtype()) {
                ctx.fail("input " + std::to_string(i) + " has element type '" +
                         std::string(dtype_name(ctx.input(i).dtype())) + "', input 0 has '" +
                         std::string(dtype_name(first.dtype())) + "'");
            }
        }
        if (is_half(first.dtype())) {
            // float16/bfloat16: computed in float, rounded once at the end.
            std::vector<Tensor> wide;
            for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
                wide.push_back(cast_tensor(ctx, ctx.input(i), DType::kF32));
            }
            ctx.set_output(0, cast_tensor(ctx, fold<float>(ctx, wide), first.dtype()));
            return;
        }
        std::vector<Tensor> ins;
        for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
            ins.push_back(ctx.input(i));
        }
        bool ok;
        if constexpr (Op::kIntegers) {
            ok = visit_type<AQUANT_NUMERIC_TYPES>(first.dtype(), [&](auto t) {
                ctx.set_output(0, fold<typename decltype(t)::type>(ctx, ins));
            });
        } else {
            ok = visit_type<AQUANT_FLOAT_TYPES>(first.dtype(), [&](auto t) {
                ctx.set_output(0, fold<typename decltype(t)::type>(ctx, ins));
            });
        }
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    // Inputs are never written, so with one input the result may share its buffer.
    template <typename T>
    static Tensor fold(const KernelContext& ctx, const std::vector<Tensor>& ins) {
        Tensor acc = ins[0];
        for (std::size_t i = 1; i < ins.size(); ++i) {
            const BroadcastPlan plan = plan_binary(ctx, acc, ins[i]);
            Tensor next(acc.dtype(), plan.out_dims);
            binary_broadcast<T, T, T>(plan, acc, ins[i], next,
                                      [](T x, T y) { return Op::eval(x, y); });
            acc = std::move(next);
        }
        if constexpr (kMean) {
            Tensor mean(acc.dtype(), acc.dims());
            const T* pa = elems<T>(acc);
            T* pm = elems<T>(mean);
            const T n = static_cast<T>(ins.size());
            parallel_for(acc.numel(), kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) {
                    pm[i] = pa[i] / n;
                }
            });
            return mean;
        }
        return acc;
    }
};

template <typename Op, bool kMean = false>
KernelPtr make_variadic(const KernelBuildInfo& info) {
    if (info.node.num_inputs() == 0) {
        info.fail("expected at least one input, got 0");
    }
    return std::make_unique<Variadic<Op, kMean>>();
}

}  // namespace

void register_variadic(KernelRegistry& registry) {
    registry.add("Max", make_variadic<OpMax>);
    registry.add("Min", make_variadic<OpMin>);
    registry.add("Sum", make_variadic<OpSum>);
    registry.add("Mean", make_variadic<OpSum, true>);
}

}  // namespace aquant::engine
