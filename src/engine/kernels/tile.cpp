// ONNX Tile: out[i] = x[i mod dims(x)] with out dims = dims(x) * repeats. Any element type.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Tile final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const std::vector<std::int64_t> repeats = read_ints(ctx.input(1));
        if (repeats.size() != x.rank()) {
            ctx.fail("repeats has " + std::to_string(repeats.size()) + " values, input rank is " +
                     std::to_string(x.rank()));
        }
        Dims out(x.rank());
        for (std::size_t d = 0; d < x.rank(); ++d) {
            if (repeats[d] < 0) {
                ctx.fail("repeats " + dims_str(repeats) + " has a negative value");
            }
            out[d] = x.dim(d) * repeats[d];
        }
        const std::vector<std::int64_t> in_strides = strides_of(x.dims());
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            const std::int64_t n = y.numel();
            const std::size_t rank = out.size();
            parallel_for(n, kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) {
                    std::int64_t rem = i, off = 0;
                    for (std::size_t d = rank; d-- > 0;) {
                        off += ((rem % out[d]) % x.dim(d)) * in_strides[d];
                        rem /= out[d];
                    }
                    py[i] = px[off];
                }
            });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }
};

}  // namespace

void register_tile(KernelRegistry& registry) {
    registry.add("Tile", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.opset < 6) {
            info.fail("Tile-1 (tiles/axis inputs) is not supported; opset >= 6");
        }
        return std::make_unique<Tile>();
    });
}

}  // namespace aquant::engine
