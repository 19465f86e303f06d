// ONNX Cast (and CastLike): every numeric type, float16/bfloat16 (through float) and bool.
// Float to integer truncates toward zero; values out of the target's range are undefined in ONNX
// and are saturated here. Strings parse with strtod and print in the shortest exact form.
#include "kernel_util.h"

#include "aquant/engine/kernel_registry.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace aquant::engine {
namespace {

// Half-precision types travel as raw uint16 storage; these tags mark which one.
struct F16 {};

struct BF16 {};

template <typename S>
using Storage =
    std::conditional_t<std::is_same_v<S, F16> || std::is_same_v<S, BF16>, std::uint16_t, S>;

template <typename S>
auto load(Storage<S> v) {
    if constexpr (std::is_same_v<S, F16>) {
        return half_to_float(v);
    } else if constexpr (std::is_same_v<S, BF16>) {
        return bf16_to_float(v);
    } else {
        return v;
    }
}

template <typename D, typename V>
Storage<D> store(V v) {
    if constexpr (std::is_same_v<D, F16>) {
        return float_to_half(static_cast<float>(v));
    } else if constexpr (std::is_same_v<D, BF16>) {
        return float_to_bf16(static_cast<float>(v));
    } else if constexpr (std::is_same_v<D, bool>) {
        return v != V(0);
    } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<V>) {
        if (std::isnan(v)) {
            return D(0);
        }
        const V lo = static_cast<V>(std::numeric_limits<D>::lowest());
        const V hi = static_cast<V>(std::numeric_limits<D>::max());
        if (v <= lo) {
            return std::numeric_limits<D>::lowest();
        }
        if (v >= hi) {
            return std::numeric_limits<D>::max();
        }
        return static_cast<D>(v);
    } else {
        return static_cast<D>(v);
    }
}

template <typename F>
bool visit_cast_type(DType dt, F&& f) {
    if (dt == DType::kF16) {
        f(Tag<F16>{});
        return true;
    }
    if (dt == DType::kBF16) {
        f(Tag<BF16>{});
        return true;
    }
    return visit_type<AQUANT_NUMERIC_TYPES, bool>(dt, f);
}

// Text of a number as ONNX's test data (numpy) spells it: the shortest %g form that reads back
// to the same value; integers exactly.
template <typename V>
std::string to_text(V v) {
    char buf[64];
    if constexpr (std::is_floating_point_v<V>) {
        const int max_digits = std::is_same_v<V, float> ? 9 : 17;
        for (int digits = 1; digits <= max_digits; ++digits) {
            std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(v));
            const double back = std::strtod(buf, nullptr);
            if (static_cast<V>(back) == v || std::isnan(v)) {
                break;
            }
        }
    } else if constexpr (std::is_signed_v<V>) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    } else {
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
    }
    return buf;
}

void cast_into(const KernelContext& ctx, const Tensor& x, Tensor& y) {
    const std::int64_t n = x.numel();
    if (x.dtype() == DType::kString) {
        // Parsed as double (strtod accepts "NaN", "INF", "-inf"), then converted.
        const auto& in = x.strings();
        const bool ok = visit_cast_type(y.dtype(), [&](auto td) {
            using D = typename decltype(td)::type;
            auto* py = elems<Storage<D>>(y);
            for (std::int64_t i = 0; i < n; ++i) {
                py[i] = store<D>(std::strtod(in[static_cast<std::size_t>(i)].c_str(), nullptr));
            }
        });
        if (!ok) {
            ctx.fail("cast to '" + std::string(dtype_name(y.dtype())) + "' is not supported");
        }
        return;
    }
    if (y.dtype() == DType::kString) {
        auto& out = y.strings();
        const bool ok = visit_cast_type(x.dtype(), [&](auto ts) {
            using S = typename decltype(ts)::type;
            const auto* px = elems<Storage<S>>(x);
            for (std::int64_t i = 0; i < n; ++i) {
                out[static_cast<std::size_t>(i)] = to_text(load<S>(px[i]));
            }
        });
        if (!ok) {
            fail_type(ctx, 0);
        }
        return;
    }
    bool ok_to = true;
    const bool ok_from = visit_cast_type(x.dtype(), [&](auto ts) {
        using S = typename decltype(ts)::type;
        ok_to = visit_cast_type(y.dtype(), [&](auto td) {
            using D = typename decltype(td)::type;
            const auto* px = elems<Storage<S>>(x);
            auto* py = elems<Storage<D>>(y);
            parallel_for(n, kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) {
                    py[i] = store<D>(load<S>(px[i]));
                }
            });
        });
    });
    if (!ok_from) {
        fail_type(ctx, 0);
    }
    if (!ok_to) {
        ctx.fail("cast to '" + std::string(dtype_name(y.dtype())) + "' is not supported");
    }
}

class Cast final : public Kernel {
public:
    explicit Cast(std::optional<DType> to) : to_(to) {}

    void run(KernelContext& ctx) const override {
        const Tensor& x = ctx.input(0);
        const DType to = to_ ? *to_ : ctx.input(1).dtype();  // CastLike: input 1's type
        if (to == x.dtype()) {
            ctx.set_output(0, x);
            return;
        }
        Tensor& y = ctx.allocate_output(0, to, x.dims());
        cast_into(ctx, x, y);
    }

private:
    std::optional<DType> to_;
};

}  // namespace

Tensor cast_tensor(const KernelContext& ctx, const Tensor& x, DType to) {
    if (x.dtype() == to) {
        return x;
    }
    Tensor y(to, x.dims());
    cast_into(ctx, x, y);
    return y;
}

void register_cast(KernelRegistry& registry) {
    registry.add("Cast", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Attribute* a = info.node.find_attr("to");
        if (!a) {
            info.fail("attribute 'to' is missing");
        }
        std::optional<DType> to;
        if (a->type == ir::AttrType::kString) {
            std::string name = a->s;  // opset 1 spelled the type as a string ("FLOAT")
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            to = dtype_from_name(name);
        } else {
            to = dtype_from_code(static_cast<int>(a->i));
        }
        if (!to) {
            info.fail("attribute 'to' is not a known element type");
        }
        return std::make_unique<Cast>(to);
    });
    registry.add("CastLike", [](const KernelBuildInfo&) -> KernelPtr {
        return std::make_unique<Cast>(std::nullopt);
    });
}

}  // namespace aquant::engine
