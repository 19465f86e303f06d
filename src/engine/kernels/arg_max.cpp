// ONNX ArgMax and ArgMin: int64 index of the first (or, with select_last_index, the last)
// extreme value along `axis`.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>

namespace aquant::engine {
namespace {

template <bool kMax>
class ArgExtreme final : public Kernel {
public:
    ArgExtreme(std::int64_t axis, bool keepdims, bool last)
        : axis_(axis), keepdims_(keepdims), last_(last) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for rank " +
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
        Dims out = x.dims();
        if (keepdims_) {
            out[ax] = 1;
        } else {
            out.erase(out.begin() + static_cast<std::ptrdiff_t>(ax));
        }
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, DType::kI64, out);
            const T* px = elems<T>(x);
            auto* py = elems<std::int64_t>(y);
            for (std::int64_t o = 0; o < outer; ++o) {
                for (std::int64_t i = 0; i < inner; ++i) {
                    const T* line = px + o * len * inner + i;
                    std::int64_t best = 0;
                    for (std::int64_t k = 1; k < len; ++k) {
                        const T v = line[k * inner], b = line[best * inner];
                        const bool better =
                            kMax ? (v > b || (last_ && v == b)) : (v < b || (last_ && v == b));
                        if (better) {
                            best = k;
                        }
                    }
                    py[o * inner + i] = best;
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t axis_;
    bool keepdims_, last_;
};

template <bool kMax>
KernelPtr make_arg(const KernelBuildInfo& info) {
    return std::make_unique<ArgExtreme<kMax>>(info.node.attr_int("axis", 0),
                                              info.node.attr_int("keepdims", 1) != 0,
                                              info.node.attr_int("select_last_index", 0) != 0);
}

}  // namespace

void register_arg_max(KernelRegistry& registry) {
    registry.add("ArgMax", make_arg<true>);
    registry.add("ArgMin", make_arg<false>);
}

}  // namespace aquant::engine
