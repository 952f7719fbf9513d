import CInkwellKernels
import Synchronization

// The forward pass of a stride-2, 5 x 5, padding-2 transposed convolution (the decoder's blocks)
// with Winograd's minimal filtering: no col2im, and 1.6x (F(2x2, 3x3)) or 2.6-3x (F(4x4, 3x3))
// fewer multiplications than gemm + col2im.
//
// Sub-pixel form: output pixel (2a + py, 2b + px) reads input pixels (a + t, b + u) for t, u in
// {-1, 0, 1} through kernel tap (py + 2 - 2t, px + 2 - 2u) (zero where that passes 4). So the
// transposed convolution is a 3 x 3, stride-1 convolution of the input (zero-padded by one) with
// 4 * Cout output channels, one per phase (py, px) and channel, whose results interleave into the
// output. Winograd's F(m x m, 3x3) computes each m x m tile of that convolution from an
// (m + 2) x (m + 2) input tile: (m + 2)^2 products per channel pair where direct evaluation takes
// 9 m^2, as (m + 2)^2 gemms (4 Cout x Cin) x (Cin x tiles), one per point of the transform.
//
// Where: never inside a training step (`ConvolutionLowering.withReferenceRounding`: gemm + col2im
// there, as PyTorch computes it). Outside, which m: F(4x4) is 1.6x cheaper than F(2x2), with
// rounding errors about 6x larger (relative L2 1.4e-6 against 2.2e-7 at the decoder's shapes). A
// forward that autograd records runs F(2x2); one that nothing differentiates (evaluation,
// reconstruction, sampling) runs F(4x4). See docs/PERFORMANCE.md, "Exactness at every width".

extension ConvolutionLowering {
    /// Whether stride-2, 5 x 5, padding-2 transposed convolutions run their forward pass with
    /// Winograd's algorithm (on by default; tests compare it with gemm + col2im).
    public static var winogradTransposedConvolutions: Bool {
        get { settings.withLock { $0.winogradTransposedConvolutions } }
        set { settings.withLock { $0.winogradTransposedConvolutions = newValue } }
    }

    static func usesWinograd(kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) -> Bool {
        winogradTransposedConvolutions && kernelHeight == 5 && kernelWidth == 5 && stride == 2 && padding == 2
    }
}

/// Winograd's minimal filtering algorithms for 3 x 3 kernels: F(m x m, 3 x 3) computes an m x m
/// output tile from an (m + 2) x (m + 2) input tile with (m + 2)^2 multiplications.
enum WinogradTile {
    case f2x3, f4x3

    /// m, the side of an output tile.
    var size: Int { self == .f2x3 ? 2 : 4 }
    /// (m + 2)^2, the points of the transform (one gemm each).
    var points: Int { (size + 2) * (size + 2) }

    /// U = G g G^T for a 3 x 3 kernel g (row-major): u[xi * stride] = U[xi] for xi < points.
    func kernelTransform(_ g: [Float], into u: UnsafeMutablePointer<Float>, stride: Int) {
        switch self {
        case .f2x3: winogradF2KernelTransform(g) { xi, value in u[xi * stride] = value }
        case .f4x3: winogradF4KernelTransform(g) { xi, value in u[xi * stride] = value }
        }
    }
}

