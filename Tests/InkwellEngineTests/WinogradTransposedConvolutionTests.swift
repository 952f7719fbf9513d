import XCTest
@testable import InkwellEngine

/// The Winograd forwards (F(2x2, 3x3) and F(4x4, 3x3)) of stride-2, 5 x 5, padding-2 transposed
/// convolutions against plain loops and against the gemm + col2im path.
final class WinogradTransposedConvolutionTests: XCTestCase {
    /// out[n, co, oy, ox] = sum of x[n, ci, iy, ix] * w[ci, co, ky, kx] over oy = 2 iy - 2 + ky,
    /// ox = 2 ix - 2 + kx (the definition, in Double).
    private func reference(_ x: Tensor, _ w: Tensor, _ bias: Tensor?) -> [Double] {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = w.shape[1]
        let (oh, ow) = (2 * h - 1, 2 * wd - 1)
        var out = [Double](repeating: 0, count: n * cout * oh * ow)
        for i in 0..<n { for co in 0..<cout { for oy in 0..<oh { for ox in 0..<ow {
            var sum = Double(bias?.pointer[co] ?? 0)
            for ci in 0..<cin { for ky in 0..<5 { for kx in 0..<5 {
                let (ty, tx) = (oy + 2 - ky, ox + 2 - kx)
                guard ty >= 0, tx >= 0, ty % 2 == 0, tx % 2 == 0, ty / 2 < h, tx / 2 < wd else { continue }
                sum += Double(x.pointer[((i * cin + ci) * h + ty / 2) * wd + tx / 2]) * Double(w.pointer[((ci * cout + co) * 5 + ky) * 5 + kx])
            } } }
            out[((i * cout + co) * oh + oy) * ow + ox] = sum
        } } } }
        return out
    }

    private func transposed(_ x: Tensor, _ w: Tensor, _ b: Tensor?, winograd: Bool) -> Tensor {
        let saved = ConvolutionLowering.winogradTransposedConvolutions
        ConvolutionLowering.winogradTransposedConvolutions = winograd
        defer { ConvolutionLowering.winogradTransposedConvolutions = saved }
        return convTranspose2d(x, weight: w, bias: b, stride: 2, padding: 2)
    }

    func testMatchesTheDefinitionAndTheGemmPathOnOddAndEvenSizes() {
        let savedLevel = ConvolutionLowering.kernelLevel
        defer { ConvolutionLowering.kernelLevel = savedLevel }
        var generator = RandomGenerator(seed: 11)
        // (images, in channels, out channels, height, width, bias): odd and even sizes, one-pixel maps.
        let cases = [(1, 1, 1, 1, 1, false), (2, 3, 2, 4, 5, true), (3, 5, 4, 9, 16, true), (2, 8, 6, 7, 6, false), (1, 2, 3, 2, 3, true),
                     (2, 32, 16, 17, 31, false), (1, 16, 8, 33, 61, true)]
        for (n, cin, cout, h, w, hasBias) in cases {
            let x = Tensor.uniform([n, cin, h, w], low: -1, high: 1, using: &generator)
            let weight = Tensor.uniform([cin, cout, 5, 5], low: -1, high: 1, using: &generator)
            let bias = hasBias ? Tensor.uniform([cout], low: -1, high: 1, using: &generator) : nil
            let gemm = transposed(x, weight, bias, winograd: false)
            XCTAssertEqual(gemm.shape, [n, cout, 2 * h - 1, 2 * w - 1])
            let expected = reference(x, weight, bias)
            let scale = Double(cin * 25).squareRoot()
            // Every version of the transforms the CPU runs (AVX-512, AVX2 + FMA, portable).
            for level in ConvolutionLowering.KernelLevel.allCases where level <= .cpu {
                ConvolutionLowering.kernelLevel = level
                for tile in [WinogradTile.f2x3, .f4x3] {
                    let fast = Tensor.empty(gemm.shape)
                    winogradTransposedConvolution(x.pointer, n: n, inChannels: cin, height: h, width: w, weight: weight.pointer,
                                                  outChannels: cout, bias: bias?.pointer, tile: tile, fast.pointer)
                    for (i, e) in expected.enumerated() {
                        XCTAssertEqual(Double(fast.pointer[i]), e, accuracy: 1e-5 * scale,
                                       "\(tile), kernels \(level), case \((n, cin, cout, h, w)), element \(i)")
                    }
                }
            }
            for (i, e) in expected.enumerated() {
                XCTAssertEqual(Double(gemm.pointer[i]), e, accuracy: 1e-5 * scale, "gemm, case \((n, cin, cout, h, w)), element \(i)")
            }
        }
    }

    /// A forward that autograd records runs F(2x2, 3x3); one that nothing differentiates runs
    /// F(4x4, 3x3).
    func testRecordedForwardsRunTheSmallTileAndOthersTheLargeOne() {
        var generator = RandomGenerator(seed: 13)
        let (n, cin, cout, h, w) = (2, 6, 5, 9, 16)
        let x = Tensor.uniform([n, cin, h, w], low: -1, high: 1, using: &generator)
        let weight = Tensor.uniform([cin, cout, 5, 5], low: -1, high: 1, using: &generator)
        func direct(_ tile: WinogradTile) -> [Float] {
            let out = Tensor.empty([n, cout, 2 * h - 1, 2 * w - 1])
            winogradTransposedConvolution(x.pointer, n: n, inChannels: cin, height: h, width: w, weight: weight.pointer,
                                          outChannels: cout, bias: nil, tile: tile, out.pointer)
            return out.values
        }
        let (small, large) = (direct(.f2x3), direct(.f4x3))
        XCTAssertNotEqual(small, large)
        let trained = weight.detached()
        trained.requiresGrad = true
        XCTAssertEqual(transposed(x, trained, nil, winograd: true).values, small)
        XCTAssertEqual(withoutGrad { transposed(x, trained, nil, winograd: true) }.values, large)
        XCTAssertEqual(transposed(x, weight, nil, winograd: true).values, large)
    }

    func testGradientsThroughAWinogradForwardMatchTheGemmPath() {
        var generator = RandomGenerator(seed: 12)
        let x = Tensor.uniform([2, 4, 5, 6], low: -1, high: 1, using: &generator)
        let weight = Tensor.uniform([4, 3, 5, 5], low: -1, high: 1, using: &generator)
        let upstream = Tensor.uniform([2, 3, 9, 11], low: -1, high: 1, using: &generator)
        var grads: [[Float]] = []
        for winograd in [true, false] {
            let (xi, wi) = (x.detached(), weight.detached())
            xi.requiresGrad = true; wi.requiresGrad = true
            (transposed(xi, wi, nil, winograd: winograd) * upstream).sum().backward()
            grads.append(xi.grad!.values + wi.grad!.values)
        }
        for (a, b) in zip(grads[0], grads[1]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }
}
