import CInkwellKernels
import Synchronization

// A stride-2, 5 x 5 convolution (the encoder's and the discriminator's blocks, and the input
// gradient of the decoder's transposed convolutions) with Winograd's F(4x4, 3x3).
//
// Phase form: split the zero-padded input into its four phases (a, b), the pixels (2y + a, 2x + b),
// and the kernel likewise (taps (2r + a, 2c + b), zero where that passes 4). Then
//   out(y, x) = sum over a, b, r, c of w(2r + a, 2c + b) * in_ab(y + r, x + c),
// a 3 x 3, stride-1 convolution with 4 * Cin input channels, one per (phase, channel). Winograd's
// F(4x4, 3x3) computes each 4 x 4 output tile from a 6 x 6 tile of the phases: 4 x 36 products
// per channel pair where the 5 x 5 kernel takes 16 x 25 (2.8x as many). The phases are read in
// place by the input transform (no copy); the 36 gemms are (Cout x 4 Cin) x (4 Cin x tiles).
//
// Never inside a training step (`ConvolutionLowering.withReferenceRounding`), whose convolutions
// lower as PyTorch's do: F(4x4)'s 7x larger rounding flips the signs of near-zero gradients
// (docs/PERFORMANCE.md, "Exactness at every width").

extension ConvolutionLowering {
    /// Whether stride-2, 5 x 5 convolutions with padding 0 or 2 and more than 4 input channels run
    /// with Winograd's F(4x4, 3x3) (on by default; tests compare it with im2col + gemm). This
    /// covers the forward of the encoder's and discriminator's strided convolutions and the input
    /// gradient of the decoder's transposed convolutions.
    public static var winogradStridedConvolutions: Bool {
        get { settings.withLock { $0.winogradStridedConvolutions } }
        set { settings.withLock { $0.winogradStridedConvolutions = newValue } }
    }

    static func usesWinogradStrided(channels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) -> Bool {
        winogradStridedConvolutions && channels > 4 && kernelHeight == 5 && kernelWidth == 5 && stride == 2
            && (padding == 0 || padding == 2)
    }
}

/// out (N, Cout, (H + 2p - 5) / 2 + 1, (W + 2p - 5) / 2 + 1) (+ bias) = the convolution of
/// x (N, Cin, H, W) with weight (Cout, Cin, 5, 5), stride 2, zero padding p (0 or 2).
func winogradStridedConvolution(_ x: UnsafePointer<Float>, n: Int, inChannels cin: Int, height h: Int, width w: Int,
                                weight: UnsafePointer<Float>, outChannels cout: Int, padding: Int,
                                bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) {
    precondition(padding % 2 == 0, "winogradStridedConvolution: odd padding")
    let (oh, ow) = ((h + 2 * padding - 5) / 2 + 1, (w + 2 * padding - 5) / 2 + 1)
    let (th, tw) = ((oh + 3) / 4, (ow + 3) / 4)
    let tilesPerImage = th * tw
    let depth = 4 * cin // (phase, input channel)

    // U[xi][co][(p, ci)] = (G g G^T)[xi] for the 3 x 3 sub-kernel g of phase p.
    let u = TensorStorage(count: 36 * cout * depth, zeroed: false)
    let up = u.pointer
    Parallel.forEach(cout) { co in
        var g = [Float](repeating: 0, count: 9)
        for p in 0..<4 {
            let (a, b) = (p >> 1, p & 1)
            for ci in 0..<cin {
                let taps = weight + (co * cin + ci) * 25
                for r in 0..<3 {
                    for c in 0..<3 {
                        let (ky, kx) = (2 * r + a, 2 * c + b)
                        g[r * 3 + c] = ky <= 4 && kx <= 4 ? taps[ky * 5 + kx] : 0
                    }
                }
                WinogradTile.f4x3.kernelTransform(g, into: up + co * depth + p * cin + ci, stride: cout * depth)
            }
        }
    }

    let group = imagesPerGroup(n, rows: 36 * max(depth, cout), positions: tilesPerImage)
    let v = TensorStorage(count: 36 * depth * group * tilesPerImage, zeroed: false)
    let m = TensorStorage(count: 36 * cout * group * tilesPerImage, zeroed: false)
    let scratchSize = inkwell_winograd_scratch(4, th, tw)
    for first in stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), tiles = count * tilesPerImage
        let (vp, mp) = (v.pointer, m.pointer)
        // V[xi][(p, ci)][tile]: the tiles of phase p = (a, b) of the padded input, whose pixel
        // (y, x) is input (2y + a - padding, 2x + b - padding), i.e. pixel (y - padding / 2,
        // x - padding / 2) of the input's phase (a, b).
        Parallel.forEach(count * cin) { item in
            let (j, ci) = (item / cin, item % cin)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchSize) { scratch in
                for p in 0..<4 {
                    inkwell_winograd_f4x3_input(x + ((first + j) * cin + ci) * h * w, h, w, 2, p >> 1, p & 1, padding / 2,
                                                th, tw, scratch.baseAddress!,
                                                vp + (p * cin + ci) * tiles + j * tilesPerImage, depth * tiles)
                }
            }
        }
        winogradProducts(points: 36, u: up, v: vp, m: mp, rows: cout, depth: depth, tiles: tiles)
        Parallel.forEach(count * cout) { item in
            let (j, co) = (item / cout, item % cout)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchSize) { scratch in
                inkwell_winograd_f4x3_output(mp + co * tiles + j * tilesPerImage, cout * tiles, oh, ow,
                                                   out + ((first + j) * cout + co) * oh * ow, bias?[co] ?? 0,
                                                   scratch.baseAddress!)
            }
        }
    }
}