/// out (N, Cout, 2H - 1, 2W - 1) (+ bias) = the transposed convolution of x (N, Cin, H, W) with
/// weight (Cin, Cout, 5, 5), stride 2, padding 2.
func winogradTransposedConvolution(_ x: UnsafePointer<Float>, n: Int, inChannels cin: Int, height h: Int, width w: Int,
                                   weight: UnsafePointer<Float>, outChannels cout: Int, bias: UnsafePointer<Float>?,
                                   tile: WinogradTile, _ out: UnsafeMutablePointer<Float>) {
    let (oh, ow) = (2 * h - 1, 2 * w - 1)
    let (size, points) = (tile.size, tile.points)
    let (th, tw) = ((h + size - 1) / size, (w + size - 1) / size)
    let tilesPerImage = th * tw
    let rows = 4 * cout // (phase, output channel)

    // U[xi][(p, co)][ci] = (G g G^T)[xi] for the 3 x 3 sub-kernel g of phase p.
    let u = TensorStorage(count: points * rows * cin, zeroed: false)
    let up = u.pointer
    Parallel.forEach(rows) { row in
        let (phase, co) = (row / cout, row % cout)
        let (py, px) = (phase >> 1, phase & 1)
        var g = [Float](repeating: 0, count: 9)
        for ci in 0..<cin {
            let taps = weight + (ci * cout + co) * 25
            for r in 0..<3 {
                let ky = py + 2 - 2 * (r - 1)
                for c in 0..<3 {
                    let kx = px + 2 - 2 * (c - 1)
                    g[r * 3 + c] = ky <= 4 && kx <= 4 ? taps[ky * 5 + kx] : 0
                }
            }
            tile.kernelTransform(g, into: up + row * cin + ci, stride: rows * cin)
        }
    }

    let group = imagesPerGroup(n, rows: points * max(cin, rows), positions: tilesPerImage)
    let v = TensorStorage(count: points * cin * group * tilesPerImage, zeroed: false)
    let m = TensorStorage(count: points * rows * group * tilesPerImage, zeroed: false)
    let scratchSize = inkwell_winograd_scratch(size, th, tw)
    for first in stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), tiles = count * tilesPerImage
        let (vp, mp) = (v.pointer, m.pointer)
        // V[xi][ci][tile] = (B^T d B)[xi] for the input tile d at rows m i - 1 ... m i + m and
        // columns m j - 1 ... m j + m (zero outside).
        Parallel.forEach(count * cin) { item in
            let (j, ci) = (item / cin, item % cin)
            let plane = x + ((first + j) * cin + ci) * h * w, to = vp + ci * tiles + j * tilesPerImage
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchSize) { scratch in
                switch tile {
                case .f2x3: inkwell_winograd_f2x3_input(plane, h, w, scratch.baseAddress!, to, cin * tiles)
                case .f4x3: inkwell_winograd_f4x3_input(plane, h, w, 1, 0, 0, 1, th, tw, scratch.baseAddress!, to, cin * tiles)
                }
            }
        }
        winogradProducts(points: points, u: up, v: vp, m: mp, rows: rows, depth: cin, tiles: tiles)
        // Y = A^T M A (m x m) per tile and row (phase, channel), interleaved into the output.
        Parallel.forEach(count * cout) { item in
            let (j, co) = (item / cout, item % cout)
            let plane = out + ((first + j) * cout + co) * oh * ow
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchSize) { scratch in
                for py in 0..<2 {
                    let m0 = mp + (2 * py * cout + co) * tiles + j * tilesPerImage
                    inkwell_winograd_output_subpixel(size, m0, m0 + cout * tiles, rows * tiles, h, w, plane, py, bias?[co] ?? 0,
                                                     scratch.baseAddress!)
                }
            }
        }
    }
}

/// M[xi] (rows x tiles) = U[xi] (rows x depth) V[xi] (depth x tiles) for each point xi of a
/// Winograd transform.
func winogradProducts(points: Int, u: UnsafePointer<Float>, v: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                      rows: Int, depth: Int, tiles: Int) {
    for xi in 0..<points {
        BLAS.gemm(m: rows, n: tiles, k: depth, a: u + xi * rows * depth, lda: depth, b: v + xi * depth * tiles, ldb: tiles,
                  c: m + xi * rows * tiles, ldc: tiles)
    }
}

/// U = G g G^T (4 x 4) for a 3 x 3 kernel g (row-major): `store(xi, U[xi])` for xi < 16, where
/// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
@inline(__always) func winogradF2KernelTransform(_ g: [Float], _ store: (Int, Float) -> Void) {
    @inline(__always) func applyG(_ a: Float, _ b: Float, _ c: Float) -> (Float, Float, Float, Float) {
        (a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
    }
    // Columns of t = G g (4 x 3), then U's rows = G applied to each row of t.
    let (t0, t1, t2) = (applyG(g[0], g[3], g[6]), applyG(g[1], g[4], g[7]), applyG(g[2], g[5], g[8]))
    func put(_ r: Int, _ row: (Float, Float, Float, Float)) {
        store(r * 4, row.0); store(r * 4 + 1, row.1); store(r * 4 + 2, row.2); store(r * 4 + 3, row.3)
    }
    put(0, applyG(t0.0, t1.0, t2.0)); put(1, applyG(t0.1, t1.1, t2.1))
    put(2, applyG(t0.2, t1.2, t2.2)); put(3, applyG(t0.3, t1.3, t2.3))
}

/// U = G g G^T (6 x 6) for a 3 x 3 kernel g (row-major): `store(xi, U[xi])` for xi < 36, where
/// G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6],
/// [0, 0, 1]] (computed in Double).
@inline(__always) func winogradF4KernelTransform(_ g: [Float], _ store: (Int, Float) -> Void) {
    @inline(__always) func applyG(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double, Double, Double, Double) {
        (a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c)
    }
    // Columns of t = G g (6 x 3), then U's rows = G applied to each row of t.
    let t0 = applyG(Double(g[0]), Double(g[3]), Double(g[6]))
    let t1 = applyG(Double(g[1]), Double(g[4]), Double(g[7]))
    let t2 = applyG(Double(g[2]), Double(g[5]), Double(g[8]))
    func put(_ r: Int, _ row: (Double, Double, Double, Double, Double, Double)) {
        store(r * 6, Float(row.0)); store(r * 6 + 1, Float(row.1)); store(r * 6 + 2, Float(row.2))
        store(r * 6 + 3, Float(row.3)); store(r * 6 + 4, Float(row.4)); store(r * 6 + 5, Float(row.5))
    }
    put(0, applyG(t0.0, t1.0, t2.0)); put(1, applyG(t0.1, t1.1, t2.1)); put(2, applyG(t0.2, t1.2, t2.2))
    put(3, applyG(t0.3, t1.3, t2.3)); put(4, applyG(t0.4, t1.4, t2.4)); put(5, applyG(t0.5, t1.5, t2.5))
}
