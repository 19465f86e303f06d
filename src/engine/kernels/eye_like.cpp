// ONNX EyeLike: a 2-D tensor of the input's shape with ones on diagonal k; element type from
// `dtype` (default: the input's).
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class EyeLike final : public Kernel {
public:
    EyeLike(std::optional<DType> dtype, std::int64_t k) : dtype_(dtype), k_(k) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.rank() != 2) {
            ctx.fail("expected a 2-D input, got shape " + dims_str(x.dims()));
        }
        const DType dt = dtype_ ? *dtype_ : x.dtype();
        Tensor& y = ctx.allocate_output(0, dt, x.dims());
        const bool ok = visit_type<AQUANT_NUMERIC_TYPES, bool>(dt, [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* py = elems<T>(y);
            for (std::int64_t i = 0; i < x.dim(0); ++i) {
                const std::int64_t j = i + k_;
                if (j >= 0 && j < x.dim(1)) {
                    py[i * x.dim(1) + j] = T(1);
                }
            }
        });
        if (!ok) {
            ctx.fail("element type '" + std::string(dtype_name(dt)) + "' is not supported");
        }
    }

private:
    std::optional<DType> dtype_;
    std::int64_t k_;
};

}  // namespace

void register_eye_like(KernelRegistry& registry) {
    registry.add("EyeLike", [](const KernelBuildInfo& info) -> KernelPtr {
        std::optional<DType> dt;
        if (info.node.find_attr("dtype")) {
            dt = dtype_from_code(static_cast<int>(info.node.attr_int("dtype", 1)));
            if (!dt) {
                info.fail("attribute 'dtype' is not a known element type");
            }
        }
        return std::make_unique<EyeLike>(dt, info.node.attr_int("k", 0));
    });
}

}  // namespace aquant::engine
