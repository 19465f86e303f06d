#include "vector_math.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "simd.h"

// The 32-byte vectors never cross a call boundary (their users are always_inline), so GCC's
// note about their ABI in non-AVX code does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace aquant::engine {
namespace {

#define AQUANT_VM_INLINE AQUANT_SIMD_INLINE

using simd::load8;
using simd::splat8;
using simd::store8;
using simd::v8f;
typedef std::int32_t v8i __attribute__((vector_size(32)));

AQUANT_VM_INLINE v8f as_float(v8i v) { return (v8f)v; }

AQUANT_VM_INLINE v8i as_int(v8f v) { return (v8i)v; }

// Cephes expf: exp(x) = 2^n exp(r), n = floor(x log2(e) + 1/2), r = x - n ln(2) (ln(2) in two
// parts), exp(r) by a degree-7 polynomial.
constexpr float kExpLo = -87.3365448f;  // below: 0
constexpr float kExpHi = 88.0f;          // above: clamped (2^n must stay finite)

AQUANT_VM_INLINE v8f exp8(v8f x) {
    const v8f xc = x < kExpLo ? splat8(kExpLo) : (x > kExpHi ? splat8(kExpHi) : x);
    const v8f fx = xc * 1.44269504088896341f + 0.5f;
    v8f n = __builtin_convertvector(__builtin_convertvector(fx, v8i), v8f);
    n = n > fx ? n - 1.0f : n;  // floor
    v8f r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const v8f z = r * r;
    v8f p = splat8(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    const v8i e = (__builtin_convertvector(n, v8i) + 127) << 23;
    v8f y = p * as_float(e);
    y = x < kExpLo ? splat8(0.0f) : y;
    return x != x ? x : y;  // NaN stays NaN
}

AQUANT_VM_INLINE v8f erf8(v8f x) {
    const v8i sign = as_int(x) & static_cast<std::int32_t>(0x80000000u);
    const v8f a = as_float(as_int(x) & 0x7fffffff);
    // Taylor series of erf at 0 up to x^13: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)).
    const v8f x2 = x * x;
    v8f s = splat8(1.1283791670955126f / 9360.0f);
    s = s * x2 - 1.1283791670955126f / 1320.0f;
    s = s * x2 + 1.1283791670955126f / 216.0f;
    s = s * x2 - 1.1283791670955126f / 42.0f;
    s = s * x2 + 1.1283791670955126f / 10.0f;
    s = s * x2 - 1.1283791670955126f / 3.0f;
    s = s * x2 + 1.1283791670955126f;
    const v8f small = x * s;
    // Abramowitz & Stegun 7.1.26.
    const v8f t = 1.0f / (a * 0.3275911f + 1.0f);
    v8f p = splat8(1.061405429f);
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    p = p * t;
    const v8f big = 1.0f - p * exp8(-(a * a));
    const v8f big_signed = as_float(as_int(big) | sign);
    return a < 0.5f ? small : big_signed;
}

// F::apply is always_inline like everything here: a lambda would be an out-of-line function
// taking v8f under the baseline ABI while its AVX2 caller passes it in a ymm register.
struct Exp8 {
    static AQUANT_VM_INLINE v8f apply(v8f v) { return exp8(v); }
};
struct Erf8 {
    static AQUANT_VM_INLINE v8f apply(v8f v) { return erf8(v); }
};

// Whole 8-blocks, the tail through a zero-padded block.
template <typename F>
AQUANT_VM_INLINE void map8(const float* x, float* y, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) store8(y + i, F::apply(load8(x + i)));
    if (i < n) {
        float buf[8];
        for (int l = 0; l < 8; ++l) buf[l] = i + l < n ? x[i + l] : 0.0f;
        store8(buf, F::apply(load8(buf)));
        for (int l = 0; i + l < n; ++l) y[i + l] = buf[l];
    }
}

AQUANT_VM_INLINE float lanes_sum(v8f v) {
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

AQUANT_VM_INLINE void exp_impl(const float* x, float* y, std::int64_t n) {
    map8<Exp8>(x, y, n);
}

AQUANT_VM_INLINE void erf_impl(const float* x, float* y, std::int64_t n) {
    map8<Erf8>(x, y, n);
}

AQUANT_VM_INLINE float exp_shift_sum_impl(const float* x, float shift, float* y,
                                          std::int64_t n) {
    v8f acc = splat8(0.0f);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v8f e = exp8(load8(x + i) - shift);
        store8(y + i, e);
        acc += e;
    }
    if (i < n) {
        float buf[8];
        for (int l = 0; l < 8; ++l) buf[l] = i + l < n ? x[i + l] - shift : kExpLo * 2;
        const v8f e = exp8(load8(buf));  // padding lanes give exactly 0
        acc += e;
        store8(buf, e);
        for (int l = 0; i + l < n; ++l) y[i + l] = buf[l];
    }
    return lanes_sum(acc);
}

AQUANT_VM_INLINE float max_impl(const float* x, std::int64_t n) {
    const float lowest = -std::numeric_limits<float>::infinity();
    v8f m = splat8(lowest);
    v8i nan = v8i{};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v8f v = load8(x + i);
        m = v > m ? v : m;
        nan |= v != v;
    }
    float r = lowest;
    for (int l = 0; l < 8; ++l) r = m[l] > r ? m[l] : r;
    bool any_nan = false;
    for (int l = 0; l < 8; ++l) any_nan |= nan[l] != 0;
    for (; i < n; ++i) {
        any_nan |= std::isnan(x[i]);
        r = x[i] > r ? x[i] : r;
    }
    return any_nan ? std::numeric_limits<float>::quiet_NaN() : r;
}

