// Micro-kernels of the integer GEMM (qgemm.h) and their dispatch. Each computes a
// kRowTile x kPanel int32 tile with pmaddwd-style steps: a row's int16 pair (k, k + 1) is
// broadcast and multiplied with the panel's pairs of kPanel columns, the two products summed.
#include "qgemm.h"

#include <atomic>

#if defined(__x86_64__) || defined(_M_X64)
#define AQUANT_QGEMM_X86 1
#include <immintrin.h>
#endif

namespace aquant::engine::qgemm {
namespace {

void kernel_generic(const std::int32_t* a, const std::int16_t* b, std::int64_t kp,
                    std::int32_t* out) {
    std::int32_t acc[kRowTile][kPanel] = {};
    for (std::int64_t kk = 0; kk < kp; ++kk) {
        const std::int16_t* bk = b + kk * kPanel * 2;
        for (std::int64_t i = 0; i < kRowTile; ++i) {
            const auto pair = static_cast<std::uint32_t>(a[kk * kRowTile + i]);
            const auto a0 = static_cast<std::int32_t>(static_cast<std::int16_t>(pair & 0xFFFF));
            const auto a1 = static_cast<std::int32_t>(static_cast<std::int16_t>(pair >> 16));
            for (std::int64_t j = 0; j < kPanel; ++j) {
                acc[i][j] += a0 * bk[2 * j] + a1 * bk[2 * j + 1];
            }
        }
    }
    for (std::int64_t i = 0; i < kRowTile; ++i) {
        for (std::int64_t j = 0; j < kPanel; ++j) out[i * kPanel + j] = acc[i][j];
    }
}

#ifdef AQUANT_QGEMM_X86
// Two rows at a time: 2 x 4 accumulators of 4 int32 plus 4 panel vectors stay in the 16 XMM
// registers; the panel (kp * 64 bytes) is read twice, from L1.
void kernel_sse2(const std::int32_t* a, const std::int16_t* b, std::int64_t kp,
                 std::int32_t* out) {
    for (std::int64_t i = 0; i < kRowTile; i += 2) {
        __m128i c00 = _mm_setzero_si128(), c01 = c00, c02 = c00, c03 = c00;
        __m128i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        for (std::int64_t kk = 0; kk < kp; ++kk) {
            const auto* bk = reinterpret_cast<const __m128i*>(b + kk * kPanel * 2);
            const __m128i b0 = _mm_loadu_si128(bk), b1 = _mm_loadu_si128(bk + 1);
            const __m128i b2 = _mm_loadu_si128(bk + 2), b3 = _mm_loadu_si128(bk + 3);
            const __m128i a0 = _mm_set1_epi32(a[kk * kRowTile + i]);
            const __m128i a1 = _mm_set1_epi32(a[kk * kRowTile + i + 1]);
            c00 = _mm_add_epi32(c00, _mm_madd_epi16(a0, b0));
            c01 = _mm_add_epi32(c01, _mm_madd_epi16(a0, b1));
            c02 = _mm_add_epi32(c02, _mm_madd_epi16(a0, b2));
            c03 = _mm_add_epi32(c03, _mm_madd_epi16(a0, b3));
            c10 = _mm_add_epi32(c10, _mm_madd_epi16(a1, b0));
            c11 = _mm_add_epi32(c11, _mm_madd_epi16(a1, b1));
            c12 = _mm_add_epi32(c12, _mm_madd_epi16(a1, b2));
            c13 = _mm_add_epi32(c13, _mm_madd_epi16(a1, b3));
        }
        auto* o0 = reinterpret_cast<__m128i*>(out + i * kPanel);
        auto* o1 = reinterpret_cast<__m128i*>(out + (i + 1) * kPanel);
        _mm_storeu_si128(o0, c00);
        _mm_storeu_si128(o0 + 1, c01);
        _mm_storeu_si128(o0 + 2, c02);
        _mm_storeu_si128(o0 + 3, c03);
        _mm_storeu_si128(o1, c10);
        _mm_storeu_si128(o1 + 1, c11);
        _mm_storeu_si128(o1 + 2, c12);
        _mm_storeu_si128(o1 + 3, c13);
    }
}

__attribute__((target("avx2"))) void kernel_avx2(const std::int32_t* a, const std::int16_t* b,
                                                 std::int64_t kp, std::int32_t* out) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
    __m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (std::int64_t kk = 0; kk < kp; ++kk) {
        const auto* bk = reinterpret_cast<const __m256i*>(b + kk * kPanel * 2);
        const __m256i b0 = _mm256_loadu_si256(bk), b1 = _mm256_loadu_si256(bk + 1);
        const std::int32_t* ak = a + kk * kRowTile;
        __m256i x = _mm256_set1_epi32(ak[0]);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
        x = _mm256_set1_epi32(ak[1]);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
        x = _mm256_set1_epi32(ak[2]);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
        x = _mm256_set1_epi32(ak[3]);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
    }
    auto* o = reinterpret_cast<__m256i*>(out);
    _mm256_storeu_si256(o, c00);
    _mm256_storeu_si256(o + 1, c01);
    _mm256_storeu_si256(o + 2, c10);
    _mm256_storeu_si256(o + 3, c11);
    _mm256_storeu_si256(o + 4, c20);
    _mm256_storeu_si256(o + 5, c21);
    _mm256_storeu_si256(o + 6, c30);
    _mm256_storeu_si256(o + 7, c31);
}
#endif

using KernelFn = void (*)(const std::int32_t*, const std::int16_t*, std::int64_t, std::int32_t*);

KernelFn kernel_for(Isa isa) {
    switch (isa) {
#ifdef AQUANT_QGEMM_X86
        case Isa::kSse2: return kernel_sse2;
        case Isa::kAvx2: return kernel_avx2;
#endif
        default: return kernel_generic;
    }
}

Isa best_isa() {
#ifdef AQUANT_QGEMM_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? Isa::kAvx2 : Isa::kSse2;
#else
    return Isa::kGeneric;
#endif
}

struct Dispatch {
    std::atomic<Isa> isa{best_isa()};
    std::atomic<KernelFn> fn{kernel_for(isa.load())};
};

Dispatch& dispatch() {
    static Dispatch d;
    return d;
}

}  // namespace

void micro_kernel(const std::int32_t* row_tile, const std::int16_t* panel, std::int64_t kp,
                  std::int32_t* out) {
    dispatch().fn.load(std::memory_order_relaxed)(row_tile, panel, kp, out);
}

Isa active_isa() { return dispatch().isa.load(); }

bool isa_supported(Isa isa) {
    switch (isa) {
        case Isa::kGeneric: return true;
#ifdef AQUANT_QGEMM_X86
        case Isa::kSse2: return true;
        case Isa::kAvx2: return best_isa() == Isa::kAvx2;
#endif
        default: return false;
    }
}

Isa set_isa(Isa isa) {
    Dispatch& d = dispatch();
    const Isa prev = d.isa.exchange(isa);
    d.fn.store(kernel_for(isa));
    return prev;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kGeneric: return "generic";
        case Isa::kSse2: return "sse2";
        case Isa::kAvx2: return "avx2";
    }
    return "?";
}

}  // namespace aquant::engine::qgemm
