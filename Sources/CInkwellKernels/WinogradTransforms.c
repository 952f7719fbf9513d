// The transforms of Winograd's convolutions, for the tiles of one plane at a time:
// - F(2x2, 3x3) for the sub-pixel form of a stride-2 transposed convolution (see
//   WinogradTransposedConvolution.swift): B^T d B for its 4 x 4 input tiles, and A^T m A for its
//   2 x 2 output tiles, interleaved into the output plane by phase;
// - F(4x4, 3x3) (Lavin and Gray's matrices) for the phase form of a stride-2 5 x 5 convolution
//   (see WinogradStridedConvolution.swift): B^T d B for its 6 x 6 input tiles and A^T m A for its
//   4 x 4 output tiles.
//
// Tiles run along the innermost loops, so the compiler vectorizes across them: the input plane is
// first copied (zero-padded) with its columns split by their remainder mod 2 (F(2x2)) or 4
// (F(4x4)), so that each of a tile's columns is one element of a unit-stride array.
#include "KernelDispatch.h"

/// B^T d for d = (d0 ... d5).
#define WINOGRAD_BT(d0, d1, d2, d3, d4, d5, r) do { \
    r[0] = 4 * (d0) - 5 * (d2) + (d4); \
    r[1] = (d3) + (d4) - 4 * ((d1) + (d2)); \
    r[2] = 4 * ((d1) - (d2)) + (d4) - (d3); \
    r[3] = 2 * ((d3) - (d1)) + (d4) - (d2); \
    r[4] = 2 * ((d1) - (d3)) + (d4) - (d2); \
    r[5] = 4 * (d1) - 5 * (d3) + (d5); \
} while (0)

/// A^T m for m = (m0 ... m5).
#define WINOGRAD_AT(m0, m1, m2, m3, m4, m5, y) do { \
    const float p12 = (m1) + (m2), n12 = (m1) - (m2), p34 = (m3) + (m4), n34 = (m3) - (m4); \
    y[0] = (m0) + p12 + p34; \
    y[1] = n12 + 2 * n34; \
    y[2] = p12 + 4 * p34; \
    y[3] = n12 + 8 * n34 + (m5); \
} while (0)

static inline __attribute__((always_inline))
void input_transform(const float *plane, long h, long w, long step, long oy, long ox, long pad, long th, long tw,
                     float *padded, float *v, long xi_stride) {
    const long q = tw + 1, rows = 4 * th + 2;
    // P[r][c] = plane[step (r - pad) + oy][step (c - pad) + ox], zero outside the plane; row r
    // is stored as four arrays of q elements, column c at array c % 4, element c / 4.
    const long x0 = pad, x1 = pad + (w - ox + step - 1) / step; // the columns c that read inside
    for (long r = 0; r < rows; r++) {
        float *row = padded + r * 4 * q;
        const long y = step * (r - pad) + oy;
        if (r < pad || y >= h) {
            for (long j = 0; j < 4 * q; j++) row[j] = 0;
            continue;
        }
        const float *src = plane + y * w + ox;
        for (int k = 0; k < 4; k++) {
            float *part = row + k * q;
            for (long j = 0; j < q; j++) {
                const long c = 4 * j + k;
                part[j] = c >= x0 && c < x1 ? src[step * (c - x0)] : 0;
            }
        }
    }
    // Two passes of six inputs and six outputs per tile, so that each vectorizes across tiles
    // without spilling: B^T down the columns into t (36 * th * tw floats after P), tile row by tile
    // row, then along the rows, over all the plane's tiles at once.
    const long n = th * tw;
    float *t = padded + rows * 4 * q;
    for (long ti = 0; ti < th; ti++) {
        const float *base = padded + 4 * ti * 4 * q; // row k of the tile, column part p: base + (4k + p) q
        for (int c = 0; c < 6; c++) {
            const float *restrict d0 = base + (c & 3) * q + (c >> 2), *restrict d1 = d0 + 4 * q, *restrict d2 = d1 + 4 * q;
            const float *restrict d3 = d2 + 4 * q, *restrict d4 = d3 + 4 * q, *restrict d5 = d4 + 4 * q;
            float *restrict t0 = t + c * n + ti * tw;
#pragma clang loop vectorize(enable)
            for (long j = 0; j < tw; j++) {
                float col[6];
                WINOGRAD_BT(d0[j], d1[j], d2[j], d3[j], d4[j], d5[j], col);
                for (int r = 0; r < 6; r++) t0[r * 6 * n + j] = col[r];
            }
        }
    }
    for (int r = 0; r < 6; r++) {
        const float *restrict a0 = t + r * 6 * n, *restrict a1 = a0 + n, *restrict a2 = a1 + n;
        const float *restrict a3 = a2 + n, *restrict a4 = a3 + n, *restrict a5 = a4 + n;
        float *restrict out = v + 6 * r * xi_stride;
#pragma clang loop vectorize(enable)
        for (long i = 0; i < n; i++) {
            float u[6];
            WINOGRAD_BT(a0[i], a1[i], a2[i], a3[i], a4[i], a5[i], u);
            for (int c = 0; c < 6; c++) out[c * xi_stride + i] = u[c];
        }
    }
}

