// ONNX Reduce* ops: one template over an accumulator (init, add, finish). Axes from the
// attribute, or from input 1 (ReduceSum >= 13, the others >= 18); no axes reduces everything
// unless noop_with_empty_axes = 1. Float accumulates in double.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace aquant::engine {
namespace {

// Acc is double for floating T, int64 for integers.
template <typename T>
using AccOf = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

#define AQUANT_REDUCER(Name, init_expr, add_expr, finish_expr) \
    struct Name {                                              \
        template <typename T>                                  \
        static AccOf<T> init() {                               \
            using A = AccOf<T>;                                \
            return init_expr;                                  \
        }                                                      \
        template <typename T>                                  \
        static AccOf<T> add(AccOf<T> acc, T x) {               \
            using A = AccOf<T>;                                \
            const A v = static_cast<A>(x);                     \
            return add_expr;                                   \
        }                                                      \
        template <typename T>                                  \
        static T finish(AccOf<T> acc, std::int64_t n) {        \
            using A = AccOf<T>;                                \
            (void)n, (void)sizeof(A);                          \
            return static_cast<T>(finish_expr);                \
        }                                                      \
    };

AQUANT_REDUCER(RSum, A(0), acc + v, acc)
AQUANT_REDUCER(RMean, A(0), acc + v, n ? acc / static_cast<A>(n) : acc)
AQUANT_REDUCER(RMax, std::numeric_limits<A>::lowest(), std::max(acc, v), acc)
AQUANT_REDUCER(RMin, std::numeric_limits<A>::max(), std::min(acc, v), acc)
AQUANT_REDUCER(RProd, A(1), acc* v, acc)
AQUANT_REDUCER(RL1, A(0), acc + (v < A(0) ? -v : v), acc)
AQUANT_REDUCER(RL2, A(0), acc + v * v, std::sqrt(static_cast<double>(acc)))
AQUANT_REDUCER(RSumSquare, A(0), acc + v * v, acc)
AQUANT_REDUCER(RLogSum, A(0), acc + v, std::log(static_cast<double>(acc)))

template <typename R>
class Reduce final : public Kernel {
public:
    Reduce(std::vector<std::int64_t> axes, bool keepdims, bool noop, bool log_sum_exp)
        : axes_(std::move(axes)), keepdims_(keepdims), noop_(noop), log_sum_exp_(log_sum_exp) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(x.rank());
        std::vector<std::int64_t> axes = ctx.has_input(1) ? read_ints(ctx.input(1)) : axes_;
        if (axes.empty() && noop_) {
            ctx.set_output(0, x);
            return;
        }
        std::vector<bool> reduced(x.rank(), axes.empty());
        for (std::int64_t a : axes) {
            const std::int64_t given = a;
            if (!normalize_axis(a, rank)) {
                ctx.fail("axis " + std::to_string(given) + " is out of range for rank " +
                         std::to_string(rank));
            }
            reduced[static_cast<std::size_t>(a)] = true;
        }
        Dims out, kept_dims, red_dims;
        std::vector<std::int64_t> kept_strides, red_strides;
        const std::vector<std::int64_t> strides = strides_of(x.dims());
        for (std::size_t d = 0; d < x.rank(); ++d) {
            if (reduced[d]) {
                red_dims.push_back(x.dim(d));
                red_strides.push_back(strides[d]);
                if (keepdims_) {
                    out.push_back(1);
                }
            } else {
                kept_dims.push_back(x.dim(d));
                kept_strides.push_back(strides[d]);
                out.push_back(x.dim(d));
            }
        }
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            const std::int64_t n_out = y.numel();
            const std::int64_t n_red = dims_numel(red_dims);
            const std::int64_t grain =
                std::max<std::int64_t>(1, kElementwiseGrain / std::max<std::int64_t>(n_red, 1));
            parallel_for(n_out, grain, [&](std::int64_t b, std::int64_t e) {
                std::vector<std::int64_t> odometer(red_dims.size());
                for (std::int64_t o = b; o < e; ++o) {
                    py[o] = reduce_one<T>(px + offset_of(o, kept_dims, kept_strides), red_dims,
                                          red_strides, n_red, odometer);
                }
            });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    static std::int64_t offset_of(std::int64_t i, const Dims& dims,
                                  const std::vector<std::int64_t>& strides) {
        std::int64_t off = 0;
        for (std::size_t d = dims.size(); d-- > 0;) {
            off += (i % dims[d]) * strides[d];
            i /= dims[d];
        }
        return off;
    }

