// ONNX unary math ops: one scalar function each, applied by UnaryKernel (elementwise.h).
#include "elementwise.h"
#include "vector_math.h"

#include <cmath>
#include <type_traits>

namespace aquant::engine {
namespace {

#define AQUANT_UNARY_OP(Name, types, expr)                      \
    struct Name {                                               \
        static constexpr UnaryTypes kTypes = UnaryTypes::types; \
        template <typename T>                                   \
        static T eval(T x, const UnaryParams& p) {              \
            (void)p;                                            \
            return static_cast<T>(expr);                        \
        }                                                       \
    };

template <typename T>
T abs_ref(T x) {
    if constexpr (std::is_unsigned_v<T>) {
        return x;
    } else {
        return x < T(0) ? static_cast<T>(-x) : x;
    }
}

template <typename T>
T sign_ref(T x) {
    if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(x)) {
            return x;
        }
    }
    return x > T(0) ? T(1) : (x < T(0) ? static_cast<T>(-1) : T(0));
}

AQUANT_UNARY_OP(OpSqrt, kFloat, std::sqrt(x))
AQUANT_UNARY_OP(OpExp, kFloat, std::exp(x))
AQUANT_UNARY_OP(OpLog, kFloat, std::log(x))
AQUANT_UNARY_OP(OpAbs, kNumeric, abs_ref(x))
AQUANT_UNARY_OP(OpNeg, kSigned, -x)
AQUANT_UNARY_OP(OpReciprocal, kFloat, T(1) / x)
AQUANT_UNARY_OP(OpFloor, kFloat, std::floor(x))
AQUANT_UNARY_OP(OpCeil, kFloat, std::ceil(x))
AQUANT_UNARY_OP(OpRound, kFloat, std::nearbyint(x))  // half to even in the default mode
AQUANT_UNARY_OP(OpSign, kNumeric, sign_ref(x))
// Float runs erf_f32 (vector_math.h: absolute error <= 4e-7); other types std::erf.
struct OpErf {
    static constexpr UnaryTypes kTypes = UnaryTypes::kFloat;
    template <typename T>
    static T eval(T x, const UnaryParams&) {
        return static_cast<T>(std::erf(x));
    }
    static void array_f32(const float* x, float* y, std::int64_t n) { erf_f32(x, y, n); }
};
AQUANT_UNARY_OP(OpSin, kFloat, std::sin(x))
AQUANT_UNARY_OP(OpCos, kFloat, std::cos(x))
AQUANT_UNARY_OP(OpTan, kFloat, std::tan(x))
AQUANT_UNARY_OP(OpAsin, kFloat, std::asin(x))
AQUANT_UNARY_OP(OpAcos, kFloat, std::acos(x))
AQUANT_UNARY_OP(OpAtan, kFloat, std::atan(x))
AQUANT_UNARY_OP(OpSinh, kFloat, std::sinh(x))
AQUANT_UNARY_OP(OpCosh, kFloat, std::cosh(x))
AQUANT_UNARY_OP(OpAsinh, kFloat, std::asinh(x))
AQUANT_UNARY_OP(OpAcosh, kFloat, std::acosh(x))
AQUANT_UNARY_OP(OpAtanh, kFloat, std::atanh(x))
AQUANT_UNARY_OP(OpSoftplus, kFloat, std::log1p(std::exp(x)))
AQUANT_UNARY_OP(OpSoftsign, kFloat, x / (T(1) + std::abs(x)))

}  // namespace

void register_unary(KernelRegistry& registry) {
    register_unary_rows(
        registry,
        {
            {"Sqrt", {}, make_unary<OpSqrt>},         {"Exp", {}, make_unary<OpExp>},
            {"Log", {}, make_unary<OpLog>},           {"Abs", {}, make_unary<OpAbs>},
            {"Neg", {}, make_unary<OpNeg>},           {"Reciprocal", {}, make_unary<OpReciprocal>},
            {"Floor", {}, make_unary<OpFloor>},       {"Ceil", {}, make_unary<OpCeil>},
            {"Round", {}, make_unary<OpRound>},       {"Sign", {}, make_unary<OpSign>},
            {"Erf", {}, make_unary<OpErf>},           {"Sin", {}, make_unary<OpSin>},
            {"Cos", {}, make_unary<OpCos>},           {"Tan", {}, make_unary<OpTan>},
            {"Asin", {}, make_unary<OpAsin>},         {"Acos", {}, make_unary<OpAcos>},
            {"Atan", {}, make_unary<OpAtan>},         {"Sinh", {}, make_unary<OpSinh>},
            {"Cosh", {}, make_unary<OpCosh>},         {"Asinh", {}, make_unary<OpAsinh>},
            {"Acosh", {}, make_unary<OpAcosh>},       {"Atanh", {}, make_unary<OpAtanh>},
            {"Softplus", {}, make_unary<OpSoftplus>}, {"Softsign", {}, make_unary<OpSoftsign>},
        });
}

}  // namespace aquant::engine