/// The 4 x 4 outputs of tiles 0 ..< tw (all of a plane's): y[(r * 4 + c) * tw + j] = (A^T q A)[r][c]
/// + bias, q[xi] = m[xi * xi_stride + j]. Two passes of six inputs and four outputs per tile, so
/// that each vectorizes across tiles without spilling: A^T down the columns into t (24 * tw
/// floats), then along the rows.
static inline __attribute__((always_inline))
void output_tiles(const float *restrict m, long xi_stride, long tw, float bias, float *restrict t, float *restrict y) {
    for (int c = 0; c < 6; c++) {
        const float *restrict m0 = m + c * xi_stride, *restrict m1 = m0 + 6 * xi_stride, *restrict m2 = m1 + 6 * xi_stride;
        const float *restrict m3 = m2 + 6 * xi_stride, *restrict m4 = m3 + 6 * xi_stride, *restrict m5 = m4 + 6 * xi_stride;
        float *restrict t0 = t + c * tw, *restrict t1 = t0 + 6 * tw, *restrict t2 = t1 + 6 * tw, *restrict t3 = t2 + 6 * tw;
#pragma clang loop vectorize(enable)
        for (long j = 0; j < tw; j++) {
            float col[4];
            WINOGRAD_AT(m0[j], m1[j], m2[j], m3[j], m4[j], m5[j], col);
            t0[j] = col[0]; t1[j] = col[1]; t2[j] = col[2]; t3[j] = col[3];
        }
    }
    for (int r = 0; r < 4; r++) {
        const float *restrict a0 = t + r * 6 * tw, *restrict a1 = a0 + tw, *restrict a2 = a1 + tw;
        const float *restrict a3 = a2 + tw, *restrict a4 = a3 + tw, *restrict a5 = a4 + tw;
        float *restrict y0 = y + r * 4 * tw, *restrict y1 = y0 + tw, *restrict y2 = y1 + tw, *restrict y3 = y2 + tw;
#pragma clang loop vectorize(enable)
        for (long j = 0; j < tw; j++) {
            float row[4];
            WINOGRAD_AT(a0[j], a1[j], a2[j], a3[j], a4[j], a5[j], row);
            y0[j] = row[0] + bias; y1[j] = row[1] + bias; y2[j] = row[2] + bias; y3[j] = row[3] + bias;
        }
    }
}

static inline __attribute__((always_inline))
void output_transform_plain(const float *m, long xi_stride, long th, long tw, float *plane, long oh, long ow, float bias,
                            float *scratch) {
    const long n = th * tw;
    output_tiles(m, xi_stride, n, bias, scratch + 16 * n, scratch);
    for (long ti = 0; ti < th; ti++) {
        for (int r = 0; r < 4; r++) {
            const long oy = 4 * ti + r;
            if (oy >= oh) break;
            float *row = plane + oy * ow;
            const float *y = scratch + r * 4 * n + ti * tw;
            const long full = ow / 4; // tiles whose four columns all lie inside the row
            for (long tj = 0; tj < full; tj++)
                for (int c = 0; c < 4; c++) row[4 * tj + c] = y[c * n + tj];
            for (long x = 4 * full; x < ow; x++) row[x] = y[(x & 3) * n + full];
        }
    }
}

