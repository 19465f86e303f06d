// ONNX CumSum along the axis given as input 1, with `exclusive` and `reverse`.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class CumSum final : public Kernel {
public:
    CumSum(bool exclusive, bool reverse) : exclusive_(exclusive), reverse_(reverse) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        std::int64_t axis = read_ints(ctx.input(1)).at(0);
        const std::int64_t given = axis;
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("axis " + std::to_string(given) + " is out of range for rank " +
                     std::to_string(x.rank()));
        }
        const auto ax = static_cast<std::size_t>(axis);
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) {
            outer *= x.dim(d);
        }
        for (std::size_t d = ax + 1; d < x.rank(); ++d) {
            inner *= x.dim(d);
        }
        const std::int64_t len = x.dim(ax);
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = allocate_like(ctx, 0, x);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            for (std::int64_t o = 0; o < outer; ++o) {
                for (std::int64_t i = 0; i < inner; ++i) {
                    T acc = T(0);
                    for (std::int64_t s = 0; s < len; ++s) {
                        const std::int64_t k = reverse_ ? len - 1 - s : s;
                        const std::int64_t off = (o * len + k) * inner + i;
                        if (exclusive_) {
                            py[off] = acc;
                            acc = static_cast<T>(acc + px[off]);
                        } else {
                            acc = static_cast<T>(acc + px[off]);
                            py[off] = acc;
                        }
                    }
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    bool exclusive_, reverse_;
};

}  // namespace

void register_cum_sum(KernelRegistry& registry) {
    registry.add("CumSum", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<CumSum>(info.node.attr_int("exclusive", 0) != 0,
                                        info.node.attr_int("reverse", 0) != 0);
    });
}

}  // namespace aquant::engine
