// Error metrics between a reference x and an approximation x_hat (n elements each), summed in
// double.
#pragma once

#include <cstdint>
#include <vector>

namespace aquant::quant {

/// mean (x - x_hat)^2; 0 for n == 0.
double mse(const float* x, const float* x_hat, std::int64_t n);
/// sum (x - x_hat)^2 / sum x^2; 0 when both sums are 0, +inf when only the signal is 0.
double nmse(const float* x, const float* x_hat, std::int64_t n);
/// 10 log10(sum x^2 / sum (x - x_hat)^2) in dB; +inf when the error is 0, -inf when only the
/// signal is 0.
double sqnr_db(const float* x, const float* x_hat, std::int64_t n);

/// The same for equal-length vectors (InternalError when the lengths differ).
double mse(const std::vector<float>& x, const std::vector<float>& x_hat);
double nmse(const std::vector<float>& x, const std::vector<float>& x_hat);
double sqnr_db(const std::vector<float>& x, const std::vector<float>& x_hat);

}  // namespace aquant::quant
