#include "KernelDispatch.h"
#include "TailMask.h"
#include <immintrin.h>
#include <string.h>

// Output channels are processed four at a time; weights are repacked so that the four weights of
// one (c, i, j) tap are adjacent: packed[block][c][i][j][4], zero for channels past O.
#define OB 4

long inkwell_direct_conv_packed_size(int C, int O, int KH, int KW) {
    return (long)((O + OB - 1) / OB) * C * KH * KW * OB;
}

void inkwell_direct_conv_pack(const float *w, int C, int O, int KH, int KW, int flip, float *packed) {
    int blocks = (O + OB - 1) / OB;
    long taps = (long)C * KH * KW, kernel = (long)KH * KW;
    for (int b = 0; b < blocks; b++) {
        float *dst = packed + (long)b * taps * OB;
        for (int c = 0; c < C; c++) {
            for (int i = 0; i < KH; i++) {
                for (int j = 0; j < KW; j++) {
                    long t = (long)c * kernel + i * KW + j;
                    for (int k = 0; k < OB; k++) {
                        int o = b * OB + k;
                        float v = 0.0f;
                        if (o < O) {
                            v = flip ? w[((long)c * O + o) * kernel + (long)(KH - 1 - i) * KW + (KW - 1 - j)]
                                     : w[(long)o * taps + t];
                        }
                        dst[t * OB + k] = v;
                    }
                }
            }
        }
    }
}

#ifdef KERNELS_X86
// Row `r` of a channel plane into the caches, a row ahead of its first use. An output row reads
// KH rows of every channel, and the next output row one new row per channel: C rows far apart
// in memory, too many streams for the hardware prefetchers, so where the input is not already
// cached (a batch of 64-channel images is 140 MB) every new row waited on memory (2.7-2.9 ms an
// image for 64 -> 3 channels at 69 x 125, against 0.7 ms from cache). Changes no arithmetic.
static inline __attribute__((always_inline)) void prefetch_row(const float *plane, int r, int H, int W) {
    if (r >= H) return;
    const char *p = (const char *)(plane + (long)r * W), *end = (const char *)(plane + (long)(r + 1) * W);
    for (; p < end; p += 64) _mm_prefetch(p, _MM_HINT_T1);
}

__attribute__((target("avx512f,fma")))
static void conv_avx512(const float *in, int C, int H, int W, const float *packed, int O, int KH, int KW,
                        float *out, int accumulate) {
    const int OH = H - KH + 1, OW = W - KW + 1;
    const long plane = (long)H * W, outPlane = (long)OH * OW;
    const int blocks = (O + OB - 1) / OB;
    const long taps = (long)C * KH * KW;
    for (int b = 0; b < blocks; b++) {
        const float *pw = packed + (long)b * taps * OB;
        const int valid = O - b * OB < OB ? O - b * OB : OB;
        for (int y = 0; y < OH; y++) {
            for (int x0 = 0; x0 < OW; x0 += 32) {
                // Two 16-wide column vectors; masks cover the row's tail.
                int n0 = OW - x0 < 16 ? OW - x0 : 16;
                int n1 = OW - x0 - 16 < 0 ? 0 : (OW - x0 - 16 < 16 ? OW - x0 - 16 : 16);
                __mmask16 m0 = (__mmask16)((1u << n0) - 1), m1 = (__mmask16)((1u << n1) - 1);
                __m512 a00 = _mm512_setzero_ps(), a01 = _mm512_setzero_ps();
                __m512 a10 = _mm512_setzero_ps(), a11 = _mm512_setzero_ps();
                __m512 a20 = _mm512_setzero_ps(), a21 = _mm512_setzero_ps();
                __m512 a30 = _mm512_setzero_ps(), a31 = _mm512_setzero_ps();
                const float *t = pw;
                for (int c = 0; c < C; c++) {
                    if (x0 == 0) prefetch_row(in + c * plane, y + KH, H, W);
                    for (int i = 0; i < KH; i++) {
                        const float *row = in + c * plane + (long)(y + i) * W + x0;
                        for (int j = 0; j < KW; j++, t += OB) {
                            __m512 v0 = _mm512_maskz_loadu_ps(m0, row + j);
                            __m512 v1 = _mm512_maskz_loadu_ps(m1, row + j + 16);
                            __m512 w0 = _mm512_set1_ps(t[0]), w1 = _mm512_set1_ps(t[1]);
                            __m512 w2 = _mm512_set1_ps(t[2]), w3 = _mm512_set1_ps(t[3]);
                            a00 = _mm512_fmadd_ps(v0, w0, a00); a01 = _mm512_fmadd_ps(v1, w0, a01);
                            a10 = _mm512_fmadd_ps(v0, w1, a10); a11 = _mm512_fmadd_ps(v1, w1, a11);
                            a20 = _mm512_fmadd_ps(v0, w2, a20); a21 = _mm512_fmadd_ps(v1, w2, a21);
                            a30 = _mm512_fmadd_ps(v0, w3, a30); a31 = _mm512_fmadd_ps(v1, w3, a31);
                        }
                    }
                }
                __m512 acc[OB][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
                for (int k = 0; k < valid; k++) {
                    float *dst = out + (long)(b * OB + k) * outPlane + (long)y * OW + x0;
                    __m512 r0 = acc[k][0], r1 = acc[k][1];
                    if (accumulate) {
                        r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, dst));
                        r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, dst + 16));
                    }
                    _mm512_mask_storeu_ps(dst, m0, r0);
                    if (n1 > 0) _mm512_mask_storeu_ps(dst + 16, m1, r1);
                }
            }
        }
    }
}

