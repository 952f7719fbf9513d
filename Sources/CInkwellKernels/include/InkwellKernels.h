#ifndef INKWELL_KERNELS_H
#define INKWELL_KERNELS_H

/// Hand-vectorised kernels for what sgemm lowering does badly. Each has an AVX-512 version chosen
/// at run time on CPUs that have AVX-512F, and a portable one.

/// Whether the AVX-512 versions run (the CPU has AVX-512F, unless turned off).
int inkwell_kernels_use_avx512(void);

/// Turns the AVX-512 versions off (0) or back on where the CPU has them (1); for tests.
void inkwell_kernels_set_avx512(int enabled);

/// Floats the repacked weights of inkwell_direct_conv_s1 take.
long inkwell_direct_conv_packed_size(int C, int O, int KH, int KW);

/// Repacks weights w (O, C, KH, KW) for inkwell_direct_conv_s1. With `flip`, w is read as the
/// weight of the convolution whose input gradient is wanted: w is (C, O, KH, KW) and each kernel
/// is rotated by 180 degrees (so a valid convolution of the zero-padded output gradient gives the
/// input gradient).
void inkwell_direct_conv_pack(const float *w, int C, int O, int KH, int KW, int flip, float *packed);

/// Direct convolution of one image, stride 1, no padding (a "valid" cross-correlation):
///   out[o][y][x] = (accumulate ? out[o][y][x] : 0) + sum_{c,i,j} w[o][c][i][j] * in[c][y+i][x+j]
/// in: (C, H, W); packed: from inkwell_direct_conv_pack; out: (O, H-KH+1, W-KW+1). Contiguous.
void inkwell_direct_conv_s1(const float *in, int C, int H, int W,
                            const float *packed, int O, int KH, int KW,
                            float *out, int accumulate);

/// Adds one image's weight gradient of a stride-1 valid convolution to gw (O, C, KH, KW):
///   gw[o][c][i][j] += sum_{y,x} gy[o][y][x] * in[c][y+i][x+j]
/// in: (C, H, W); gy: (O, H-KH+1, W-KW+1). Any O, C; KW at most 8 for the AVX-512 version.
void inkwell_direct_conv_weight_grad(const float *in, int C, int H, int W,
                                     const float *gy, int O, int KH, int KW, float *gw);

/// dst[i] = src[2 i] for i < n: a stride-2 row of im2col. Reads src[0 ... 2n - 2] only.
void inkwell_gather_stride2(const float *src, float *dst, long n);

/// dst[2 i] += src[i] for i < n: a stride-2 row of col2im. Touches dst[0 ... 2n - 2] only.
void inkwell_scatter_add_stride2(const float *src, float *dst, long n);

#endif
