import XCTest
@testable import InkwellEngine

/// Winograd's F(2x2, 3x3) on the phase form of stride-2, 5 x 5 convolutions (padding 0 and 2)
/// against plain loops and against im2col + gemm, and as the input gradient of the decoder's
/// transposed convolutions.
final class WinogradStridedConvolutionTests: XCTestCase {
    /// out[n, co, oy, ox] = bias[co] + sum of x[n, ci, 2 oy + ky - p, 2 ox + kx - p] * w[co, ci, ky, kx]
    /// (zero outside the input): the definition, in Double.
    private func reference(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, padding p: Int) -> [Double] {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = w.shape[0]
        let (oh, ow) = ((h + 2 * p - 5) / 2 + 1, (wd + 2 * p - 5) / 2 + 1)
        var out = [Double](repeating: 0, count: n * cout * oh * ow)
        for i in 0..<n { for co in 0..<cout { for oy in 0..<oh { for ox in 0..<ow {
            var sum = Double(bias?.pointer[co] ?? 0)
            for ci in 0..<cin { for ky in 0..<5 { for kx in 0..<5 {
                let (iy, ix) = (2 * oy + ky - p, 2 * ox + kx - p)
                guard iy >= 0, ix >= 0, iy < h, ix < wd else { continue }
                sum += Double(x.pointer[((i * cin + ci) * h + iy) * wd + ix]) * Double(w.pointer[((co * cin + ci) * 5 + ky) * 5 + kx])
            } } }
            out[((i * cout + co) * oh + oy) * ow + ox] = sum
        } } } }
        return out
    }

    private func withWinograd<T>(_ on: Bool, _ body: () -> T) -> T {
        let saved = ConvolutionLowering.winogradStridedConvolutions
        ConvolutionLowering.winogradStridedConvolutions = on
        defer { ConvolutionLowering.winogradStridedConvolutions = saved }
        return body()
    }

    func testMatchesTheDefinitionAndTheGemmPathOnOddAndEvenSizes() {
        let savedLevel = ConvolutionLowering.kernelLevel
        defer { ConvolutionLowering.kernelLevel = savedLevel }
        var generator = RandomGenerator(seed: 21)
        // (images, in channels, out channels, height, width, padding, bias): odd and even sizes
        // (an even size leaves the last row and column unread), one-pixel outputs.
        let cases = [(1, 5, 1, 5, 5, 0, false), (2, 6, 3, 9, 10, 0, true), (3, 8, 4, 13, 20, 2, true), (2, 5, 6, 8, 7, 2, false),
                     (1, 7, 2, 1, 2, 2, true), (2, 6, 5, 21, 35, 0, false)]
        for (n, cin, cout, h, w, padding, hasBias) in cases {
            let x = Tensor.uniform([n, cin, h, w], low: -1, high: 1, using: &generator)
            let weight = Tensor.uniform([cout, cin, 5, 5], low: -1, high: 1, using: &generator)
            let bias = hasBias ? Tensor.uniform([cout], low: -1, high: 1, using: &generator) : nil
            let gemm = withWinograd(false) { conv2d(x, weight: weight, bias: bias, stride: 2, padding: padding) }
            XCTAssertEqual(gemm.shape, [n, cout, (h + 2 * padding - 5) / 2 + 1, (w + 2 * padding - 5) / 2 + 1])
            let expected = reference(x, weight, bias, padding: padding)
            let scale = Double(cin * 25).squareRoot()
            for (i, e) in expected.enumerated() {
                XCTAssertEqual(Double(gemm.pointer[i]), e, accuracy: 1e-5 * scale, "gemm, case \((n, cin, cout, h, w, padding)), element \(i)")
            }
            // Every version of the transforms the CPU runs (AVX-512, AVX2 + FMA, portable).
            for level in ConvolutionLowering.KernelLevel.allCases where level <= .cpu {
                ConvolutionLowering.kernelLevel = level
                let fast = withWinograd(true) { conv2d(x, weight: weight, bias: bias, stride: 2, padding: padding) }
                XCTAssertEqual(fast.shape, gemm.shape)
                for (i, e) in expected.enumerated() {
                    XCTAssertEqual(Double(fast.pointer[i]), e, accuracy: 1e-5 * scale,
                                   "winograd, kernels \(level), case \((n, cin, cout, h, w, padding)), element \(i)")
                }
            }
        }
    }

    func testFourChannelsOrFewerKeepTheirOwnPath() {
        XCTAssertFalse(ConvolutionLowering.usesWinogradStrided(channels: 3, kernelHeight: 5, kernelWidth: 5, stride: 2, padding: 0))
        XCTAssertFalse(ConvolutionLowering.usesWinogradStrided(channels: 64, kernelHeight: 5, kernelWidth: 5, stride: 1, padding: 0))
        XCTAssertFalse(ConvolutionLowering.usesWinogradStrided(channels: 64, kernelHeight: 5, kernelWidth: 5, stride: 2, padding: 1))
        XCTAssertTrue(ConvolutionLowering.usesWinogradStrided(channels: 64, kernelHeight: 5, kernelWidth: 5, stride: 2, padding: 2))
    }

    /// The decoder's transposed convolutions take their input gradient from this convolution
    /// (stride 2, padding 2); their gradients agree with the gemm path's.
    func testTransposedConvolutionInputGradientMatchesTheGemmPath() {
        var generator = RandomGenerator(seed: 22)
        let x = Tensor.uniform([2, 6, 5, 8], low: -1, high: 1, using: &generator)
        let weight = Tensor.uniform([6, 7, 5, 5], low: -1, high: 1, using: &generator)
        let upstream = Tensor.uniform([2, 7, 9, 15], low: -1, high: 1, using: &generator)
        var grads: [[Float]] = []
        for winograd in [true, false] {
            let (xi, wi) = (x.detached(), weight.detached())
            xi.requiresGrad = true; wi.requiresGrad = true
            withWinograd(winograd) { (convTranspose2d(xi, weight: wi, stride: 2, padding: 2) * upstream).sum().backward() }
            grads.append(xi.grad!.values + wi.grad!.values)
        }
        XCTAssertEqual(grads[0].count, grads[1].count)
        for (a, b) in zip(grads[0], grads[1]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    /// A Winograd forward leaves the convolution's backward as it was.
    func testGradientsThroughAWinogradForwardMatchTheGemmPath() {
        var generator = RandomGenerator(seed: 23)
        let x = Tensor.uniform([2, 6, 11, 12], low: -1, high: 1, using: &generator)
        let weight = Tensor.uniform([5, 6, 5, 5], low: -1, high: 1, using: &generator)
        let bias = Tensor.uniform([5], low: -1, high: 1, using: &generator)
        let upstream = Tensor.uniform([2, 5, 4, 4], low: -1, high: 1, using: &generator)
        var grads: [[Float]] = []
        for winograd in [true, false] {
            let (xi, wi, bi) = (x.detached(), weight.detached(), bias.detached())
            xi.requiresGrad = true; wi.requiresGrad = true; bi.requiresGrad = true
            withWinograd(winograd) { (conv2d(xi, weight: wi, bias: bi, stride: 2) * upstream).sum().backward() }
            grads.append(xi.grad!.values + wi.grad!.values + bi.grad!.values)
        }
        for (a, b) in zip(grads[0], grads[1]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }
}