    // Reduced elements in row-major order of the reduced dims (`idx`: scratch of their rank).
    template <typename T>
    T reduce_one(const T* base, const Dims& dims, const std::vector<std::int64_t>& strides,
                 std::int64_t n, std::vector<std::int64_t>& idx) const {
        if (log_sum_exp_) {
            // log(sum(exp(x))) = m + log(sum(exp(x - m))) for stability.
            double m = -std::numeric_limits<double>::infinity();
            for (std::int64_t k = 0; k < n; ++k) {
                m = std::max(m, static_cast<double>(base[offset_of(k, dims, strides)]));
            }
            double s = 0;
            for (std::int64_t k = 0; k < n; ++k) {
                s += std::exp(static_cast<double>(base[offset_of(k, dims, strides)]) - m);
            }
            return static_cast<T>(std::isinf(m) ? m : m + std::log(s));
        }
        AccOf<T> acc = R::template init<T>();
        if (dims.size() == 1) {
            const std::int64_t s = strides[0];
            for (std::int64_t k = 0; k < n; ++k) acc = R::template add<T>(acc, base[k * s]);
            return R::template finish<T>(acc, n);
        }
        std::fill(idx.begin(), idx.end(), 0);
        std::int64_t off = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            acc = R::template add<T>(acc, base[off]);
            for (std::size_t d = dims.size(); d-- > 0;) {
                off += strides[d];
                if (++idx[d] < dims[d]) break;
                off -= dims[d] * strides[d];
                idx[d] = 0;
            }
        }
        return R::template finish<T>(acc, n);
    }

    std::vector<std::int64_t> axes_;
    bool keepdims_, noop_, log_sum_exp_;
};

template <typename R, bool kLogSumExp = false>
KernelPtr make_reduce(const KernelBuildInfo& info, std::int64_t axes_input_opset) {
    if (info.opset < axes_input_opset && info.node.has_input(1)) {
        info.fail("axes as input 1 needs opset " + std::to_string(axes_input_opset) +
                  ", model has " + std::to_string(info.opset));
    }
    return std::make_unique<Reduce<R>>(
        info.node.attr_ints("axes"), info.node.attr_int("keepdims", 1) != 0,
        info.node.attr_int("noop_with_empty_axes", 0) != 0, kLogSumExp);
}

template <typename R, bool kLogSumExp = false>
KernelFactory reduce_factory(std::int64_t axes_input_opset) {
    return [axes_input_opset](const KernelBuildInfo& info) {
        return make_reduce<R, kLogSumExp>(info, axes_input_opset);
    };
}

}  // namespace

void register_reduce(KernelRegistry& registry) {
    registry.add("ReduceSum", reduce_factory<RSum>(13));
    registry.add("ReduceMean", reduce_factory<RMean>(18));
    registry.add("ReduceMax", reduce_factory<RMax>(18));
    registry.add("ReduceMin", reduce_factory<RMin>(18));
    registry.add("ReduceProd", reduce_factory<RProd>(18));
    registry.add("ReduceL1", reduce_factory<RL1>(18));
    registry.add("ReduceL2", reduce_factory<RL2>(18));
    registry.add("ReduceSumSquare", reduce_factory<RSumSquare>(18));
    registry.add("ReduceLogSum", reduce_factory<RLogSum>(18));
    registry.add("ReduceLogSumExp", reduce_factory<RSum, true>(18));
}

}  // namespace aquant::engine
