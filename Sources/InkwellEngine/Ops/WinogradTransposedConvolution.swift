import CInkwellKernels

// The forward pass of a stride-2, 5 x 5, padding-2 transposed convolution (the decoder's blocks)
// with Winograd's F(2x2, 3x3): 1.5x fewer multiplications than gemm + col2im, and no col2im.
//
// Sub-pixel form: output pixel (2a + py, 2b + px) reads input pixels (a + t, b + u) for t, u in
// {-1, 0, 1} through kernel tap (py + 2 - 2t, px + 2 - 2u) (zero where that passes 4). So the
// transposed convolution is a 3 x 3, stride-1 convolution of the input (zero-padded by one) with
// 4 * Cout output channels, one per phase (py, px) and channel, whose results interleave into the
// output. Winograd's F(2x2, 3x3) computes each 2 x 2 tile of that convolution from a 4 x 4 input
// tile: 16 products per channel pair where direct evaluation takes 36, as 16 gemms
// (4 Cout x Cin) x (Cin x tiles), one per point of the transform.

extension ConvolutionLowering {
    /// Whether stride-2, 5 x 5, padding-2 transposed convolutions run their forward pass with
    /// Winograd's F(2x2, 3x3) (on by default; tests compare it with gemm + col2im).
    nonisolated(unsafe) public static var winogradTransposedConvolutions = true

    static func usesWinograd(kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) -> Bool {
        winogradTransposedConvolutions && kernelHeight == 5 && kernelWidth == 5 && stride == 2 && padding == 2
    }
}

/// out (N, Cout, 2H - 1, 2W - 1) (+ bias) = the transposed convolution of x (N, Cin, H, W) with
/// weight (Cin, Cout, 5, 5), stride 2, padding 2.
func winogradTransposedConvolution(_ x: UnsafePointer<Float>, n: Int, inChannels cin: Int, height h: Int, width w: Int,
                                   weight: UnsafePointer<Float>, outChannels cout: Int, bias: UnsafePointer<Float>?,
                                   _ out: UnsafeMutablePointer<Float>) {
    let (oh, ow) = (2 * h - 1, 2 * w - 1)
    let (th, tw) = ((h + 1) / 2, (w + 1) / 2)
    let tilesPerImage = th * tw
    let rows = 4 * cout // (phase, output channel)

    // U[xi][(p, co)][ci] = (G g G^T)[xi] for the 3 x 3 sub-kernel g of phase p.
    let u = TensorStorage(count: 16 * rows * cin, zeroed: false)
    let up = u.pointer
    Parallel.forEach(cin) { ci in
        var g = [Float](repeating: 0, count: 9)
        var t = [Float](repeating: 0, count: 12)
        for p in 0..<4 {
            let (py, px) = (p >> 1, p & 1)
            for co in 0..<cout {
                let taps = weight + (ci * cout + co) * 25
                for r in 0..<3 {
                    let ky = py + 2 - 2 * (r - 1)
                    for c in 0..<3 {
                        let kx = px + 2 - 2 * (c - 1)
                        g[r * 3 + c] = ky <= 4 && kx <= 4 ? taps[ky * 5 + kx] : 0
                    }
                }
                // t = G g (4 x 3), then U = t G^T (4 x 4), i.e. G applied to each row of t.
                for c in 0..<3 {
                    let (g0, g1, g2) = (g[c], g[3 + c], g[6 + c])
                    t[c] = g0
                    t[3 + c] = 0.5 * (g0 + g1 + g2)
                    t[6 + c] = 0.5 * (g0 - g1 + g2)
                    t[9 + c] = g2
                }
                let row = p * cout + co
                for r in 0..<4 {
                    let (a0, a1, a2) = (t[r * 3], t[r * 3 + 1], t[r * 3 + 2])
                    let values = (a0, 0.5 * (a0 + a1 + a2), 0.5 * (a0 - a1 + a2), a2)
                    up[((r * 4 + 0) * rows + row) * cin + ci] = values.0
                    up[((r * 4 + 1) * rows + row) * cin + ci] = values.1
                    up[((r * 4 + 2) * rows + row) * cin + ci] = values.2
                    up[((r * 4 + 3) * rows + row) * cin + ci] = values.3
                }
            }
        }
    }

    let group = imagesPerGroup(n, rows: 16 * max(cin, rows), positions: tilesPerImage)
    let v = TensorStorage(count: 16 * cin * group * tilesPerImage, zeroed: false)
    let m = TensorStorage(count: 16 * rows * group * tilesPerImage, zeroed: false)
    for first in stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), tiles = count * tilesPerImage
        let (vp, mp) = (v.pointer, m.pointer)
        // V[xi][ci][tile] = (B^T d B)[xi] for the 4 x 4 input tile d at padded (2i, 2j), i.e.
        // input rows 2i - 1 ... 2i + 2 and columns 2j - 1 ... 2j + 2 (zero outside).
        let paddedSize = (2 * th + 2) * (2 * tw + 2)
        Parallel.forEach(count * cin) { item in
            let (j, ci) = (item / cin, item % cin)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: paddedSize) { scratch in
                inkwell_winograd_f2x3_input(x + ((first + j) * cin + ci) * h * w, h, w, scratch.baseAddress!,
                                            vp + ci * tiles + j * tilesPerImage, cin * tiles)
            }
        }
        for xi in 0..<16 {
            BLAS.gemm(m: rows, n: tiles, k: cin, a: up + xi * rows * cin, lda: cin, b: vp + xi * cin * tiles, ldb: tiles,
                      c: mp + xi * rows * tiles, ldc: tiles)
        }
        // Y = A^T M A (2 x 2) per tile and row (phase, channel), interleaved into the output.
        Parallel.forEach(count * cout) { item in
            let (j, co) = (item / cout, item % cout)
            let plane = out + ((first + j) * cout + co) * oh * ow
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * tw) { scratch in
                for py in 0..<2 {
                    let m0 = mp + (2 * py * cout + co) * tiles + j * tilesPerImage
                    inkwell_winograd_f2x3_output(m0, m0 + cout * tiles, rows * tiles, h, w, plane, py, bias?[co] ?? 0,
                                                 scratch.baseAddress!)
                }
            }
        }
    }
}
