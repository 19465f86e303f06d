// ONNX GatherND (batch_dims) and ScatterND (reduction none/add/mul): the last index dim
// addresses a slice of the data; slices are copied whole.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <type_traits>

namespace aquant::engine {
namespace {

// Flat data offsets of the slices selected by `idx` (shape [..., q]) into data of shape `dims`,
// with the first `batch_dims` dims shared; also the slice size.
std::vector<std::int64_t> slice_offsets(const KernelContext& ctx, const Dims& dims,
                                        const Tensor& idx, std::int64_t batch_dims,
                                        std::int64_t& slice) {
    const auto r = static_cast<std::int64_t>(dims.size());
    const auto q = idx.rank() ? idx.dim(idx.rank() - 1) : 0;
    if (idx.rank() < 1 || batch_dims + q > r) {
        ctx.fail("indices of shape " + dims_str(idx.dims()) + " do not fit data of shape " +
                 dims_str(dims) + " with batch_dims " + std::to_string(batch_dims));
    }
    const std::vector<std::int64_t> strides = strides_of(dims);
    slice = 1;
    for (std::int64_t d = batch_dims + q; d < r; ++d) {
        slice *= dims[static_cast<std::size_t>(d)];
    }
    std::int64_t batch = 1;
    for (std::int64_t d = 0; d < batch_dims; ++d) {
        batch *= dims[static_cast<std::size_t>(d)];
    }
    const std::int64_t batch_stride =
        batch_dims ? strides[static_cast<std::size_t>(batch_dims - 1)] : 0;
    const std::vector<std::int64_t> ind = read_ints(idx);
    const std::int64_t tuples = dims_numel(Dims(idx.dims().begin(), idx.dims().end() - 1));
    const std::int64_t per_batch = batch ? tuples / batch : 0;
    std::vector<std::int64_t> offs(static_cast<std::size_t>(tuples));
    for (std::int64_t t = 0; t < tuples; ++t) {
        std::int64_t off = per_batch ? (t / per_batch) * batch_stride : 0;
        for (std::int64_t j = 0; j < q; ++j) {
            const std::size_t d = static_cast<std::size_t>(batch_dims + j);
            std::int64_t v = ind[static_cast<std::size_t>(t * q + j)];
            if (v < -dims[d] || v >= dims[d]) {
                ctx.fail("index " + std::to_string(v) + " is out of range for dim " +
                         std::to_string(d) + " of size " + std::to_string(dims[d]));
            }
            off += (v < 0 ? v + dims[d] : v) * strides[d];
        }
        offs[static_cast<std::size_t>(t)] = off;
    }
    return offs;
}

class GatherND final : public Kernel {
public:
    explicit GatherND(std::int64_t batch_dims) : batch_dims_(batch_dims) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        std::int64_t slice = 0;
        const auto offs = slice_offsets(ctx, x.dims(), idx, batch_dims_, slice);
        Dims out(idx.dims().begin(), idx.dims().end() - 1);
        const std::int64_t q = idx.dim(idx.rank() - 1);
        out.insert(out.end(), x.dims().begin() + batch_dims_ + q, x.dims().end());
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            for (std::size_t t = 0; t < offs.size(); ++t) {
                std::copy(px + offs[t], px + offs[t] + slice,
                          py + static_cast<std::int64_t>(t) * slice);
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t batch_dims_;
};

enum class Reduction { kNone, kAdd, kMul };

class ScatterND final : public Kernel {
public:
    explicit ScatterND(Reduction r) : reduction_(r) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        const Tensor& upd = ctx.input(2);
        std::int64_t slice = 0;
        const auto offs = slice_offsets(ctx, x.dims(), idx, 0, slice);
        if (upd.dtype() != x.dtype() ||
            upd.numel() != static_cast<std::int64_t>(offs.size()) * slice) {
            ctx.fail("updates of shape " + dims_str(upd.dims()) +
                     " do not match the indexed slices");
        }
        auto apply = [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), x.dims());
            std::copy(elems<T>(x), elems<T>(x) + x.numel(), elems<T>(y));
            T* py = elems<T>(y);
            const T* pu = elems<T>(upd);
            for (std::size_t t = 0; t < offs.size(); ++t) {
                for (std::int64_t e = 0; e < slice; ++e) {
                    T& dst = py[offs[t] + e];
                    const T v = pu[static_cast<std::int64_t>(t) * slice + e];
                    if constexpr (std::is_arithmetic_v<T>) {
                        dst = reduction_ == Reduction::kAdd   ? static_cast<T>(dst + v)
                              : reduction_ == Reduction::kMul ? static_cast<T>(dst * v)
                                                              : v;
                    } else {
                        dst = v;
                    }
                }
            }
        };
        const bool ok = reduction_ == Reduction::kNone
                            ? visit_by_size(x.dtype(), apply)
                            : visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), apply);
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    Reduction reduction_;
};

}  // namespace

void register_gather_nd(KernelRegistry& registry) {
    registry.add("GatherND", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<GatherND>(info.node.attr_int("batch_dims", 0));
    });
    registry.add("ScatterND", [](const KernelBuildInfo& info) -> KernelPtr {
        const std::string r = info.node.attr_string("reduction", "none");
        if (r != "none" && r != "add" && r != "mul") {
            info.fail("attribute 'reduction' '" + r + "' is not one of none, add, mul");
        }
        return std::make_unique<ScatterND>(r == "add"   ? Reduction::kAdd
                                           : r == "mul" ? Reduction::kMul
                                                        : Reduction::kNone);
    });
}

}  // namespace aquant::engine
