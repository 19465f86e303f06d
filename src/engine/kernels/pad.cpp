// ONNX Pad: modes constant, reflect, edge (and wrap, opset 19). Pads from the attribute `pads`
// (opset < 11, with `value`) or inputs 1..3 (pads, constant_value, axes). Negative pads crop.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace aquant::engine {
namespace {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

class Pad final : public Kernel {
public:
    Pad(PadMode mode, std::vector<std::int64_t> pads_attr, float value_attr)
        : mode_(mode), pads_attr_(std::move(pads_attr)), value_attr_(value_attr) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const std::size_t rank = x.rank();
        const std::vector<std::int64_t> given =
            ctx.has_input(1) ? read_ints(ctx.input(1)) : pads_attr_;
        std::vector<std::int64_t> axes;
        if (ctx.has_input(3)) {
            axes = read_ints(ctx.input(3));
        } else {
            for (std::size_t d = 0; d < rank; ++d) {
                axes.push_back(static_cast<std::int64_t>(d));
            }
        }
        if (given.size() != 2 * axes.size()) {
            ctx.fail("pads has " + std::to_string(given.size()) + " values, expected " +
                     std::to_string(2 * axes.size()) + " for input shape " + dims_str(x.dims()));
        }
        std::vector<std::int64_t> before(rank, 0), after(rank, 0);
        for (std::size_t i = 0; i < axes.size(); ++i) {
            std::int64_t a = axes[i];
            if (!normalize_axis(a, static_cast<std::int64_t>(rank))) {
                ctx.fail("axis " + std::to_string(axes[i]) + " is out of range");
            }
            before[static_cast<std::size_t>(a)] = given[i];
            after[static_cast<std::size_t>(a)] = given[i + axes.size()];
        }
        Dims out(rank);
        for (std::size_t d = 0; d < rank; ++d) {
            out[d] = x.dim(d) + before[d] + after[d];
            if (out[d] < 0) {
                ctx.fail("pads " + dims_str(given) + " crop more than shape " + dims_str(x.dims()));
            }
            if (mode_ != PadMode::kConstant && x.dim(d) == 0 && out[d] > 0) {
                ctx.fail("cannot pad an empty axis in this mode");
            }
        }
        const bool ok = visit_by_size(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            T value{};
            if (ctx.has_input(2) && ctx.input(2).numel() > 0) {
                value = elems<T>(ctx.input(2))[0];
            } else if (x.dtype() == DType::kF32) {
                value = pun<T>(value_attr_);
            } else if (x.dtype() == DType::kF16) {
                value = pun<T>(float_to_half(value_attr_));
            } else if (x.dtype() == DType::kF64) {
                value = pun<T>(static_cast<double>(value_attr_));
            }
            Tensor& y = ctx.allocate_output(0, x.dtype(), out);
            pad_ref<T>(x, y, before, value);
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    // The bits of a float/double as the same-size unsigned type that visit_by_size chose.
    template <typename T, typename V>
    static T pun(V v) {
        if constexpr (sizeof(T) == sizeof(V) && std::is_trivially_copyable_v<T>) {
            T t;
            std::memcpy(&t, &v, sizeof(T));
            return t;
        } else {
            return T{};
        }
    }

    // Source index of output index o along one axis, or -1 for the constant value.
    std::int64_t source(std::int64_t o, std::int64_t before, std::int64_t len) const {
        std::int64_t i = o - before;
        if (i >= 0 && i < len) {
            return i;
        }
        switch (mode_) {
            case PadMode::kConstant:
                return -1;
            case PadMode::kEdge:
                return std::clamp<std::int64_t>(i, 0, len - 1);
            case PadMode::kWrap:
                return ((i % len) + len) % len;
            case PadMode::kReflect: {
                if (len == 1) {
                    return 0;
                }
                const std::int64_t period = 2 * (len - 1);
                i = ((i % period) + period) % period;
                return i < len ? i : period - i;
            }
        }
        return -1;
    }

    template <typename T>
    void pad_ref(const Tensor& x, Tensor& y, const std::vector<std::int64_t>& before,
                 T value) const {
        const Dims& out = y.dims();
        const std::size_t rank = out.size();
        const T* px = elems<T>(x);
        T* py = elems<T>(y);
        const std::int64_t n = y.numel();
        if (rank == 0) {
            if (n) {
                py[0] = px[0];
            }
            return;
        }
        const std::vector<std::int64_t> in_strides = strides_of(x.dims());
        const std::int64_t inner = out[rank - 1];
        const std::int64_t rows = inner == 0 ? 0 : n / inner;
        const std::int64_t grain =
            std::max<std::int64_t>(1, kElementwiseGrain / std::max<std::int64_t>(inner, 1));
        parallel_for(rows, grain, [&](std::int64_t rb, std::int64_t re) {
            for (std::int64_t r = rb; r < re; ++r) {
                std::int64_t rem = r, off = 0;
                bool outside = false;
                for (std::size_t d = rank - 1; d-- > 0;) {
                    const std::int64_t o = rem % out[d];
                    rem /= out[d];
                    const std::int64_t s = source(o, before[d], x.dim(d));
                    if (s < 0) {
                        outside = true;
                        break;
                    }
                    off += s * in_strides[d];
                }
                T* row = py + r * inner;
                for (std::int64_t i = 0; i < inner; ++i) {
                    const std::int64_t s =
                        outside ? -1 : source(i, before[rank - 1], x.dim(rank - 1));
                    row[i] = s < 0 ? value : px[off + s];
                }
            }
        });
    }

    PadMode mode_;
    std::vector<std::int64_t> pads_attr_;
    float value_attr_;
};

}  // namespace

void register_pad(KernelRegistry& registry) {
    registry.add("Pad", [](const KernelBuildInfo& info) -> KernelPtr {
        const std::string mode = info.node.attr_string("mode", "constant");
        PadMode m;
        if (mode == "constant") {
            m = PadMode::kConstant;
        } else if (mode == "reflect") {
            m = PadMode::kReflect;
        } else if (mode == "edge") {
            m = PadMode::kEdge;
        } else if (mode == "wrap") {
            m = PadMode::kWrap;
        } else {
            info.fail("attribute 'mode' '" + mode +
                      "' is not one of constant, reflect, edge, wrap");
        }
        std::vector<std::int64_t> pads = info.node.attr_ints(info.opset < 2 ? "paddings" : "pads");
        if (info.opset >= 11 && !info.node.has_input(1)) {
            info.fail("input 1 'pads' is missing");
        }
        return std::make_unique<Pad>(m, std::move(pads), info.node.attr_float("value", 0.0f));
    });
}

}  // namespace aquant::engine
