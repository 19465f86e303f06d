// ONNX OneHot: out[..., k, ...] = values[1] where k == index (negative indices count from the
// end of depth), values[0] elsewhere; the new axis is `axis` (default -1, last).
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <cmath>

namespace aquant::engine {
namespace {

class OneHot final : public Kernel {
public:
    explicit OneHot(std::int64_t axis) : axis_(axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& idx = ctx.input(0);
        const Tensor& values = ctx.input(2);
        if (values.numel() != 2) {
            ctx.fail("values: expected 2 elements, got " + dims_str(values.dims()));
        }
        const auto depth = static_cast<std::int64_t>(ctx.input(1).get_f64(0));
        const auto out_rank = static_cast<std::int64_t>(idx.rank()) + 1;
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, out_rank)) {
            ctx.fail("attribute 'axis' is out of range");
        }
        Dims out = idx.dims();
        out.insert(out.begin() + axis, depth);
        std::int64_t outer = 1, inner = 1;
        for (std::int64_t d = 0; d < axis; ++d) {
            outer *= idx.dim(static_cast<std::size_t>(d));
        }
        for (std::size_t d = static_cast<std::size_t>(axis); d < idx.rank(); ++d) {
            inner *= idx.dim(d);
        }
        const bool ok = visit_by_size(values.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T off = elems<T>(values)[0], on = elems<T>(values)[1];
            Tensor& y = ctx.allocate_output(0, values.dtype(), out);
            T* py = elems<T>(y);
            for (std::int64_t i = 0; i < y.numel(); ++i) {
                py[i] = off;
            }
            for (std::int64_t o = 0; o < outer; ++o) {
                for (std::int64_t i = 0; i < inner; ++i) {
                    auto k = static_cast<std::int64_t>(idx.get_f64(o * inner + i));  // truncates
                    if (k < 0) {
                        k += depth;
                    }
                    if (k >= 0 && k < depth) {
                        py[(o * depth + k) * inner + i] = on;
                    }
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 2);
        }
    }

private:
    std::int64_t axis_;
};

}  // namespace

void register_one_hot(KernelRegistry& registry) {
    registry.add("OneHot", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<OneHot>(info.node.attr_int("axis", -1));
    });
}

}  // namespace aquant::engine
