// ONNX activation ops with float attributes (alpha, beta, gamma): one scalar function each,
// applied by UnaryKernel (elementwise.h). Defaults are the ONNX ones; `a` and `b` are the
// first and second attribute of the op's row.
#include "elementwise.h"

#include <algorithm>
#include <cmath>

namespace aquant::engine {
namespace {

#define AQUANT_ACTIVATION(Name, types, expr)                    \
    struct Name {                                               \
        static constexpr UnaryTypes kTypes = UnaryTypes::types; \
        template <typename T>                                   \
        static T eval(T x, const UnaryParams& prm) {            \
            const T a = static_cast<T>(prm.p[0]);               \
            const T b = static_cast<T>(prm.p[1]);               \
            (void)a, (void)b;                                   \
            return static_cast<T>(expr);                        \
        }                                                       \
    };

AQUANT_ACTIVATION(OpRelu, kSigned, x > T(0) ? x : T(0))
AQUANT_ACTIVATION(OpSigmoid, kFloat, T(1) / (T(1) + std::exp(-x)))
AQUANT_ACTIVATION(OpTanh, kFloat, std::tanh(x))
AQUANT_ACTIVATION(OpLeakyRelu, kFloat, x < T(0) ? a * x : x)
AQUANT_ACTIVATION(OpElu, kFloat, x < T(0) ? a * (std::exp(x) - T(1)) : x)
// Selu: a = alpha, b = gamma.
AQUANT_ACTIVATION(OpSelu, kFloat, x <= T(0) ? b * (a * std::exp(x) - a) : b * x)
AQUANT_ACTIVATION(OpCelu, kFloat, std::max(T(0), x) + std::min(T(0), a*(std::exp(x / a) - T(1))))
AQUANT_ACTIVATION(OpHardSigmoid, kFloat, std::max(T(0), std::min(T(1), a* x + b)))
AQUANT_ACTIVATION(OpHardSwish, kFloat, x* std::max(T(0), std::min(T(1), x / T(6) + T(0.5))))
AQUANT_ACTIVATION(OpThresholdedRelu, kFloat, x > a ? x : T(0))
// Shrink: a = bias, b = lambd.
AQUANT_ACTIVATION(OpShrink, kSigned, x < -b ? x + a : (x > b ? x - a : T(0)))

// ONNX Selu-6 defaults (float32 spellings of the SELU constants).
constexpr float kSeluAlpha = 1.67326319217681884765625f;
constexpr float kSeluGamma = 1.05070102214813232421875f;

}  // namespace

void register_activation(KernelRegistry& registry) {
    register_unary_rows(
        registry, {
                      {"Relu", {}, make_unary<OpRelu>},
                      {"Sigmoid", {}, make_unary<OpSigmoid>},
                      {"Tanh", {}, make_unary<OpTanh>},
                      {"LeakyRelu", {{"alpha", 0.01f}}, make_unary<OpLeakyRelu>},
                      {"Elu", {{"alpha", 1.0f}}, make_unary<OpElu>},
                      {"Selu", {{"alpha", kSeluAlpha}, {"gamma", kSeluGamma}}, make_unary<OpSelu>},
                      {"Celu", {{"alpha", 1.0f}}, make_unary<OpCelu>},
                      {"HardSigmoid", {{"alpha", 0.2f}, {"beta", 0.5f}}, make_unary<OpHardSigmoid>},
                      {"HardSwish", {}, make_unary<OpHardSwish>},
                      {"ThresholdedRelu", {{"alpha", 1.0f}}, make_unary<OpThresholdedRelu>},
                      {"Shrink", {{"bias", 0.0f}, {"lambd", 0.5f}}, make_unary<OpShrink>},
                  });
}

}  // namespace aquant::engine
