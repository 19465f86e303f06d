// ONNX Expand: broadcast the input to `shape` (bidirectionally: the output is the broadcast of
// both shapes). Any element type.
#include "broadcast.h"
#include "kernel_util.h"
#include "strided_copy.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Expand final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Dims shape = read_ints(ctx.input(1));
        const auto out = broadcast_dims({&x.dims(), &shape});
        if (!out) {
            ctx.fail("input of shape " + dims_str(x.dims()) + " does not broadcast to " +
                     dims_str(shape));
        }
        // Source strides over the output dims: 0 where the input is broadcast.
        const std::vector<std::int64_t> in_strides = strides_of(x.dims());
        const std::size_t pad = out->size() - x.rank();
        std::vector<std::int64_t> src_strides(out->size(), 0);
        for (std::size_t d = 0; d < x.rank(); ++d) {
            src_strides[pad + d] = x.dim(d) == 1 ? 0 : in_strides[d];
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), *out);
            strided_copy<T>(elems<T>(x), 0, *out, src_strides, elems<T>(y));
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }
};

}  // namespace

void register_expand(KernelRegistry& registry) {
    registry.add("Expand",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<Expand>(); });
}

}  // namespace aquant::engine
