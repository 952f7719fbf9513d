#include "KernelDispatch.h"
#include "TailMask.h"
#include <immintrin.h>

// The weight gradient of a direct convolution as long dot products: for each input channel c and
// kernel row i, output channels are taken three at a time and every kernel column j at once, so
// each loaded vector of the output gradient meets KW shifted vectors of the input.
#define GOB 3
#define MAXKW 8

#ifdef KERNELS_X86
__attribute__((target("avx512f,fma")))
static void weight_grad_avx512(const float *in, int C, int H, int W, const float *gy, int O, int KH, int KW, float *gw) {
    const int OH = H - KH + 1, OW = W - KW + 1;
    const long plane = (long)H * W, outPlane = (long)OH * OW;
    for (int o0 = 0; o0 < O; o0 += GOB) {
        const int valid = O - o0 < GOB ? O - o0 : GOB;
        for (int c = 0; c < C; c++) {
            for (int i = 0; i < KH; i++) {
                __m512 acc[GOB][MAXKW];
                for (int k = 0; k < GOB; k++)
                    for (int j = 0; j < MAXKW; j++) acc[k][j] = _mm512_setzero_ps();
                for (int y = 0; y < OH; y++) {
                    const float *row = in + c * plane + (long)(y + i) * W;
                    const float *g0 = gy + (long)o0 * outPlane + (long)y * OW;
                    for (int x0 = 0; x0 < OW; x0 += 16) {
                        int nv = OW - x0 < 16 ? OW - x0 : 16;
                        __mmask16 m = (__mmask16)((1u << nv) - 1);
                        __m512 gv[GOB];
                        for (int k = 0; k < GOB; k++)
                            gv[k] = k < valid ? _mm512_maskz_loadu_ps(m, g0 + k * outPlane + x0) : _mm512_setzero_ps();
                        for (int j = 0; j < MAXKW; j++) {
                            if (j < KW) {
                                __m512 xv = _mm512_maskz_loadu_ps(m, row + x0 + j);
                                for (int k = 0; k < GOB; k++) acc[k][j] = _mm512_fmadd_ps(gv[k], xv, acc[k][j]);
                            }
                        }
                    }
                }
                for (int k = 0; k < valid; k++)
                    for (int j = 0; j < KW; j++)
                        gw[(((long)(o0 + k) * C + c) * KH + i) * KW + j] += _mm512_reduce_add_ps(acc[k][j]);
            }
        }
    }
}

__attribute__((target("avx2,fma"))) static inline float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

// The AVX2 version: two output channels at a time (2 x KW accumulators of 8 lanes fit the 16
// registers for KW <= 5; `kw` is a constant where it is inlined, so the loops over it unroll).
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline))
void weight_grad_avx2_kw(const float *in, int C, int H, int W, const float *gy, int O, int KH, const int kw, float *gw) {
    const int OH = H - KH + 1, OW = W - kw + 1;
    const long plane = (long)H * W, outPlane = (long)OH * OW;
    for (int o0 = 0; o0 < O; o0 += 2) {
        const int valid = O - o0 < 2 ? O - o0 : 2;
        for (int c = 0; c < C; c++) {
            for (int i = 0; i < KH; i++) {
                __m256 acc[2][MAXKW];
                for (int k = 0; k < 2; k++)
                    for (int j = 0; j < kw; j++) acc[k][j] = _mm256_setzero_ps();
                for (int y = 0; y < OH; y++) {
                    const float *row = in + c * plane + (long)(y + i) * W;
                    const float *g0 = gy + (long)o0 * outPlane + (long)y * OW;
                    for (int x0 = 0; x0 < OW; x0 += 8) {
                        int nv = OW - x0 < 8 ? OW - x0 : 8;
                        __m256i m = _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - nv));
                        __m256 g = _mm256_maskload_ps(g0 + x0, m);
                        __m256 h = valid > 1 ? _mm256_maskload_ps(g0 + outPlane + x0, m) : _mm256_setzero_ps();
                        for (int j = 0; j < kw; j++) {
                            __m256 xv = _mm256_maskload_ps(row + x0 + j, m);
                            acc[0][j] = _mm256_fmadd_ps(g, xv, acc[0][j]);
                            acc[1][j] = _mm256_fmadd_ps(h, xv, acc[1][j]);
                        }
                    }
                }
                for (int k = 0; k < valid; k++)
                    for (int j = 0; j < kw; j++)
                        gw[(((long)(o0 + k) * C + c) * KH + i) * kw + j] += sum8(acc[k][j]);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void weight_grad_avx2(const float *in, int C, int H, int W, const float *gy, int O, int KH, int KW, float *gw) {
    if (KW == 5) weight_grad_avx2_kw(in, C, H, W, gy, O, KH, 5, gw);
    else weight_grad_avx2_kw(in, C, H, W, gy, O, KH, KW, gw);
}
#endif

static void weight_grad_portable(const float *in, int C, int H, int W, const float *gy, int O, int KH, int KW, float *gw) {
    const int OH = H - KH + 1, OW = W - KW + 1;
    const long plane = (long)H * W, outPlane = (long)OH * OW;
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < KH; i++)
                for (int j = 0; j < KW; j++) {
                    double s = 0;
                    for (int y = 0; y < OH; y++) {
                        const float *row = in + c * plane + (long)(y + i) * W + j;
                        const float *g = gy + (long)o * outPlane + (long)y * OW;
                        float t = 0;
                        for (int x = 0; x < OW; x++) t += g[x] * row[x];
                        s += t;
                    }
                    gw[(((long)o * C + c) * KH + i) * KW + j] += (float)s;
                }
}

void inkwell_direct_conv_weight_grad(const float *in, int C, int H, int W,
                                     const float *gy, int O, int KH, int KW, float *gw) {
    if (KW <= MAXKW) DISPATCH(weight_grad, in, C, H, W, gy, O, KH, KW, gw);
    weight_grad_portable(in, C, H, W, gy, O, KH, KW, gw);
}
