// The stride-2 row moves of im2col and col2im (a stride-2 convolution's lowering and a stride-2
// transposed convolution's), which the compiler leaves as scalar loops.
#include "KernelDispatch.h"

#ifdef KERNELS_X86
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

__attribute__((target("avx2")))
static void gather2_avx2(const float *src, float *dst, long n) {
    long i = 0;
    // i + 8 < n: the second load's last float, src[2i + 15], lies before src[2n - 2].
    for (; i + 8 < n; i += 8) {
        __m256 a = _mm256_loadu_ps(src + 2 * i), b = _mm256_loadu_ps(src + 2 * i + 8);
        // Even places of each 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6, then the middle quarters swapped.
        __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        _mm256_storeu_ps(dst + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; i < n; i++) dst[i] = src[2 * i];
}

__attribute__((target("avx2")))
static void scatter_add2_avx2(const float *src, float *dst, long n) {
    long i = 0;
    const __m256 zero = _mm256_setzero_ps();
    // i + 8 < n, as in the gather: the odd places read and written back lie before dst[2n - 2].
    for (; i + 8 < n; i += 8) {
        __m256 s = _mm256_loadu_ps(src + i);
        __m256 lo = _mm256_unpacklo_ps(s, zero), hi = _mm256_unpackhi_ps(s, zero);  // s0 0 s1 0 | s4 0 s5 0, s2 0 s3 0 | s6 0 s7 0
        float *d = dst + 2 * i;
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), _mm256_permute2f128_ps(lo, hi, 0x20)));
        _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), _mm256_permute2f128_ps(lo, hi, 0x31)));
    }
    for (; i < n; i++) dst[2 * i] += src[i];
}
#endif

void inkwell_gather_stride2(const float *src, float *dst, long n) {
    DISPATCH(gather2, src, dst, n);
    for (long i = 0; i < n; i++) dst[i] = src[2 * i];
}

void inkwell_scatter_add_stride2(const float *src, float *dst, long n) {
    DISPATCH(scatter_add2, src, dst, n);
    for (long i = 0; i < n; i++) dst[2 * i] += src[i];
}
