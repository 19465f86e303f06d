// Vectorised float exp and erf for the hot loops of Softmax, LogSoftmax and Erf. The array
// functions run an 8-wide version compiled for AVX2 when the CPU has it, else the same code for
// the baseline ISA; both use the same operations in the same order (no FMA contraction), so the
// result does not depend on the CPU features or the thread count.
//
// Accuracy (checked against double std::exp / std::erf in tests/engine/vector_math_test.cpp):
//  - exp_f32: relative error <= 2e-7 on [-87.3, 88]; 0 below -87.3 (where expf is denormal
//    or 0); NaN stays NaN. Inputs above 88 are clamped (softmax never gets any: x - max <= 0).
//  - erf_f32: |x| < 0.5 a Taylor polynomial (relative error <= 2e-7); else Abramowitz & Stegun
//    7.1.26, 1 - p(t) exp(-x^2) with t = 1 / (1 + 0.3275911 |x|) (absolute error <= 4e-7; the
//    formula's own error is 1.5e-7, float evaluation adds the rest).
#pragma once

#include <cstdint>

namespace aquant::engine {

/// y[i] = exp(x[i]). x and y may be the same array.
void exp_f32(const float* x, float* y, std::int64_t n);
/// y[i] = erf(x[i]). x and y may be the same array.
void erf_f32(const float* x, float* y, std::int64_t n);
/// y[i] = exp(x[i] - shift); returns the sum of the y[i] (8 partial sums in a fixed order).
float exp_shift_sum_f32(const float* x, float shift, float* y, std::int64_t n);
/// The maximum of x[0..n) (n >= 1); NaN if any element is NaN.
float max_f32(const float* x, std::int64_t n);

}  // namespace aquant::engine
