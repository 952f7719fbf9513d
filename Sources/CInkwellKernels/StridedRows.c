// The stride-2 row moves of im2col and col2im (a stride-2 convolution's lowering and a stride-2
// transposed convolution's), which the compiler leaves as scalar loops.
#include "InkwellKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

__attribute__((target("avx512f")))
static void gather2_avx512(const float *src, float *dst, long n) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        // src[2i ... 2i + 30]: the second load stops before 2i + 31, which may lie past the row.
        __m512 a = _mm512_loadu_ps(src + 2 * i);
        __m512 b = _mm512_maskz_loadu_ps(0x7FFF, src + 2 * i + 16);
        _mm512_storeu_ps(dst + i, _mm512_permutex2var_ps(a, even, b));
    }
    for (; i < n; i++) dst[i] = src[2 * i];
}

__attribute__((target("avx512f")))
static void scatter_add2_avx512(const float *src, float *dst, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 s = _mm512_loadu_ps(src + i);
        // s0..s7 to the even places of the first 16 floats, s8..s15 to those of the next 16
        // (whose last, odd place is neither read nor written).
        __m512 lo = _mm512_maskz_expand_ps(0x5555, s);
        __m512 hi = _mm512_maskz_expand_ps(0x5555, _mm512_shuffle_f32x4(s, s, 0xEE));
        float *d = dst + 2 * i;
        _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), lo));
        _mm512_mask_storeu_ps(d + 16, 0x7FFF, _mm512_add_ps(_mm512_maskz_loadu_ps(0x7FFF, d + 16), hi));
    }
    for (; i < n; i++) dst[2 * i] += src[i];
}
#endif

void inkwell_gather_stride2(const float *src, float *dst, long n) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (inkwell_kernels_use_avx512()) { gather2_avx512(src, dst, n); return; }
#endif
    for (long i = 0; i < n; i++) dst[i] = src[2 * i];
}

void inkwell_scatter_add_stride2(const float *src, float *dst, long n) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (inkwell_kernels_use_avx512()) { scatter_add2_avx512(src, dst, n); return; }
#endif
    for (long i = 0; i < n; i++) dst[2 * i] += src[i];
}
