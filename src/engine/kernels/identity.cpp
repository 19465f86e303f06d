// ONNX Identity and Dropout (inference, or training with ratio 0: the output is the input; the
// optional mask is all true). The output shares the input's buffer.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class Identity final : public Kernel {
public:
    void run(KernelContext& ctx) const override { ctx.set_output(0, ctx.input(0)); }
};

class Dropout final : public Kernel {
public:
    explicit Dropout(bool bool_mask) : bool_mask_(bool_mask) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const bool training =
            ctx.has_input(2) && ctx.input(2).numel() == 1 && ctx.input(2).get_f64(0) != 0.0;
        const bool zero_ratio =
            ctx.has_input(1) && ctx.input(1).numel() == 1 && ctx.input(1).get_f64(0) == 0.0;
        if (training && !zero_ratio) {
            // With ratio 0 training drops nothing (scale 1, mask all true): the inference result.
            ctx.fail("training_mode = true with a ratio above 0 draws a random mask; not supported "
                     "(inference engine)");
        }
        ctx.set_output(0, x);
        if (ctx.num_outputs() > 1) {
            if (bool_mask_) {
                Tensor& mask = ctx.allocate_output(1, DType::kBool, x.dims());
                bool* pm = elems<bool>(mask);
                for (std::int64_t i = 0; i < x.numel(); ++i) {
                    pm[i] = true;
                }
            } else {
                // Dropout-7..9: the mask has the input's type; ones.
                Tensor& mask = allocate_like(ctx, 1, x);
                if (!visit_type<AQUANT_FLOAT_TYPES>(x.dtype(), [&](auto tag) {
                        using T = typename decltype(tag)::type;
                        T* pm = elems<T>(mask);
                        for (std::int64_t i = 0; i < x.numel(); ++i) {
                            pm[i] = T(1);
                        }
                    })) {
                    fail_type(ctx, 0);
                }
            }
        }
    }

private:
    bool bool_mask_;
};

}  // namespace

void register_identity(KernelRegistry& registry) {
    registry.add("Identity",
                 [](const KernelBuildInfo&) -> KernelPtr { return std::make_unique<Identity>(); });
    registry.add("Dropout", [](const KernelBuildInfo& info) -> KernelPtr {
        if (info.opset < 7 && info.node.attr_int("is_test", 0) == 0) {
            info.fail(
                "attribute 'is_test' = 0 (training) is not supported by the inference engine");
        }
        return std::make_unique<Dropout>(info.opset >= 10);
    });
}

}  // namespace aquant::engine
