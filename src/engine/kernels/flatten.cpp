// ONNX Flatten: [d0..d(axis-1)] x [d(axis)..] as a 2-D view sharing the input's buffer.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Flatten final : public Kernel {
public:
    explicit Flatten(std::int64_t axis) : axis_(axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(x.rank());
        std::int64_t axis = axis_;
        if (axis < 0) {
            axis += rank;
        }
        if (axis < 0 || axis > rank) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for rank " +
                     std::to_string(rank));
        }
        std::int64_t outer = 1;
        for (std::int64_t d = 0; d < axis; ++d) {
            outer *= x.dim(static_cast<std::size_t>(d));
        }
        std::int64_t inner = 1;
        for (std::int64_t d = axis; d < rank; ++d) {
            inner *= x.dim(static_cast<std::size_t>(d));
        }
        ctx.set_output(0, x.reshaped({outer, inner}));
    }

private:
    std::int64_t axis_;
};

}  // namespace

void register_flatten(KernelRegistry& registry) {
    registry.add("Flatten", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Flatten>(info.node.attr_int("axis", 1));
    });
}

}  // namespace aquant::engine
