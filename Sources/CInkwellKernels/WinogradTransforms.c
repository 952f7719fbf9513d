// The transforms of Winograd's F(2x2, 3x3) for the sub-pixel form of a stride-2 transposed
// convolution (see WinogradTransposedConvolution.swift): B^T d B for the 4 x 4 input tiles of one
// plane, and A^T m A for the 2 x 2 output tiles of one (phase, channel) row, interleaved into the
// output plane. Tiles run along the innermost loops, so the compiler vectorizes across them.
#include "InkwellKernels.h"

static inline __attribute__((always_inline))
void input_transform(const float *plane, long h, long w, long th, long tw, float *padded, float *v, long xi_stride) {
    const long pw = 2 * tw + 2, ph = 2 * th + 2;
    // padded[r][c] = plane[r - 1][c - 1], zero outside the plane.
    for (long r = 0; r < ph; r++) {
        float *row = padded + r * pw;
        const long y = r - 1;
        if (y < 0 || y >= h) {
            for (long c = 0; c < pw; c++) row[c] = 0;
            continue;
        }
        row[0] = 0;
        for (long c = 0; c < w; c++) row[c + 1] = plane[y * w + c];
        for (long c = w + 1; c < pw; c++) row[c] = 0;
    }
    for (long ti = 0; ti < th; ti++) {
        const float *r0 = padded + 2 * ti * pw, *r1 = r0 + pw, *r2 = r1 + pw, *r3 = r2 + pw;
        float *out = v + ti * tw;
        for (long tj = 0; tj < tw; tj++) {
            const long c = 2 * tj;
            float s[4][4];
            for (int k = 0; k < 4; k++) {
                const float d0 = r0[c + k], d1 = r1[c + k], d2 = r2[c + k], d3 = r3[c + k];
                s[0][k] = d0 - d2; s[1][k] = d1 + d2; s[2][k] = d2 - d1; s[3][k] = d1 - d3;
            }
            for (int r = 0; r < 4; r++) {
                out[(4 * r + 0) * xi_stride + tj] = s[r][0] - s[r][2];
                out[(4 * r + 1) * xi_stride + tj] = s[r][1] + s[r][2];
                out[(4 * r + 2) * xi_stride + tj] = s[r][2] - s[r][1];
                out[(4 * r + 3) * xi_stride + tj] = s[r][1] - s[r][3];
            }
        }
    }
}

static inline __attribute__((always_inline))
void output_transform(const float *m0, const float *m1, long xi_stride, long th, long tw, float *plane, long oh, long ow,
                      long py, float bias, float *scratch) {
    // scratch[((r * 2 + c) * 2 + px) * tw + j]: output (row 2(2i + r) + py, column 4j + 2c + px)
    // of tile row i, for both column phases, so that a row's four values per tile are contiguous.
    for (long ti = 0; ti < th; ti++) {
        const long oy0 = 4 * ti + py;
        if (oy0 >= oh) continue; // phase 1 of an odd height: the last tile row has no output
        for (int px = 0; px < 2; px++) {
            const float *q = (px ? m1 : m0) + ti * tw;
            float *y00 = scratch + (0 * 2 + px) * tw, *y01 = scratch + (2 + px) * tw;
            float *y10 = scratch + (4 + px) * tw, *y11 = scratch + (6 + px) * tw;
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

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
__attribute__((target("avx512f")))
static void input_transform_avx512(const float *plane, long h, long w, long th, long tw, float *padded, float *v, long xi_stride) {
    input_transform(plane, h, w, th, tw, padded, v, xi_stride);
}

__attribute__((target("avx512f")))
static void output_transform_avx512(const float *m0, const float *m1, long xi_stride, long th, long tw, float *plane,
                                    long oh, long ow, long py, float bias, float *scratch) {
    output_transform(m0, m1, xi_stride, th, tw, plane, oh, ow, py, bias, scratch);
}
#endif

void inkwell_winograd_f2x3_input(const float *plane, long h, long w, float *padded, float *v, long xi_stride) {
    const long th = (h + 1) / 2, tw = (w + 1) / 2;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (inkwell_kernels_use_avx512()) { input_transform_avx512(plane, h, w, th, tw, padded, v, xi_stride); return; }
#endif
    input_transform(plane, h, w, th, tw, padded, v, xi_stride);
}

void inkwell_winograd_f2x3_output(const float *m0, const float *m1, long xi_stride, long h, long w, float *plane,
                                  long phase_y, float bias, float *scratch) {
    const long th = (h + 1) / 2, tw = (w + 1) / 2;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (inkwell_kernels_use_avx512()) {
        output_transform_avx512(m0, m1, xi_stride, th, tw, plane, 2 * h - 1, 2 * w - 1, phase_y, bias, scratch);
        return;
    }
#endif
    output_transform(m0, m1, xi_stride, th, tw, plane, 2 * h - 1, 2 * w - 1, phase_y, bias, scratch);
}
