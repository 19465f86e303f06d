// ONNX Shape (start/end, opset 15) and Size: int64 outputs computed from the input's dims.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <optional>

namespace aquant::engine {
namespace {

class Shape final : public Kernel {
public:
    Shape(std::int64_t start, std::optional<std::int64_t> end) : start_(start), end_(end) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(x.rank());
        auto clamp = [&](std::int64_t v) {
            if (v < 0) {
                v += rank;
            }
            return std::clamp<std::int64_t>(v, 0, rank);
        };
        const std::int64_t b = clamp(start_);
        const std::int64_t e = end_ ? clamp(*end_) : rank;
        const std::int64_t n = std::max<std::int64_t>(0, e - b);
        Tensor& y = ctx.allocate_output(0, DType::kI64, {n});
        auto* py = elems<std::int64_t>(y);
        for (std::int64_t i = 0; i < n; ++i) {
            py[i] = x.dim(static_cast<std::size_t>(b + i));
        }
    }

private:
    std::int64_t start_;
    std::optional<std::int64_t> end_;
};

class Size final : public Kernel {
public:
    void run(KernelContext& ctx) const override {
        Tensor& y = ctx.allocate_output(0, DType::kI64, {});
        elems<std::int64_t>(y)[0] = ctx.input(0).numel();
    }
};

}  // namespace

void register_shape(KernelRegistry& registry) {
    registry.add("Shape", [](const KernelBuildInfo& info) -> KernelPtr {
        std::optional<std::int64_t> end;
        if (info.node.find_attr("end")) {
            end = info.node.attr_int("end", 0);
        }
        return std::make_unique<Shape>(info.node.attr_int("start", 0), end);
    });
    registry.add("Size",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<Size>(); });
}

}  // namespace aquant::engine
