// ONNX Squeeze and Unsqueeze: axes from the attribute (opset < 13) or input 1 (opset >= 13).
// Squeeze without axes drops every dim of size 1. Outputs share the input's buffer.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>

namespace aquant::engine {
namespace {

class Squeeze final : public Kernel {
public:
    explicit Squeeze(std::vector<std::int64_t> axes_attr) : axes_attr_(std::move(axes_attr)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(x.rank());
        std::vector<std::int64_t> axes = ctx.has_input(1) ? read_ints(ctx.input(1)) : axes_attr_;
        std::vector<bool> drop(x.rank(), false);
        if (axes.empty()) {
            for (std::size_t d = 0; d < x.rank(); ++d) {
                drop[d] = x.dim(d) == 1;
            }
        }
        for (std::int64_t a : axes) {
            const std::int64_t given = a;
            if (!normalize_axis(a, rank)) {
                ctx.fail("axis " + std::to_string(given) + " is out of range for rank " +
                         std::to_string(rank));
            }
            if (x.dim(static_cast<std::size_t>(a)) != 1) {
                ctx.fail("cannot squeeze axis " + std::to_string(given) + " of shape " +
                         dims_str(x.dims()) + ": dim is not 1");
            }
            drop[static_cast<std::size_t>(a)] = true;
        }
        Dims out;
        for (std::size_t d = 0; d < x.rank(); ++d) {
            if (!drop[d]) {
                out.push_back(x.dim(d));
            }
        }
        ctx.set_output(0, x.reshaped(out));
    }

private:
    std::vector<std::int64_t> axes_attr_;
};

class Unsqueeze final : public Kernel {
public:
    explicit Unsqueeze(std::vector<std::int64_t> axes_attr) : axes_attr_(std::move(axes_attr)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        std::vector<std::int64_t> axes = ctx.has_input(1) ? read_ints(ctx.input(1)) : axes_attr_;
        const auto out_rank = static_cast<std::int64_t>(x.rank() + axes.size());
        std::vector<bool> inserted(static_cast<std::size_t>(out_rank), false);
        for (std::int64_t a : axes) {
            const std::int64_t given = a;
            if (!normalize_axis(a, out_rank) || inserted[static_cast<std::size_t>(a)]) {
                ctx.fail("axis " + std::to_string(given) + " is out of range or repeated for " +
                         "output rank " + std::to_string(out_rank));
            }
            inserted[static_cast<std::size_t>(a)] = true;
        }
        Dims out;
        std::size_t next = 0;
        for (std::int64_t d = 0; d < out_rank; ++d) {
            out.push_back(inserted[static_cast<std::size_t>(d)] ? 1 : x.dim(next++));
        }
        ctx.set_output(0, x.reshaped(out));
    }

private:
    std::vector<std::int64_t> axes_attr_;
};

}  // namespace

void register_squeeze(KernelRegistry& registry) {
    registry.add("Squeeze", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Squeeze>(info.node.attr_ints("axes"));
    });
    registry.add("Unsqueeze", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.opset >= 13 && !info.node.has_input(1)) {
            info.fail("input 1 'axes' is missing");
        }
        if (info.opset < 13 && !info.node.find_attr("axes")) {
            info.fail("attribute 'axes' is missing");
        }
        return std::make_unique<Unsqueeze>(info.node.attr_ints("axes"));
    });
}

}  // namespace aquant::engine