// The AVX2 version: 16 columns (two 8-wide vectors) at a time instead of 32. Each output sums
// its taps in the same order with the same fused multiply-adds, so it equals the AVX-512 result
// bit for bit.
__attribute__((target("avx2,fma")))
static void conv_avx2(const float *in, int C, int H, int W, const float *packed, int O, int KH, int KW,
                      float *out, int accumulate) {
    const int OH = H - KH + 1, OW = W - KW + 1;
    const long plane = (long)H * W, outPlane = (long)OH * OW;
    const int blocks = (O + OB - 1) / OB;
    const long taps = (long)C * KH * KW;
    for (int b = 0; b < blocks; b++) {
        const float *pw = packed + (long)b * taps * OB;
        const int valid = O - b * OB < OB ? O - b * OB : OB;
        for (int y = 0; y < OH; y++) {
            for (int x0 = 0; x0 < OW; x0 += 16) {
                int n0 = OW - x0 < 8 ? OW - x0 : 8;
                int n1 = OW - x0 - 8 < 0 ? 0 : (OW - x0 - 8 < 8 ? OW - x0 - 8 : 8);
                __m256i m0 = _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - n0));
                __m256i m1 = _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - n1));
                __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps();
                __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
                __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps();
                __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
                const float *t = pw;
                for (int c = 0; c < C; c++) {
                    if (x0 == 0) prefetch_row(in + c * plane, y + KH, H, W);
                    for (int i = 0; i < KH; i++) {
                        const float *row = in + c * plane + (long)(y + i) * W + x0;
                        for (int j = 0; j < KW; j++, t += OB) {
                            __m256 v0 = _mm256_maskload_ps(row + j, m0);
                            __m256 v1 = _mm256_maskload_ps(row + j + 8, m1);
                            __m256 w0 = _mm256_broadcast_ss(t), w1 = _mm256_broadcast_ss(t + 1);
                            __m256 w2 = _mm256_broadcast_ss(t + 2), w3 = _mm256_broadcast_ss(t + 3);
                            a00 = _mm256_fmadd_ps(v0, w0, a00); a01 = _mm256_fmadd_ps(v1, w0, a01);
                            a10 = _mm256_fmadd_ps(v0, w1, a10); a11 = _mm256_fmadd_ps(v1, w1, a11);
                            a20 = _mm256_fmadd_ps(v0, w2, a20); a21 = _mm256_fmadd_ps(v1, w2, a21);
                            a30 = _mm256_fmadd_ps(v0, w3, a30); a31 = _mm256_fmadd_ps(v1, w3, a31);
                        }
                    }
                }
                __m256 acc[OB][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
                for (int k = 0; k < valid; k++) {
                    float *dst = out + (long)(b * OB + k) * outPlane + (long)y * OW + x0;
                    __m256 r0 = acc[k][0], r1 = acc[k][1];
                    if (accumulate) {
                        r0 = _mm256_add_ps(r0, _mm256_maskload_ps(dst, m0));
                        r1 = _mm256_add_ps(r1, _mm256_maskload_ps(dst + 8, m1));
                    }
                    _mm256_maskstore_ps(dst, m0, r0);
                    if (n1 > 0) _mm256_maskstore_ps(dst + 8, m1, r1);
                }
            }
        }
    }
}
#endif

static void conv_portable(const float *in, int C, int H, int W, const float *packed, int O, int KH, int KW,
                          float *out, int accumulate) {
    const int OH = H - KH + 1, OW = W - KW + 1;
    const long plane = (long)H * W, outPlane = (long)OH * OW;
    const int blocks = (O + OB - 1) / OB;
    const long taps = (long)C * KH * KW;
    float acc[OB][64];
    for (int b = 0; b < blocks; b++) {
        const float *pw = packed + (long)b * taps * OB;
        const int valid = O - b * OB < OB ? O - b * OB : OB;
        for (int y = 0; y < OH; y++) {
            for (int x0 = 0; x0 < OW; x0 += 64) {
                int n = OW - x0 < 64 ? OW - x0 : 64;
                memset(acc, 0, sizeof(acc));
                const float *t = pw;
                for (int c = 0; c < C; c++) {
                    for (int i = 0; i < KH; i++) {
                        const float *row = in + c * plane + (long)(y + i) * W + x0;
                        for (int j = 0; j < KW; j++, t += OB) {
                            const float *r = row + j;
                            for (int k = 0; k < OB; k++) {
                                float wk = t[k];
                                for (int x = 0; x < n; x++) acc[k][x] += wk * r[x];
                            }
                        }
                    }
                }
                for (int k = 0; k < valid; k++) {
                    float *dst = out + (long)(b * OB + k) * outPlane + (long)y * OW + x0;
                    for (int x = 0; x < n; x++) dst[x] = (accumulate ? dst[x] : 0.0f) + acc[k][x];
                }
            }
        }
    }
}

void inkwell_direct_conv_s1(const float *in, int C, int H, int W,
                            const float *packed, int O, int KH, int KW,
                            float *out, int accumulate) {
    DISPATCH(conv, in, C, H, W, packed, O, KH, KW, out, accumulate);
    conv_portable(in, C, H, W, packed, O, KH, KW, out, accumulate);
}
