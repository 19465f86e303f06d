// Four- and eight-float vectors through the GCC/Clang vector extension: plain SSE2 on x86-64
// baseline builds, wider ISAs when the compiler targets them. Loads and stores are unaligned.
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

// Eight floats, for loops written once as always-inline templates and compiled both for the
// baseline ISA (two SSE halves) and inside target("avx2") functions (one register). The vectors
// never cross a call boundary, so GCC's note about their ABI in non-AVX code does not apply
// (users silence -Wpsabi for their own always-inline helpers too).
#define AQUANT_SIMD_INLINE inline __attribute__((always_inline))

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__((vector_size(32)));

AQUANT_SIMD_INLINE v8f load8(const float* p) {
    v8f v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

AQUANT_SIMD_INLINE void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof(v)); }

/// Scalar-vector arithmetic broadcasts the scalar (a single vbroadcastss with AVX2).
AQUANT_SIMD_INLINE v8f splat8(float x) { return v8f{} + x; }

#pragma GCC diagnostic pop

}  // namespace aquant::engine::simd