static inline __attribute__((always_inline))
void output_transform_subpixel(const float *m0, const float *m1, long xi_stride, long th, long tw, float *plane,
                               long oh, long ow, long py, float bias, float *scratch) {
    const long n = th * tw;
    float *y0 = scratch, *y1 = scratch + 16 * n;
    output_tiles(m0, xi_stride, n, bias, scratch + 32 * n, y0);
    output_tiles(m1, xi_stride, n, bias, scratch + 32 * n, y1);
    for (long ti = 0; ti < th; ti++) {
        if (8 * ti + py >= oh) break;
        for (int r = 0; r < 4; r++) {
            const long oy = 2 * (4 * ti + r) + py;
            if (oy >= oh) break;
            float *row = plane + oy * ow;
            const float *a = y0 + r * 4 * n + ti * tw, *b = y1 + r * 4 * n + ti * tw;
            const long full = ow / 8; // tiles whose eight columns all lie inside the row
            for (long tj = 0; tj < full; tj++)
                for (int c = 0; c < 4; c++) { row[8 * tj + 2 * c] = a[c * n + tj]; row[8 * tj + 2 * c + 1] = b[c * n + tj]; }
            for (long x = 8 * full; x < ow; x++) {
                const long c = (x & 7) >> 1;
                row[x] = (x & 1 ? b : a)[c * n + full];
            }
        }
    }
}

static inline __attribute__((always_inline))
void f2_input_transform(const float *plane, long h, long w, long th, long tw, float *padded, float *v, long xi_stride) {
    const long hw = tw + 1, ph = 2 * th + 2;
    // P[r][c] = plane[r - 1][c - 1], zero outside the plane, stored with each row's even columns
    // first and then its odd ones (hw each): a tile's four columns are E[j], O[j], E[j + 1], O[j + 1].
    for (long r = 0; r < ph; r++) {
        float *even = padded + r * 2 * hw, *odd = even + hw;
        const long y = r - 1;
        if (y < 0 || y >= h) {
            for (long j = 0; j < 2 * hw; j++) even[j] = 0;
            continue;
        }
        const float *src = plane + y * w;
        for (long j = 0; j < hw; j++) {
            const long ce = 2 * j - 1, co = 2 * j; // plane columns of P's columns 2j and 2j + 1
            even[j] = ce >= 0 && ce < w ? src[ce] : 0;
            odd[j] = co < w ? src[co] : 0;
        }
    }
    for (long ti = 0; ti < th; ti++) {
        const float *restrict e0 = padded + 2 * ti * 2 * hw, *restrict e1 = e0 + 2 * hw;
        const float *restrict e2 = e1 + 2 * hw, *restrict e3 = e2 + 2 * hw;
        const float *restrict o0 = e0 + hw, *restrict o1 = e1 + hw, *restrict o2 = e2 + hw, *restrict o3 = e3 + hw;
        float *restrict out = v + ti * tw;
#pragma clang loop vectorize(enable)
        for (long tj = 0; tj < tw; tj++) {
            // s = B^T d: the tile's rows combined, column by column (a, b, c, d).
            const float a0 = e0[tj] - e2[tj], a1 = e1[tj] + e2[tj], a2 = e2[tj] - e1[tj], a3 = e1[tj] - e3[tj];
            const float b0 = o0[tj] - o2[tj], b1 = o1[tj] + o2[tj], b2 = o2[tj] - o1[tj], b3 = o1[tj] - o3[tj];
            const float c0 = e0[tj + 1] - e2[tj + 1], c1 = e1[tj + 1] + e2[tj + 1];
            const float c2 = e2[tj + 1] - e1[tj + 1], c3 = e1[tj + 1] - e3[tj + 1];
            const float d0 = o0[tj + 1] - o2[tj + 1], d1 = o1[tj + 1] + o2[tj + 1];
            const float d2 = o2[tj + 1] - o1[tj + 1], d3 = o1[tj + 1] - o3[tj + 1];
            // then s B, row by row.
            const float q[16] = {a0 - c0, b0 + c0, c0 - b0, b0 - d0, a1 - c1, b1 + c1, c1 - b1, b1 - d1,
                                 a2 - c2, b2 + c2, c2 - b2, b2 - d2, a3 - c3, b3 + c3, c3 - b3, b3 - d3};
            for (int xi = 0; xi < 16; xi++) out[xi * xi_stride + tj] = q[xi];
        }
    }
}

