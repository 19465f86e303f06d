// ONNX NonZero: int64 [rank, count] coordinates of the non-zero elements, in row-major order.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class NonZero final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        std::vector<std::int64_t> hits;
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES, bool>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* px = elems<T>(x);
            for (std::int64_t i = 0; i < x.numel(); ++i) {
                if (px[i] != T(0)) {
                    hits.push_back(i);
                }
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
        const auto rank = static_cast<std::int64_t>(x.rank());
        const auto n = static_cast<std::int64_t>(hits.size());
        Tensor& y = ctx.allocate_output(0, DType::kI64, {rank, n});
        auto* py = elems<std::int64_t>(y);
        for (std::int64_t k = 0; k < n; ++k) {
            std::int64_t rem = hits[static_cast<std::size_t>(k)];
            for (std::int64_t d = rank; d-- > 0;) {
                py[d * n + k] = rem % x.dim(static_cast<std::size_t>(d));
                rem /= x.dim(static_cast<std::size_t>(d));
            }
        }
    }
};

}  // namespace

void register_non_zero(KernelRegistry& registry) {
    registry.add("NonZero",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<NonZero>(); });
}

}  // namespace aquant::engine
