// Elementwise templates: a unary kernel over a table of scalar functions (ggml unary-ops style)
// and broadcasting binary loops. Each op is a tiny struct with `template <class T> T eval(...)`;
// the templates here do dispatch, allocation and parallel loops once for all of them.
#pragma once

#include "broadcast.h"
#include "kernel_util.h"

#include "aquant/core/parallel.h"
#include "aquant/engine/kernel.h"
#include "aquant/engine/kernel_registry.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace aquant::engine {

/// Attribute values of a unary op (alpha, beta, gamma in attribute-table order).
struct UnaryParams {
    float p[3] = {0.0f, 0.0f, 0.0f};
};

/// Which element types a unary op accepts.
enum class UnaryTypes { kFloat, kSigned, kNumeric };

/// Ops may add `static void array_f32(const float* x, float* y, std::int64_t n)`, a vectorised
/// float version (vector_math.h) that UnaryKernel then uses instead of `eval` for float.
template <typename Op, typename = void>
struct HasArrayF32 : std::false_type {};
template <typename Op>
struct HasArrayF32<Op, std::void_t<decltype(&Op::array_f32)>> : std::true_type {};

template <typename Op>
class UnaryKernel final : public Kernel {
public:
    explicit UnaryKernel(UnaryParams params) : params_(params) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        bool ok = false;
        if constexpr (Op::kTypes == UnaryTypes::kFloat) {
            ok = visit_type<AQUANT_FLOAT_TYPES>(x.dtype(), [&](auto tag) { apply(tag, ctx, x); });
        } else if constexpr (Op::kTypes == UnaryTypes::kSigned) {
            ok = visit_type<AQUANT_SIGNED_TYPES>(x.dtype(), [&](auto tag) { apply(tag, ctx, x); });
        } else {
            ok = visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), [&](auto tag) { apply(tag, ctx, x); });
        }
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    template <typename TagT>
    void apply(TagT, KernelContext& ctx, const Tensor& x) const {
        using T = typename TagT::type;
        Tensor& y = ctx.allocate_output_uninit(0, x.dtype(), x.dims());
        const T* px = elems<T>(x);
        T* py = elems<T>(y);
        const UnaryParams p = params_;
        parallel_for(x.numel(), kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
            if constexpr (std::is_same_v<T, float> && HasArrayF32<Op>::value) {
                Op::array_f32(px + b, py + b, e - b);
            } else {
                for (std::int64_t i = b; i < e; ++i) {
                    py[i] = Op::template eval<T>(px[i], p);
                }
            }
        });
    }

    UnaryParams params_;
};

/// One row of a unary-op table: ONNX op_type, up to three float attributes with defaults, and
/// the kernel maker for the op's scalar function.
struct UnaryRow {
    const char* op_type;

    struct Attr {
        const char* name;
        float def;
    };

    std::vector<Attr> attrs;
    KernelPtr (*make)(const UnaryParams&);
};

template <typename Op>
KernelPtr make_unary(const UnaryParams& p) {
    return std::make_unique<UnaryKernel<Op>>(p);
}

void register_unary_rows(KernelRegistry& registry, const std::vector<UnaryRow>& rows);

/// out[i] = f(a[i'], b[i'']) under numpy broadcasting; `out` must have plan.out_dims.
template <typename A, typename B, typename Out, typename F>
void binary_broadcast(const BroadcastPlan& plan, const Tensor& a, const Tensor& b, Tensor& out,
                      F f) {
    const A* pa = elems<A>(a);
    const B* pb = elems<B>(b);
    Out* po = elems<Out>(out);
    const std::int64_t sa = plan.inner_stride(0);
    const std::int64_t sb = plan.inner_stride(1);
    for_each_row<2>(plan, [&](std::int64_t o, const std::int64_t* offs, std::int64_t n) {
        const A* ra = pa + offs[0];
        const B* rb = pb + offs[1];
        Out* ro = po + o;
        if (sa == 1 && sb == 1) {
            for (std::int64_t i = 0; i < n; ++i) {
                ro[i] = f(ra[i], rb[i]);
            }
        } else if (sa == 0 && sb == 1) {
            const A va = ra[0];
            for (std::int64_t i = 0; i < n; ++i) {
                ro[i] = f(va, rb[i]);
            }
        } else if (sa == 1 && sb == 0) {
            const B vb = rb[0];
            for (std::int64_t i = 0; i < n; ++i) {
                ro[i] = f(ra[i], vb);
            }
        } else {
            for (std::int64_t i = 0; i < n; ++i) {
                ro[i] = f(ra[i * sa], rb[i * sb]);
            }
        }
    });
}

/// Opset < 7 broadcasting (`broadcast` = 1 with `axis`): B's dims align with A's starting at
/// `axis`. Returns the axis to align at, or -1 when numpy broadcasting gives the same result.
std::int64_t legacy_broadcast_axis(const KernelBuildInfo& info);
/// B viewed with A's rank for a legacy axis (pads ones before and after); `b` when axis < 0.
Tensor legacy_broadcast_view(const KernelContext& ctx, const Tensor& a, const Tensor& b,
                             std::int64_t axis);

/// Plans broadcasting of inputs 0 and 1, failing the node when the shapes do not broadcast.
BroadcastPlan plan_binary(const KernelContext& ctx, const Tensor& a, const Tensor& b);

}  // namespace aquant::engine