static inline __attribute__((always_inline))
void f2_output_transform(const float *m0, const float *m1, long xi_stride, long th, long tw, float *plane, long oh, long ow,
                         long py, float bias, float *scratch) {
    // scratch[((r * 2 + c) * 2 + px) * tw + j]: output (row 2(2i + r) + py, column 4j + 2c + px)
    // of tile row i, for both column phases, so that a row's four values per tile are contiguous.
    for (long ti = 0; ti < th; ti++) {
        const long oy0 = 4 * ti + py;
        if (oy0 >= oh) continue; // phase 1 of an odd height: the last tile row has no output
        for (int px = 0; px < 2; px++) {
            const float *restrict q = (px ? m1 : m0) + ti * tw;
            float *restrict y00 = scratch + (0 * 2 + px) * tw, *restrict y01 = scratch + (2 + px) * tw;
            float *restrict y10 = scratch + (4 + px) * tw, *restrict y11 = scratch + (6 + px) * tw;
            for (long tj = 0; tj < tw; tj++) {
                float t0[4], t1[4];
                for (int k = 0; k < 4; k++) {
                    const float q0 = q[k * xi_stride + tj], q1 = q[(4 + k) * xi_stride + tj];
                    const float q2 = q[(8 + k) * xi_stride + tj], q3 = q[(12 + k) * xi_stride + tj];
                    t0[k] = q0 + q1 + q2;
                    t1[k] = q1 - q2 - q3;
                }
                y00[tj] = t0[0] + t0[1] + t0[2] + bias; y01[tj] = t0[1] - t0[2] - t0[3] + bias;
                y10[tj] = t1[0] + t1[1] + t1[2] + bias; y11[tj] = t1[1] - t1[2] - t1[3] + bias;
            }
        }
        for (int r = 0; r < 2; r++) {
            const long oy = oy0 + 2 * r;
            if (oy >= oh) break;
            float *row = plane + oy * ow;
            const float *a = scratch + (r * 4 + 0) * tw, *b = scratch + (r * 4 + 1) * tw;
            const float *c = scratch + (r * 4 + 2) * tw, *d = scratch + (r * 4 + 3) * tw;
            const long full = ow / 4; // tiles whose four columns all lie inside the row
            for (long tj = 0; tj < full; tj++) {
                row[4 * tj] = a[tj]; row[4 * tj + 1] = b[tj]; row[4 * tj + 2] = c[tj]; row[4 * tj + 3] = d[tj];
            }
            for (long tj = full; tj < tw; tj++) {
                const float v[4] = {a[tj], b[tj], c[tj], d[tj]};
                for (int k = 0; k < 4; k++) if (4 * tj + k < ow) row[4 * tj + k] = v[k];
            }
        }
    }
}

