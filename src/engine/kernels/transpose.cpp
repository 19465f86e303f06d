// ONNX Transpose: perm (default: reversed dims). Any element type.
#include "kernel_util.h"
#include "strided_copy.h"

#include "aquant/engine/kernel_registry.h"

#include <numeric>

namespace aquant::engine {
namespace {

class Transpose final : public Kernel {
public:
    explicit Transpose(std::vector<std::int64_t> perm) : perm_(std::move(perm)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const auto rank = static_cast<std::int64_t>(x.rank());
        std::vector<std::int64_t> perm = perm_;
        if (perm.empty()) {
            perm.resize(static_cast<std::size_t>(rank));
            for (std::int64_t i = 0; i < rank; ++i) {
                perm[static_cast<std::size_t>(i)] = rank - 1 - i;
            }
        }
        if (static_cast<std::int64_t>(perm.size()) != rank) {
            ctx.fail("attribute 'perm' has " + std::to_string(perm.size()) +
                     " entries, expected rank " + std::to_string(rank));
        }
        const std::vector<std::int64_t> in_strides = strides_of(x.dims());
        Dims out_dims(perm.size());
        std::vector<std::int64_t> src_strides(perm.size());
        for (std::size_t k = 0; k < perm.size(); ++k) {
            const auto p = static_cast<std::size_t>(perm[k]);
            out_dims[k] = x.dim(p);
            src_strides[k] = in_strides[p];
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output_uninit(0, x.dtype(), out_dims);
            strided_copy<T>(elems<T>(x), 0, out_dims, src_strides, elems<T>(y));
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::vector<std::int64_t> perm_;
};

}  // namespace

void register_transpose(KernelRegistry& registry) {
    registry.add("Transpose", [](const KernelBuildInfo& info) -> KernelPtr {
        std::vector<std::int64_t> perm = info.node.attr_ints("perm");
        std::vector<std::int64_t> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t i = 0; i < sorted.size(); ++i) {
            if (sorted[i] != static_cast<std::int64_t>(i)) {
                info.fail("attribute 'perm' is not a permutation of 0.." +
                          std::to_string(sorted.size() - 1));
            }
        }
        return std::make_unique<Transpose>(std::move(perm));
    });
}

}  // namespace aquant::engine
