// ONNX Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two dims.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Trilu final : public Kernel {
public:
    explicit Trilu(bool upper) : upper_(upper) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 2) {
            ctx.fail("expected rank >= 2, got shape " + dims_str(x.dims()));
        }
        const std::int64_t k = ctx.has_input(1) ? read_ints(ctx.input(1)).at(0) : 0;
        const std::int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
        const std::int64_t mats = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = allocate_like(ctx, 0, x);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            for (std::int64_t m = 0; m < mats; ++m) {
                for (std::int64_t i = 0; i < rows; ++i) {
                    for (std::int64_t j = 0; j < cols; ++j) {
                        const std::int64_t off = (m * rows + i) * cols + j;
                        const bool keep = upper_ ? j - i >= k : j - i <= k;
                        py[off] = keep ? px[off] : T{};
                    }
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    bool upper_;
};

}  // namespace

void register_trilu(KernelRegistry& registry) {
    registry.add("Trilu", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Trilu>(info.node.attr_int("upper", 1) != 0);
    });
}

}  // namespace aquant::engine
