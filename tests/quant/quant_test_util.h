// Shared helpers for the quant tests: seeded data generators and failure descriptions.
#pragma once

#include "aquant/core/tensor.h"
#include "aquant/quant/scheme.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace aquant::quant::testing {

inline std::vector<float> uniform(std::size_t n, float lo, float hi, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v)
        x = d(rng);
    return v;
}

inline std::vector<float> gaussian(std::size_t n, float stddev, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (auto& x : v)
        x = d(rng);
    return v;
}

/// Laplace(0, b): sign * exponential.
inline std::vector<float> laplace(std::size_t n, float b, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::exponential_distribution<float> e(1.0f / b);
    std::bernoulli_distribution sign(0.5);
    std::vector<float> v(n);
    for (auto& x : v)
        x = sign(rng) ? e(rng) : -e(rng);
    return v;
}

inline std::vector<float> student_t(std::size_t n, float nu, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::student_t_distribution<float> d(nu);
    std::vector<float> v(n);
    for (auto& x : v)
        x = d(rng);
    return v;
}

inline QuantScheme make_scheme(int bits, bool is_signed, bool symmetric,
                               Granularity g = Granularity::kTensor, int axis = 0,
                               int block_size = 0) {
    QuantScheme s;
    s.bits = bits;
    s.is_signed = is_signed;
    s.symmetric = symmetric;
    s.granularity = g;
    s.axis = axis;
    s.block_size = block_size;
    return s;
}

/// "int4 sym per-channel(axis=0) x=[3,5] seed=7" for failure messages.
inline std::string describe(const QuantScheme& s, const Dims& dims, std::uint32_t seed) {
    return scheme_str(s) + " x=" + dims_str(dims) + " seed=" + std::to_string(seed);
}

}  // namespace aquant::quant::testing
