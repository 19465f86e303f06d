// ONNX Concat along `axis` (negative allowed, opset 11). Any element type; inputs may be empty.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>

namespace aquant::engine {
namespace {

class Concat final : public Kernel {
public:
    explicit Concat(std::int64_t axis) : axis_(axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& first = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(first.rank());
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, rank)) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for rank " +
                     std::to_string(rank));
        }
        const auto ax = static_cast<std::size_t>(axis);
        Dims out = first.dims();
        out[ax] = 0;
        for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
            const Tensor& t = ctx.input(i);
            bool same = t.rank() == first.rank() && t.dtype() == first.dtype();
            for (std::size_t d = 0; same && d < t.rank(); ++d) {
                same = d == ax || t.dim(d) == first.dim(d);
            }
            if (!same) {
                ctx.fail("input " + std::to_string(i) + " of type " +
                         std::string(dtype_name(t.dtype())) + dims_str(t.dims()) +
                         " does not match input 0 of type " +
                         std::string(dtype_name(first.dtype())) + dims_str(first.dims()) +
                         " outside axis " + std::to_string(axis));
            }
            out[ax] += t.dim(ax);
        }
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) {
            outer *= out[d];
        }
        for (std::size_t d = ax + 1; d < out.size(); ++d) {
            inner *= out[d];
        }
        const std::int64_t out_block = out[ax] * inner;
        const bool ok = visit_by_size(first.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, first.dtype(), out);
            T* py = elems<T>(y);
            std::int64_t offset = 0;
            for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
                const Tensor& t = ctx.input(i);
                const std::int64_t block = t.dim(ax) * inner;
                const T* pt = elems<T>(t);
                for (std::int64_t o = 0; o < outer; ++o) {
                    std::copy(pt + o * block, pt + (o + 1) * block, py + o * out_block + offset);
                }
                offset += block;
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t axis_;
};

}  // namespace

void register_concat(KernelRegistry& registry) {
    registry.add("Concat", [](const KernelBuildInfo& info) -> KernelPtr {
        if (!info.node.find_attr("axis") && info.opset >= 4) {
            info.fail("attribute 'axis' is missing");
        }
        if (info.node.num_inputs() == 0) {
            info.fail("expected at least one input, got 0");
        }
        return std::make_unique<Concat>(info.node.attr_int("axis", 1));
    });
}

}  // namespace aquant::engine