// Each transform once more per instruction set (the compiler vectorizes each copy for its own),
// which DISPATCH runs at the level the kernels run at.
#ifdef KERNELS_X86
#define TRANSFORMS_FOR(suffix, isa) \
__attribute__((target(isa))) static void input_transform_##suffix( \
    const float *plane, long h, long w, long step, long oy, long ox, long pad, long th, long tw, float *padded, \
    float *v, long xi_stride) { \
    input_transform(plane, h, w, step, oy, ox, pad, th, tw, padded, v, xi_stride); \
} \
__attribute__((target(isa))) static void output_transform_plain_##suffix( \
    const float *m, long xi_stride, long th, long tw, float *plane, long oh, long ow, float bias, float *scratch) { \
    output_transform_plain(m, xi_stride, th, tw, plane, oh, ow, bias, scratch); \
} \
__attribute__((target(isa))) static void f2_input_transform_##suffix( \
    const float *plane, long h, long w, long th, long tw, float *padded, float *v, long xi_stride) { \
    f2_input_transform(plane, h, w, th, tw, padded, v, xi_stride); \
} \
__attribute__((target(isa))) static void f2_output_transform_##suffix( \
    const float *m0, const float *m1, long xi_stride, long th, long tw, float *plane, long oh, long ow, long py, \
    float bias, float *scratch) { \
    f2_output_transform(m0, m1, xi_stride, th, tw, plane, oh, ow, py, bias, scratch); \
} \
__attribute__((target(isa))) static void output_transform_subpixel_##suffix( \
    const float *m0, const float *m1, long xi_stride, long th, long tw, float *plane, long oh, long ow, long py, \
    float bias, float *scratch) { \
    output_transform_subpixel(m0, m1, xi_stride, th, tw, plane, oh, ow, py, bias, scratch); \
}
TRANSFORMS_FOR(avx512, "avx512f,fma")
TRANSFORMS_FOR(avx2, "avx2,fma")
#endif

void inkwell_winograd_f4x3_input(const float *plane, long h, long w, long step, long offset_y, long offset_x, long pad,
                                 long th, long tw, float *padded, float *v, long xi_stride) {
    DISPATCH(input_transform, plane, h, w, step, offset_y, offset_x, pad, th, tw, padded, v, xi_stride);
    input_transform(plane, h, w, step, offset_y, offset_x, pad, th, tw, padded, v, xi_stride);
}

void inkwell_winograd_f4x3_output(const float *m, long xi_stride, long oh, long ow, float *plane, float bias,
                                  float *scratch) {
    const long th = (oh + 3) / 4, tw = (ow + 3) / 4;
    DISPATCH(output_transform_plain, m, xi_stride, th, tw, plane, oh, ow, bias, scratch);
    output_transform_plain(m, xi_stride, th, tw, plane, oh, ow, bias, scratch);
}

void inkwell_winograd_f2x3_input(const float *plane, long h, long w, float *padded, float *v, long xi_stride) {
    const long th = (h + 1) / 2, tw = (w + 1) / 2;
    DISPATCH(f2_input_transform, plane, h, w, th, tw, padded, v, xi_stride);
    f2_input_transform(plane, h, w, th, tw, padded, v, xi_stride);
}

long inkwell_winograd_scratch(long m, long th, long tw) {
    const long n = th * tw;
    if (m == 2) return (2 * th + 2) * 2 * (tw + 1); // the input transform's copy; the output needs 8 tw
    const long input = (4 * th + 2) * 4 * (tw + 1) + 36 * n, output = 56 * n; // output: the sub-pixel one's
    return input > output ? input : output;
}

void inkwell_winograd_output_subpixel(long m, const float *m0, const float *m1, long xi_stride, long h, long w, float *plane,
                                      long phase_y, float bias, float *scratch) {
    const long th = (h + m - 1) / m, tw = (w + m - 1) / m, oh = 2 * h - 1, ow = 2 * w - 1;
    if (m == 2) {
        DISPATCH(f2_output_transform, m0, m1, xi_stride, th, tw, plane, oh, ow, phase_y, bias, scratch);
        f2_output_transform(m0, m1, xi_stride, th, tw, plane, oh, ow, phase_y, bias, scratch);
    } else {
        DISPATCH(output_transform_subpixel, m0, m1, xi_stride, th, tw, plane, oh, ow, phase_y, bias, scratch);
        output_transform_subpixel(m0, m1, xi_stride, th, tw, plane, oh, ow, phase_y, bias, scratch);
    }
}
