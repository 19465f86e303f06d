// ONNX TopK: the k largest (or smallest) values along `axis` and their int64 indices; sorted
// output, ties broken by the lower index (as ONNX Runtime).
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <numeric>

namespace aquant::engine {
namespace {

class TopK final : public Kernel {
public:
    TopK(std::int64_t axis, bool largest, std::int64_t k_attr)
        : axis_(axis), largest_(largest), k_attr_(k_attr) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const std::int64_t k = ctx.has_input(1) ? read_ints(ctx.input(1)).at(0) : k_attr_;
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range");
        }
        const auto ax = static_cast<std::size_t>(axis);
        const std::int64_t len = x.dim(ax);
        if (k < 0 || k > len) {
            ctx.fail("k = " + std::to_string(k) + " is out of range for axis size " +
                     std::to_string(len));
        }
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) {
            outer *= x.dim(d);
        }
        for (std::size_t d = ax + 1; d < x.rank(); ++d) {
            inner *= x.dim(d);
        }
        Dims out = x.dims();
        out[ax] = k;
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& values = ctx.allocate_output(0, x.dtype(), out);
            Tensor& indices = ctx.allocate_output(1, DType::kI64, out);
            const T* px = elems<T>(x);
            T* pv = elems<T>(values);
            auto* pi = elems<std::int64_t>(indices);
            std::vector<std::int64_t> order(static_cast<std::size_t>(len));
            for (std::int64_t o = 0; o < outer; ++o) {
                for (std::int64_t i = 0; i < inner; ++i) {
                    const T* line = px + o * len * inner + i;
                    std::iota(order.begin(), order.end(), 0);
                    std::stable_sort(order.begin(), order.end(),
                                     [&](std::int64_t a, std::int64_t b) {
                                         return largest_ ? line[a * inner] > line[b * inner]
                                                         : line[a * inner] < line[b * inner];
                                     });
                    for (std::int64_t j = 0; j < k; ++j) {
                        const std::int64_t dst = (o * k + j) * inner + i;
                        pi[dst] = order[static_cast<std::size_t>(j)];
                        pv[dst] = line[pi[dst] * inner];
                    }
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t axis_;
    bool largest_;
    std::int64_t k_attr_;
};

}  // namespace

void register_top_k(KernelRegistry& registry) {
    registry.add("TopK", [](const KernelBuildInfo& info) -> KernelPtr {
        // `sorted` = 0 allows any order, so the sorted result serves both.
        return std::make_unique<TopK>(info.node.attr_int("axis", -1),
                                      info.node.attr_int("largest", 1) != 0,
                                      info.node.attr_int("k", -1));
    });
}

}  // namespace aquant::engine
