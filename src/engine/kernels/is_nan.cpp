// ONNX IsNaN and IsInf (detect_negative / detect_positive): bool masks of float inputs.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <cmath>

namespace aquant::engine {
namespace {

class Classify final : public Kernel {
public:
    // nan: IsNaN; otherwise IsInf with the sign filters.
    Classify(bool nan, bool neg, bool pos) : nan_(nan), neg_(neg), pos_(pos) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        Tensor& y = ctx.allocate_output(0, DType::kBool, x.dims());
        bool* py = elems<bool>(y);
        const bool ok = visit_type<AQUANT_FLOAT_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* px = elems<T>(x);
            for (std::int64_t i = 0; i < x.numel(); ++i) {
                const T v = px[i];
                py[i] = nan_ ? std::isnan(v) : std::isinf(v) && (v < 0 ? neg_ : pos_);
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    bool nan_, neg_, pos_;
};

}  // namespace

void register_is_nan(KernelRegistry& registry) {
    registry.add("IsNaN", [](const KernelBuildInfo&) -> KernelPtr {
        return std::make_unique<Classify>(true, false, false);
    });
    registry.add("IsInf", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Classify>(false, info.node.attr_int("detect_negative", 1) != 0,
                                          info.node.attr_int("detect_positive", 1) != 0);
    });
}

}  // namespace aquant::engine
