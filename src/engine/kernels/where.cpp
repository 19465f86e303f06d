// ONNX Where: out = condition ? X : Y with three-way numpy broadcasting; any element type.
#include "elementwise.h"

namespace aquant::engine {
namespace {

class Where final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& c = ctx.input(0);
        const Tensor& x = ctx.input(1);
        const Tensor& y = ctx.input(2);
        if (c.dtype() != DType::kBool) {
            fail_type(ctx, 0);
        }
        if (x.dtype() != y.dtype()) {
            ctx.fail("X and Y have different element types '" + std::string(dtype_name(x.dtype())) +
                     "' and '" + std::string(dtype_name(y.dtype())) + "'");
        }
        BroadcastPlan plan;
        if (!plan.make({&c.dims(), &x.dims(), &y.dims()})) {
            ctx.fail("inputs of shapes " + dims_str(c.dims()) + ", " + dims_str(x.dims()) +
                     " and " + dims_str(y.dims()) + " do not broadcast");
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& out = ctx.allocate_output(0, x.dtype(), plan.out_dims);
            const bool* pc = elems<bool>(c);
            const T* px = elems<T>(x);
            const T* py = elems<T>(y);
            T* po = elems<T>(out);
            const std::int64_t sc = plan.inner_stride(0);
            const std::int64_t sx = plan.inner_stride(1);
            const std::int64_t sy = plan.inner_stride(2);
            for_each_row<3>(plan, [&](std::int64_t o, const std::int64_t* offs, std::int64_t n) {
                for (std::int64_t i = 0; i < n; ++i) {
                    po[o + i] = pc[offs[0] + i * sc] ? px[offs[1] + i * sx] : py[offs[2] + i * sy];
                }
            });
        });
        if (!ok) {
            fail_type(ctx, 1);
        }
    }
};

}  // namespace

void register_where(KernelRegistry& registry) {
    registry.add("Where",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<Where>(); });
}

}  // namespace aquant::engine
