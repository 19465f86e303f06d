// ONNX Softmax, LogSoftmax, Hardmax. Opset < 13 coerces the input to 2-D at `axis` (default 1)
// and normalises over all trailing dims together; opset >= 13 normalises along the single axis
// `axis` (default -1). Float lines along the innermost axis use the vectorised exp of
// vector_math.h; other lines the scalar loop.
#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "vector_math.h"

namespace aquant::engine {
namespace {

enum class Mode { kSoftmax, kLogSoftmax, kHardmax };

template <Mode kMode>
class Softmax final : public Kernel {
public:
    Softmax(std::int64_t axis, bool coerce_2d) : axis_(axis), coerce_2d_(coerce_2d) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        std::int64_t axis = axis_;
        const auto rank = static_cast<std::int64_t>(x.rank());
        if (!normalize_axis(axis, std::max<std::int64_t>(rank, 1))) {
            ctx.fail("attribute 'axis' " + std::to_string(axis_) + " is out of range for rank " +
                     std::to_string(rank));
        }
        std::int64_t outer = 1, len = 1, inner = 1;
        for (std::int64_t d = 0; d < rank; ++d) {
            const std::int64_t v = x.dim(static_cast<std::size_t>(d));
            if (d < axis) {
                outer *= v;
            } else if (d == axis || coerce_2d_) {
                len *= v;
            } else {
                inner *= v;
            }
        }
        const bool ok = visit_type<AQUANT_FLOAT_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            Tensor& y = ctx.allocate_output_uninit(0, x.dtype(), x.dims());
            const T* px = elems<T>(x);
            T* py = elems<T>(y);
            const std::int64_t lines = outer * inner;
            const std::int64_t grain =
                std::max<std::int64_t>(1, kElementwiseGrain / std::max<std::int64_t>(len, 1));
            parallel_for(lines, grain, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t l = b; l < e; ++l) {
                    const std::int64_t base = (l / inner) * len * inner + l % inner;
                    if constexpr (std::is_same_v<T, float> && kMode != Mode::kHardmax) {
                        if (inner == 1 && len > 0) {
                            line_f32(px + base, py + base, len);
                            continue;
                        }
                    }
                    line_ref<T>(px + base, py + base, len, inner);
                }
            });
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
    }

private:
    // A contiguous float line, vectorised (vector_math.h).
    static void line_f32(const float* x, float* y, std::int64_t len) {
        const float mx = max_f32(x, len);
        const float sum = exp_shift_sum_f32(x, mx, y, len);
        if constexpr (kMode == Mode::kSoftmax) {
            for (std::int64_t i = 0; i < len; ++i) y[i] /= sum;
        } else {
            const float log_sum = std::log(sum);
            for (std::int64_t i = 0; i < len; ++i) y[i] = x[i] - mx - log_sum;
        }
    }

    // One line of `len` elements, `stride` apart.
    template <typename T>
    static void line_ref(const T* x, T* y, std::int64_t len, std::int64_t stride) {
        if (len == 0) {
            return;
        }
        T mx = x[0];
        std::int64_t arg = 0;
        for (std::int64_t i = 1; i < len; ++i) {
            if (x[i * stride] > mx) {
                mx = x[i * stride];
                arg = i;
            }
        }
        if constexpr (kMode == Mode::kHardmax) {
            for (std::int64_t i = 0; i < len; ++i) {
                y[i * stride] = i == arg ? T(1) : T(0);
            }
        } else {
            T sum = 0;
            for (std::int64_t i = 0; i < len; ++i) {
                const T v = std::exp(x[i * stride] - mx);
                sum += v;
                if constexpr (kMode == Mode::kSoftmax)
                    y[i * stride] = v;
            }
            if constexpr (kMode == Mode::kSoftmax) {
                for (std::int64_t i = 0; i < len; ++i) {
                    y[i * stride] /= sum;
                }
            } else {
                const T log_sum = std::log(sum);
                for (std::int64_t i = 0; i < len; ++i) {
                    y[i * stride] = x[i * stride] - mx - log_sum;
                }
            }
        }
    }

    std::int64_t axis_;
    bool coerce_2d_;
};

template <Mode kMode>
KernelPtr make_softmax(const KernelBuildInfo& info) {
    const bool coerce_2d = info.opset < 13;
    const std::int64_t axis = info.node.attr_int("axis", coerce_2d ? 1 : -1);
    return std::make_unique<Softmax<kMode>>(axis, coerce_2d);
}

}  // namespace

void register_softmax(KernelRegistry& registry) {
    registry.add("Softmax", make_softmax<Mode::kSoftmax>);
    registry.add("LogSoftmax", make_softmax<Mode::kLogSoftmax>);
    registry.add("Hardmax", make_softmax<Mode::kHardmax>);
}

}  // namespace aquant::engine
