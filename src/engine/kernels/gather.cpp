// ONNX Gather along `axis`: out = data[..., indices, ...] with int32/int64 indices (negative
// ones count from the end). Any element type.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>

namespace aquant::engine {
namespace {

class Gather final : public Kernel {
public:
    explicit Gather(std::int64_t axis) : axis_(axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        if (idx.dtype() != DType::kI32 && idx.dtype() != DType::kI64) {
            fail_type(ctx, 1);
        }
        std::int64_t axis = axis_;
        if (!normalize_axis(axis, static_cast<std::int64_t>(x.rank()))) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for rank " +
                     std::to_string(x.rank()));
        }
        const auto ax = static_cast<std::size_t>(axis);
        const std::int64_t len = x.dim(ax);
        std::vector<std::int64_t> indices = read_ints(idx);
        for (std::int64_t& i : indices) {
            if (i < -len || i >= len) {
                ctx.fail("index " + std::to_string(i) + " is out of range for axis " +
                         std::to_string(axis) + " of size " + std::to_string(len));
            }
            if (i < 0) {
                i += len;
            }
        }
        Dims out(x.dims().begin(), x.dims().begin() + static_cast<std::ptrdiff_t>(ax));
        out.insert(out.end(), idx.dims().begin(), idx.dims().end());
        out.insert(out.end(), x.dims().begin() + static_cast<std::ptrdiff_t>(ax) + 1,
                   x.dims().end());
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) {
            outer *= x.dim(d);
        }
        for (std::size_t d = ax + 1; d < x.rank(); ++d) {
            inner *= x.dim(d);
        }
        const auto n = static_cast<std::int64_t>(indices.size());
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            for (std::int64_t o = 0; o < outer; ++o) {
                for (std::int64_t k = 0; k < n; ++k) {
                    const T* src = px + (o * len + indices[static_cast<std::size_t>(k)]) * inner;
                    std::copy(src, src + inner, py + (o * n + k) * inner);
                }
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

void register_gather(KernelRegistry& registry) {
    registry.add("Gather", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Gather>(info.node.attr_int("axis", 0));
    });
}

}  // namespace aquant::engine
