// ONNX Slice: starts/ends/axes from attributes (opset < 10) or inputs 1..4 with steps
// (opset >= 10, negative steps walk backwards). Bounds are clamped as the spec says.
#include "kernel_util.h"
#include "strided_copy.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <limits>

namespace aquant::engine {
namespace {

struct SliceAttrs {
    std::vector<std::int64_t> starts, ends, axes;
};

class Slice final : public Kernel {
public:
    explicit Slice(SliceAttrs attrs) : attrs_(std::move(attrs)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(x.rank());
        const bool from_inputs = ctx.has_input(1);
        const std::vector<std::int64_t> starts =
            from_inputs ? read_ints(ctx.input(1)) : attrs_.starts;
        const std::vector<std::int64_t> ends =
            from_inputs ? (ctx.has_input(2) ? read_ints(ctx.input(2)) : std::vector<std::int64_t>{})
                        : attrs_.ends;
        std::vector<std::int64_t> axes =
            from_inputs ? (ctx.has_input(3) ? read_ints(ctx.input(3)) : std::vector<std::int64_t>{})
                        : attrs_.axes;
        std::vector<std::int64_t> steps =
            ctx.has_input(4) ? read_ints(ctx.input(4)) : std::vector<std::int64_t>{};
        if (axes.empty()) {
            for (std::size_t i = 0; i < starts.size(); ++i) {
                axes.push_back(static_cast<std::int64_t>(i));
            }
        }
        if (steps.empty()) {
            steps.assign(starts.size(), 1);
        }
        if (ends.size() != starts.size() || axes.size() != starts.size() ||
            steps.size() != starts.size()) {
            ctx.fail("starts, ends, axes and steps have different lengths (" +
                     std::to_string(starts.size()) + ", " + std::to_string(ends.size()) + ", " +
                     std::to_string(axes.size()) + ", " + std::to_string(steps.size()) + ")");
        }
        std::vector<std::int64_t> begin(x.rank(), 0), step(x.rank(), 1);
        Dims out = x.dims();
        std::vector<bool> seen(x.rank(), false);
        for (std::size_t i = 0; i < starts.size(); ++i) {
            std::int64_t a = axes[i];
            if (!normalize_axis(a, rank) || seen[static_cast<std::size_t>(a)]) {
                ctx.fail("axis " + std::to_string(axes[i]) +
                         " is out of range or repeated for rank " + std::to_string(rank));
            }
            const auto ax = static_cast<std::size_t>(a);
            seen[ax] = true;
            const std::int64_t dim = x.dim(ax);
            const std::int64_t st = steps[i];
            if (st == 0) {
                ctx.fail("step of axis " + std::to_string(axes[i]) + " is 0");
            }
            if (dim == 0) {
                out[ax] = 0;
                continue;
            }
            std::int64_t s = starts[i], e = ends[i];
            if (s < 0) {
                s += dim;
            }
            if (e < 0) {
                e += dim;
            }
            if (st > 0) {
                s = std::clamp<std::int64_t>(s, 0, dim);
                e = std::clamp<std::int64_t>(e, 0, dim);
            } else {
                s = std::clamp<std::int64_t>(s, 0, dim - 1);
                e = std::clamp<std::int64_t>(e, -1, dim - 1);
            }
            std::int64_t n = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
            n = std::max<std::int64_t>(n, 0);
            out[ax] = n;
            begin[ax] = n > 0 ? s : 0;
            step[ax] = st;
        }
        const std::vector<std::int64_t> in_strides = strides_of(x.dims());
        std::vector<std::int64_t> src_strides(x.rank());
        std::int64_t offset = 0;
        for (std::size_t d = 0; d < x.rank(); ++d) {
            offset += begin[d] * in_strides[d];
            src_strides[d] = in_strides[d] * step[d];
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            strided_copy<T>(elems<T>(x), offset, out, src_strides, elems<T>(y));
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    SliceAttrs attrs_;
};

}  // namespace

void register_slice(KernelRegistry& registry) {
    registry.add("Slice", [](const KernelBuildInfo& info) -> KernelPtr {
        SliceAttrs a;
        if (info.opset < 10) {
            a.starts = info.node.attr_ints("starts");
            a.ends = info.node.attr_ints("ends");
            a.axes = info.node.attr_ints("axes");
        } else if (!info.node.has_input(1) || !info.node.has_input(2)) {
            info.fail("inputs 1 'starts' and 2 'ends' are required");
        }
        return std::make_unique<Slice>(std::move(a));
    });
}

}  // namespace aquant::engine
