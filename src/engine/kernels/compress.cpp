// ONNX Compress: keeps the slices along `axis` (or the flattened input when absent) whose
// condition is true; a condition shorter than the axis drops the rest.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>

namespace aquant::engine {
namespace {

class Compress final : public Kernel {
public:
    explicit Compress(std::optional<std::int64_t> axis) : axis_(axis) {}

    void run(KernelContext& ctx) const override {
        Tensor x = ctx.input(0);
        const Tensor& cond = ctx.input(1);
        if (!axis_) {
            x = x.reshaped({x.numel()});
        }
        std::int64_t axis = axis_.value_or(0);
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("attribute 'axis' is out of range for shape " + dims_str(x.dims()));
        }
        const auto ax = static_cast<std::size_t>(axis);
        std::vector<std::int64_t> keep;
        for (std::int64_t i = 0; i < std::min(cond.numel(), x.dim(ax)); ++i) {
            if (cond.get_f64(i) != 0.0) {
                keep.push_back(i);
            }
        }
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) {
            outer *= x.dim(d);
        }
        for (std::size_t d = ax + 1; d < x.rank(); ++d) {
            inner *= x.dim(d);
        }
        Dims out = x.dims();
        out[ax] = static_cast<std::int64_t>(keep.size());
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            for (std::int64_t o = 0; o < outer; ++o) {
                for (std::size_t j = 0; j < keep.size(); ++j) {
                    const T* src = px + (o * x.dim(ax) + keep[j]) * inner;
                    std::copy(src, src + inner,
                              py + (o * out[ax] + static_cast<std::int64_t>(j)) * inner);
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::optional<std::int64_t> axis_;
};

}  // namespace

void register_compress(KernelRegistry& registry) {
    registry.add("Compress", [](const KernelBuildInfo& info) -> KernelPtr {
        std::optional<std::int64_t> axis;
        if (info.node.find_attr("axis")) {
            axis = info.node.attr_int("axis", 0);
        }
        return std::make_unique<Compress>(axis);
    });
}

}  // namespace aquant::engine
