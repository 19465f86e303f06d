// ONNX DepthToSpace (modes DCR, CRD) and SpaceToDepth on NCHW: both are a reshape to 6-D, a
// transpose and a reshape back, done as one strided copy.
#include "kernel_util.h"
#include "strided_copy.h"

#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

enum class Kind { kDepthToSpaceDcr, kDepthToSpaceCrd, kSpaceToDepth };

class Rearrange final : public Kernel {
public:
    Rearrange(Kind kind, std::int64_t block) : kind_(kind), b_(block) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        if (x.rank() != 4) {
            ctx.fail("expected rank 4 (NCHW), got shape " + dims_str(x.dims()));
        }
        const std::int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), b = b_;
        Dims view, out;
        std::vector<std::int64_t> perm;
        switch (kind_) {
            case Kind::kDepthToSpaceDcr:
                if (c % (b * b)) {
                    ctx.fail("channels " + std::to_string(c) + " not divisible by blocksize^2");
                }
                view = {n, b, b, c / (b * b), h, w};
                perm = {0, 3, 4, 1, 5, 2};
                out = {n, c / (b * b), h * b, w * b};
                break;
            case Kind::kDepthToSpaceCrd:
                if (c % (b * b)) {
                    ctx.fail("channels " + std::to_string(c) + " not divisible by blocksize^2");
                }
                view = {n, c / (b * b), b, b, h, w};
                perm = {0, 1, 4, 2, 5, 3};
                out = {n, c / (b * b), h * b, w * b};
                break;
            case Kind::kSpaceToDepth:
                if (h % b || w % b) {
                    ctx.fail("spatial dims not divisible by blocksize");
                }
                view = {n, c, h / b, b, w / b, b};
                perm = {0, 3, 5, 1, 2, 4};
                out = {n, c * b * b, h / b, w / b};
                break;
        }
        const std::vector<std::int64_t> vs = strides_of(view);
        Dims tdims(6);
        std::vector<std::int64_t> src(6);
        for (std::size_t k = 0; k < 6; ++k) {
            tdims[k] = view[static_cast<std::size_t>(perm[k])];
            src[k] = vs[static_cast<std::size_t>(perm[k])];
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            strided_copy<T>(elems<T>(x), 0, tdims, src, elems<T>(y));
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    Kind kind_;
    std::int64_t b_;
};

std::int64_t blocksize(const KernelBuildInfo& info) {
    const std::int64_t b = info.node.attr_int("blocksize", 0);
    if (b < 1) {
        info.fail("attribute 'blocksize' must be >= 1, got " + std::to_string(b));
    }
    return b;
}

}  // namespace

void register_depth_to_space(KernelRegistry& registry) {
    registry.add("DepthToSpace", [](const KernelBuildInfo& info) -> KernelPtr {
        const std::string mode = info.node.attr_string("mode", "DCR");
        if (mode != "DCR" && mode != "CRD") {
            info.fail("attribute 'mode' '" + mode + "' is not DCR or CRD");
        }
        return std::make_unique<Rearrange>(
            mode == "DCR" ? Kind::kDepthToSpaceDcr : Kind::kDepthToSpaceCrd, blocksize(info));
    });
    registry.add("SpaceToDepth", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<Rearrange>(Kind::kSpaceToDepth, blocksize(info));
    });
}

}  // namespace aquant::engine
