// ONNX Split along `axis`: sizes from attribute `split` (opset < 13) or input 1 (opset >= 13);
// otherwise equal parts, one per output (opset 18 `num_outputs`: the last part may be smaller).
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <numeric>

namespace aquant::engine {
namespace {

class Split final : public Kernel {
public:
    Split(std::int64_t axis, std::vector<std::int64_t> split_attr, bool uneven)
        : axis_(axis), split_attr_(std::move(split_attr)), uneven_(uneven) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for rank " +
                     std::to_string(x.rank()));
        }
        const auto ax = static_cast<std::size_t>(axis);
        const std::int64_t len = x.dim(ax);
        const auto parts = static_cast<std::int64_t>(ctx.num_outputs());
        std::vector<std::int64_t> sizes = ctx.has_input(1) ? read_ints(ctx.input(1)) : split_attr_;
        if (sizes.empty()) {
            const std::int64_t each = uneven_ ? (len + parts - 1) / parts : len / parts;
            if (!uneven_ && each * parts != len) {
                ctx.fail("dim " + std::to_string(len) + " of axis " + std::to_string(axis) +
                         " does not split into " + std::to_string(parts) + " equal parts");
            }
            for (std::int64_t p = 0; p < parts; ++p) {
                sizes.push_back(std::clamp<std::int64_t>(len - p * each, 0, each));
            }
        }
        if (static_cast<std::int64_t>(sizes.size()) != parts ||
            std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}) != len) {
            ctx.fail("split sizes " + dims_str(sizes) + " do not cover dim " + std::to_string(len) +
                     " of axis " + std::to_string(axis) + " with " + std::to_string(parts) +
                     " outputs");
        }
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) {
            outer *= x.dim(d);
        }
        for (std::size_t d = ax + 1; d < x.rank(); ++d) {
            inner *= x.dim(d);
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* px = elems<T>(x);
            std::int64_t offset = 0;
            for (std::size_t p = 0; p < sizes.size(); ++p) {
                Dims d = x.dims();
                d[ax] = sizes[p];
                Tensor& y = ctx.allocate_output(p, x.dtype(), d);
                T* py = elems<T>(y);
                const std::int64_t block = sizes[p] * inner;
                for (std::int64_t o = 0; o < outer; ++o) {
                    const T* src = px + o * len * inner + offset;
                    std::copy(src, src + block, py + o * block);
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
    std::vector<std::int64_t> split_attr_;
    bool uneven_;
};

}  // namespace

void register_split(KernelRegistry& registry) {
    registry.add("Split", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (const ir::Attribute* a = n.find_attr("num_outputs")) {
            if (a->i != static_cast<std::int64_t>(n.outputs.size())) {
                info.fail("attribute 'num_outputs' is " + std::to_string(a->i) +
                          ", but the node has " + std::to_string(n.outputs.size()) + " outputs");
            }
        }
        return std::make_unique<Split>(n.attr_int("axis", 0), n.attr_ints("split"),
                                       info.opset >= 18);
    });
}

}  // namespace aquant::engine