struct Fns {
    void (*exp)(const float*, float*, std::int64_t);
    void (*erf)(const float*, float*, std::int64_t);
    float (*exp_shift_sum)(const float*, float, float*, std::int64_t);
    float (*max)(const float*, std::int64_t);
};

void exp_generic(const float* x, float* y, std::int64_t n) { exp_impl(x, y, n); }
void erf_generic(const float* x, float* y, std::int64_t n) { erf_impl(x, y, n); }
float exp_shift_sum_generic(const float* x, float s, float* y, std::int64_t n) {
    return exp_shift_sum_impl(x, s, y, n);
}
float max_generic(const float* x, std::int64_t n) { return max_impl(x, n); }

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void exp_avx2(const float* x, float* y, std::int64_t n) {
    exp_impl(x, y, n);
}
__attribute__((target("avx2"))) void erf_avx2(const float* x, float* y, std::int64_t n) {
    erf_impl(x, y, n);
}
__attribute__((target("avx2"))) float exp_shift_sum_avx2(const float* x, float s, float* y,
                                                         std::int64_t n) {
    return exp_shift_sum_impl(x, s, y, n);
}
__attribute__((target("avx2"))) float max_avx2(const float* x, std::int64_t n) {
    return max_impl(x, n);
}
#endif

const Fns& fns() {
#if defined(__x86_64__) || defined(__i386__)
    static const Fns f = __builtin_cpu_supports("avx2")
                             ? Fns{exp_avx2, erf_avx2, exp_shift_sum_avx2, max_avx2}
                             : Fns{exp_generic, erf_generic, exp_shift_sum_generic, max_generic};
#else
    static const Fns f{exp_generic, erf_generic, exp_shift_sum_generic, max_generic};
#endif
    return f;
}

}  // namespace

void exp_f32(const float* x, float* y, std::int64_t n) { fns().exp(x, y, n); }

void erf_f32(const float* x, float* y, std::int64_t n) { fns().erf(x, y, n); }

float exp_shift_sum_f32(const float* x, float shift, float* y, std::int64_t n) {
    return fns().exp_shift_sum(x, shift, y, n);
}

float max_f32(const float* x, std::int64_t n) { return fns().max(x, n); }

}  // namespace aquant::engine
