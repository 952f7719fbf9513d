#ifndef INKWELL_KERNELS_H
#define INKWELL_KERNELS_H

/// Hand-vectorised kernels for what sgemm lowering does badly. Each has an AVX-512 version and an
/// AVX2 + FMA version, chosen at run time by what the CPU has, and a portable one.

#define INKWELL_KERNELS_PORTABLE 0
#define INKWELL_KERNELS_AVX2 1
#define INKWELL_KERNELS_AVX512 2

/// The versions that run: INKWELL_KERNELS_AVX512 (the CPU has AVX-512F), INKWELL_KERNELS_AVX2 (AVX2
/// and FMA) or INKWELL_KERNELS_PORTABLE, at most the cap of inkwell_kernels_set_max_level.
int inkwell_kernels_level(void);

/// The best level this CPU supports, whatever the cap.
int inkwell_kernels_cpu_level(void);

/// Caps the level (tests run every version the CPU has); INKWELL_KERNELS_AVX512 lifts the cap.
void inkwell_kernels_set_max_level(int level);

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

/// Floats of scratch that any transform below needs for one plane of th x tw tiles of
/// F(m x m, 3 x 3), m = 2 or 4 (the tile grid: of the output for the plain transforms, of the
/// input for the sub-pixel ones).
long inkwell_winograd_scratch(long m, long th, long tw);

/// Winograd F(4x4, 3x3) input transform of one plane: for the 6 x 6 tile d at rows 4i ... 4i + 5
/// and columns 4j ... 4j + 5 of P, v[xi * xi_stride + i * tw + j] = (B^T d B)[xi] (xi < 36, i < th,
/// j < tw), where P[r][c] = plane[step (r - pad) + offset_y][step (c - pad) + offset_x] inside the
/// (H, W) plane and zero outside: step 2 and offsets (a, b) read the plane's phase (a, b); step 1
/// reads the plane itself. padded: inkwell_winograd_scratch(4, th, tw) floats.
void inkwell_winograd_f4x3_input(const float *plane, long h, long w, long step, long offset_y, long offset_x, long pad,
                                 long th, long tw, float *padded, float *v, long xi_stride);

/// Winograd F(4x4, 3x3) output transform of one output channel: for tile (i, j), i < ceil(OH/4),
/// j < ceil(OW/4), (A^T q A) + bias, q[xi] = m[xi * xi_stride + i * ceil(OW/4) + j], goes to the
/// (OH, OW) plane at rows 4i + r and columns 4j + c (inside only).
/// scratch: inkwell_winograd_scratch(4, ceil(OH/4), ceil(OW/4)) floats.
void inkwell_winograd_f4x3_output(const float *m, long xi_stride, long oh, long ow, float *plane, float bias,
                                  float *scratch);

/// Winograd F(2x2, 3x3) input transform of one (H, W) plane for the sub-pixel form of a stride-2
/// transposed convolution: for the 4 x 4 tile d at rows 2i - 1 ... 2i + 2 and columns 2j - 1 ...
/// 2j + 2 (zero outside), v[xi * xi_stride + i * ceil(W/2) + j] = (B^T d B)[xi], xi < 16.
/// padded: inkwell_winograd_scratch(2, ceil(H/2), ceil(W/2)) floats.
void inkwell_winograd_f2x3_input(const float *plane, long h, long w, float *padded, float *v, long xi_stride);

/// Winograd F(m x m, 3x3) output transform (m = 2 or 4) of one output channel and row phase
/// phase_y of the sub-pixel form of a stride-2 transposed convolution: for the tile (i, j) of
/// column phase px, (A^T q A) + bias, q[xi] = m_px[xi * xi_stride + i * ceil(W/m) + j], goes to
/// the output plane (2H - 1, 2W - 1) at rows 2(m i + r) + phase_y and columns 2(m j + c) + px
/// (inside only). scratch: inkwell_winograd_scratch(m, ceil(H/m), ceil(W/m)) floats.
void inkwell_winograd_output_subpixel(long m, const float *m0, const float *m1, long xi_stride, long h, long w, float *plane,
                                      long phase_y, float bias, float *scratch);

#endif
