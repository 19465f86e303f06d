// Four-float vectors through the GCC/Clang vector extension: plain SSE2 on x86-64 baseline
// builds, wider ISAs when the compiler targets them. Loads and stores are unaligned.
#pragma once

#include <cstring>

namespace aquant::engine::simd {

typedef float v4f __attribute__((vector_size(16)));

inline v4f load4(const float* p) {
    v4f v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

inline void store4(float* p, v4f v) { std::memcpy(p, &v, sizeof(v)); }

/// Scalar-vector arithmetic broadcasts the scalar.
inline v4f splat4(float x) { return v4f{} + x; }

/// p[0], p[s], p[2s], p[3s].
inline v4f load4_strided(const float* p, long s) { return v4f{p[0], p[s], p[2 * s], p[3 * s]}; }

}  // namespace aquant::engine::simd
