// ONNX Clip: bounds from attributes `min`/`max` (opset < 11, float only) or from optional scalar
// inputs 1 and 2 (opset >= 11, any numeric type). A missing bound does not clip.
#include "elementwise.h"

#include <algorithm>
#include <limits>
#include <optional>

namespace aquant::engine {
namespace {

class Clip final : public Kernel {
public:
    Clip(std::optional<float> min_attr, std::optional<float> max_attr)
        : min_attr_(min_attr), max_attr_(max_attr) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        for (std::size_t i = 1; i < 3; ++i) {
            if (ctx.has_input(i) && ctx.input(i).numel() != 1) {
                ctx.fail("input " + std::to_string(i) + ": expected a scalar bound, got shape " +
                         dims_str(ctx.input(i).dims()));
            }
            if (ctx.has_input(i) && ctx.input(i).dtype() != x.dtype()) {
                fail_type(ctx, i);
            }
        }
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            T lo = std::numeric_limits<T>::lowest();
            T hi = std::numeric_limits<T>::max();
            if (min_attr_) {
                lo = static_cast<T>(*min_attr_);
            }
            if (max_attr_) {
                hi = static_cast<T>(*max_attr_);
            }
            if (ctx.has_input(1)) {
                lo = elems<T>(ctx.input(1))[0];
            }
            if (ctx.has_input(2)) {
                hi = elems<T>(ctx.input(2))[0];
            }
            Tensor& y = allocate_like(ctx, 0, x);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            parallel_for(x.numel(), kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
                // min(max(x, lo), hi): with lo > hi every element becomes hi, as in ONNX.
                for (std::int64_t i = b; i < e; ++i) {
                    py[i] = std::min(std::max(px[i], lo), hi);
                }
            });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::optional<float> min_attr_, max_attr_;
};

}  // namespace

void register_clip(KernelRegistry& registry) {
    registry.add("Clip", [](const KernelBuildInfo& info) -> KernelPtr {
        std::optional<float> lo, hi;
        if (info.opset < 11) {
            if (info.node.find_attr("min")) {
                lo = info.node.attr_float("min", 0.0f);
            }
            if (info.node.find_attr("max")) {
                hi = info.node.attr_float("max", 0.0f);
            }
        }
        return std::make_unique<Clip>(lo, hi);
    });
}

}  // namespace aquant::engine
