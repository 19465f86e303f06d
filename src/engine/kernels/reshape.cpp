// ONNX Reshape: target shape from input 1 (opset >= 5) or attribute `shape` (opset < 5); 0 copies
// the input dim unless allowzero = 1 (opset 14), -1 is inferred. The output shares the input's
// buffer.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Reshape final : public Kernel {
public:
    Reshape(std::vector<std::int64_t> shape_attr, bool allowzero)
        : shape_attr_(std::move(shape_attr)), allowzero_(allowzero) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const std::vector<std::int64_t> shape =
            ctx.has_input(1) ? read_ints(ctx.input(1)) : shape_attr_;
        Dims out(shape.size());
        std::int64_t known = 1;
        int infer = -1;
        for (std::size_t i = 0; i < shape.size(); ++i) {
            std::int64_t d = shape[i];
            if (d == 0 && !allowzero_) {
                if (i >= x.rank()) {
                    ctx.fail("shape " + dims_str(shape) + ": 0 at position " + std::to_string(i) +
                             " has no input dim to copy (input shape " + dims_str(x.dims()) + ")");
                }
                d = x.dim(i);
            }
            if (d == -1) {
                if (infer >= 0) {
                    ctx.fail("shape " + dims_str(shape) + " has more than one -1");
                }
                infer = static_cast<int>(i);
                continue;
            }
            if (d < 0) {
                ctx.fail("shape " + dims_str(shape) + " has a negative dim");
            }
            out[i] = d;
            known *= d;
        }
        if (infer >= 0) {
            if (known == 0 || x.numel() % known != 0) {
                ctx.fail("cannot reshape " + dims_str(x.dims()) + " to " + dims_str(shape));
            }
            out[static_cast<std::size_t>(infer)] = x.numel() / known;
        }
        if (dims_numel(out) != x.numel()) {
            ctx.fail("cannot reshape " + dims_str(x.dims()) + " to " + dims_str(shape) +
                     ": element counts differ");
        }
        ctx.set_output(0, x.reshaped(out));
    }

private:
    std::vector<std::int64_t> shape_attr_;
    bool allowzero_;
};

}  // namespace

void register_reshape(KernelRegistry& registry) {
    registry.add("Reshape", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.opset >= 5 && !info.node.has_input(1)) {
            info.fail("input 1 'shape' is missing");
        }
        return std::make_unique<Reshape>(info.node.attr_ints("shape"),
                                         info.node.attr_int("allowzero", 0) != 0);
    });
}

}  // namespace aquant::engine
