// ONNX GatherElements and ScatterElements (and the deprecated Scatter): index tensors with the
// data's rank; along `axis` the index replaces the position. ScatterElements-16 reductions
// add/mul (and max/min, opset 18) combine duplicates in index order.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <type_traits>

namespace aquant::engine {
namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

// Calls fn(index_flat, data_flat) for every element of `idx`, with data_flat the position in a
// tensor of shape `data_dims` that the index selects along `axis`. False on a bad index.
template <typename Fn>
bool for_each_index(const KernelContext& ctx, const Tensor& idx, const Dims& data_dims,
                    std::size_t axis, Fn&& fn) {
    const std::vector<std::int64_t> indices = read_ints(idx);
    const std::vector<std::int64_t> data_strides = strides_of(data_dims);
    const Dims& id = idx.dims();
    const std::int64_t len = data_dims[axis];
    for (std::int64_t i = 0; i < idx.numel(); ++i) {
        std::int64_t rem = i, off = 0;
        for (std::size_t d = id.size(); d-- > 0;) {
            const std::int64_t c = rem % id[d];
            rem /= id[d];
            if (d == axis) {
                std::int64_t v = indices[static_cast<std::size_t>(i)];
                if (v < -len || v >= len) {
                    ctx.fail("index " + std::to_string(v) + " is out of range for axis " +
                             std::to_string(axis) + " of size " + std::to_string(len));
                }
                off += (v < 0 ? v + len : v) * data_strides[d];
            } else {
                off += c * data_strides[d];
            }
        }
        fn(i, off);
    }
    return true;
}

std::size_t checked_axis(const KernelContext& ctx, std::int64_t axis, const Tensor& data,
                         const Tensor& idx) {
    const std::int64_t given = axis;
    if (!normalize_axis(axis, static_cast<std::int64_t>(data.rank())) ||
        idx.rank() != data.rank()) {
        ctx.fail("axis " + std::to_string(given) + " with data " + dims_str(data.dims()) +
                 " and indices " + dims_str(idx.dims()) + " is invalid");
    }
    return static_cast<std::size_t>(axis);
}

class GatherElements final : public Kernel {
public:
    explicit GatherElements(std::int64_t axis) : axis_(axis) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        const std::size_t axis = checked_axis(ctx, axis_, x, idx);
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), idx.dims());
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            for_each_index(ctx, idx, x.dims(), axis,
                           [&](std::int64_t i, std::int64_t off) { py[i] = px[off]; });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    std::int64_t axis_;
};

class ScatterElements final : public Kernel {
public:
    ScatterElements(std::int64_t axis, Reduction r) : axis_(axis), reduction_(r) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        const Tensor& upd = ctx.input(2);
        const std::size_t axis = checked_axis(ctx, axis_, x, idx);
        if (upd.dims() != idx.dims() || upd.dtype() != x.dtype()) {
            fail_type(ctx, 2);
        }
        auto apply = [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output(0, x.dtype(), x.dims());
            std::copy(elems<T>(x), elems<T>(x) + x.numel(), elems<T>(y));
            const T* pu = elems<T>(upd);
            T* py = elems<T>(y);
            for_each_index(ctx, idx, x.dims(), axis, [&](std::int64_t i, std::int64_t off) {
                py[off] = combine<T>(py[off], pu[i]);
            });
        };
        const bool ok = reduction_ == Reduction::kNone
                            ? visit_by_size(x.dtype(), apply)
                            : visit_type<AQUANT_NUMERIC_TYPES>(x.dtype(), apply);
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    template <typename T>
    T combine(T old, T v) const {
        if constexpr (std::is_arithmetic_v<T>) {
            switch (reduction_) {
                case Reduction::kNone:
                    return v;
                case Reduction::kAdd:
                    return static_cast<T>(old + v);
                case Reduction::kMul:
                    return static_cast<T>(old * v);
                case Reduction::kMax:
                    return std::max(old, v);
                case Reduction::kMin:
                    return std::min(old, v);
            }
        }
        return v;
    }

    std::int64_t axis_;
    Reduction reduction_;
};

Reduction reduction_of(const KernelBuildInfo& info) {
    const std::string r = info.node.attr_string("reduction", "none");
    if (r == "none") {
        return Reduction::kNone;
    }
    if (r == "add") {
        return Reduction::kAdd;
    }
    if (r == "mul") {
        return Reduction::kMul;
    }
    if (r == "max") {
        return Reduction::kMax;
    }
    if (r == "min") {
        return Reduction::kMin;
    }
    info.fail("attribute 'reduction' '" + r + "' is not one of none, add, mul, max, min");
}

}  // namespace

void register_gather_elements(KernelRegistry& registry) {
    registry.add("GatherElements", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<GatherElements>(info.node.attr_int("axis", 0));
    });
    auto scatter = [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<ScatterElements>(info.node.attr_int("axis", 0), reduction_of(info));
    };
    registry.add("ScatterElements", scatter);
    registry.add("Scatter", scatter);
}

}  // namespace aquant::engine
