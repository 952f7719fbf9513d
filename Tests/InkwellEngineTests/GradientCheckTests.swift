import XCTest
@testable import InkwellEngine
import CInkwellKernels

/// Every op's backward against central differences, on small random shapes, including strides,
/// paddings and kernel shapes the golden set does not have.
final class GradientCheckTests: XCTestCase {
    private typealias GC = GradientCheck

    // MARK: Convolutions

    func testConv2dStridesPaddingsAndKernels() {
        // (stride, padding, kh, kw, bias, H, W)
        let configurations: [(Int, Int, Int, Int, Bool, Int, Int)] = [
            (1, 0, 3, 3, true, 6, 7),
            (1, 1, 3, 3, false, 5, 6),
            (2, 0, 3, 3, true, 7, 8),
            (2, 1, 3, 2, true, 7, 6),   // non-square kernel, padding
            (2, 2, 5, 5, false, 9, 8),
            (3, 1, 2, 3, true, 8, 10),  // stride 3, non-square kernel
            (3, 0, 3, 3, false, 10, 9),
        ]
        for (index, (stride, padding, kh, kw, bias, h, w)) in configurations.enumerated() {
            let seed = UInt64(10 * index)
            let x = GC.leaf([2, 2, h, w], seed: seed + 1)
            let weight = GC.leaf([3, 2, kh, kw], seed: seed + 2)
            var inputs = [x, weight]
            if bias { inputs.append(GC.leaf([3], seed: seed + 3)) }
            GC.check(inputs) { t in
                conv2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: stride, padding: padding)
            }
        }
    }

    func testConvTranspose2dStridesAndPaddings() {
        // (stride, padding, kernel, bias, H, W)
        let configurations: [(Int, Int, Int, Bool, Int, Int)] = [
            (1, 0, 3, true, 4, 5),
            (1, 1, 3, false, 4, 5),
            (1, 2, 5, true, 4, 4),
            (2, 0, 3, false, 3, 4),
            (2, 1, 3, true, 4, 3),
            (2, 2, 5, true, 3, 5),
            (3, 1, 4, false, 3, 3),
        ]
        for (index, (stride, padding, kernel, bias, h, w)) in configurations.enumerated() {
            let seed = UInt64(100 + 10 * index)
            let x = GC.leaf([2, 3, h, w], seed: seed + 1)
            let weight = GC.leaf([3, 2, kernel, kernel], seed: seed + 2)
            var inputs = [x, weight]
            if bias { inputs.append(GC.leaf([2], seed: seed + 3)) }
            GC.check(inputs) { t in
                convTranspose2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: stride, padding: padding)
            }
        }
    }

    /// A convolution of a padded input keeps the padding's recipe, not the padded values, and
    /// pads again in its backward (direct, space-to-depth and im2col paths).
    func testConvolutionOfReflectionPaddedInput() {
        // (input channels, output channels, stride): direct stride 1, space-to-depth, im2col.
        for (index, (c, o, stride)) in [(3, 4, 1), (3, 4, 2), (5, 3, 2), (6, 2, 1)].enumerated() {
            let seed = UInt64(300 + 10 * index)
            let x = GC.leaf([2, c, 6, 7], seed: seed + 1)
            let weight = GC.leaf([o, c, 5, 5], seed: seed + 2), bias = GC.leaf([o], seed: seed + 3)
            GC.check([x, weight, bias]) { t in
                conv2d(reflectionPad2d(t[0], Padding2D(2)), weight: t[1], bias: t[2], stride: stride)
            }
        }
    }

    func testReflectionPadSymmetricAndAsymmetric() {
        GC.check([GC.leaf([2, 2, 4, 5], seed: 1)]) { reflectionPad2d($0[0], Padding2D(2)) }
        GC.check([GC.leaf([1, 2, 5, 4], seed: 2)]) {
            reflectionPad2d($0[0], Padding2D(left: 3, right: 0, top: 1, bottom: 4))
        }
    }

    // MARK: Matrix products

    func testLinearAndMatmul() {
        GC.check([GC.leaf([3, 4], seed: 1), GC.leaf([5, 4], seed: 2), GC.leaf([5], seed: 3)]) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        GC.check([GC.leaf([3, 4], seed: 4), GC.leaf([2, 4], seed: 5)]) { linear($0[0], weight: $0[1], bias: nil) }
        GC.check([GC.leaf([3, 4], seed: 6), GC.leaf([4, 2], seed: 7)]) { $0[0].matmul($0[1]) }
    }

    // MARK: Pointwise

    func testActivations() {
        GC.check([GC.leafAvoiding([3, 7], kinks: [0], seed: 1)]) { $0[0].relu() }
        GC.check([GC.leafAvoiding([3, 7], kinks: [0], seed: 2)]) { $0[0].leakyRelu(slope: 0.01) }
        GC.check([GC.leafAvoiding([3, 7], kinks: [0], seed: 3)]) { $0[0].leakyRelu(slope: 0.3) }
        GC.check([GC.leaf([3, 7], -2, 2, seed: 4)]) { $0[0].tanh() }
        GC.check([GC.leaf([3, 7], -3, 3, seed: 5)]) { $0[0].sigmoid() }
        GC.check([GC.leaf([3, 7], -1, 1, seed: 6)]) { $0[0].exp() }
        GC.check([GC.leaf([3, 7], 0.5, 3, seed: 7)]) { $0[0].log() }
        GC.check([GC.leafAvoiding([3, 7], kinks: [-0.5, 0.7], seed: 8)]) { $0[0].clamped(min: -0.5, max: 0.7) }
        GC.check([GC.leafAvoiding([3, 7], kinks: [0.2], seed: 9)]) { $0[0].clamped(max: 0.2) }
    }

    func testArithmetic() {
        let a = GC.leaf([2, 3, 4], seed: 1), b = GC.leaf([2, 3, 4], seed: 2)
        GC.check([a, b]) { $0[0] + $0[1] }
        GC.check([a, b]) { $0[0] - $0[1] }
        GC.check([a, b]) { $0[0] * $0[1] }
        GC.check([a, GC.leaf([2, 3, 4], 0.5, 2, seed: 3)]) { $0[0] / $0[1] }
        GC.check([a]) { $0[0] * 2.5 + 1.5 }
        GC.check([a]) { 3 - $0[0] }
        GC.check([a]) { -$0[0].squared() }
        GC.check([a, GC.leaf([], seed: 4)]) { $0[0] * $0[1] }          // a scalar broadcast
        GC.check([GC.leaf([1], seed: 5)]) { $0[0].expanded(to: [3, 2]) }
        GC.check([a]) { $0[0] * $0[0] }                                 // one input used twice
    }

    // MARK: Normalisation

    func testBatchNormTrainingAndEvaluation() {
        let x = GC.leaf([3, 2, 4, 3], -2, 2, seed: 1)
        let gamma = GC.leaf([2], 0.5, 1.5, seed: 2), beta = GC.leaf([2], seed: 3)
        GC.check([x, gamma, beta]) { batchNorm2d($0[0], weight: $0[1], bias: $0[2], running: nil, training: true) }
        GC.check([GC.leaf([2, 3, 3, 2], seed: 4)]) { batchNorm2d($0[0], weight: nil, bias: nil, running: nil, training: true) }
        let running = RunningStatistics(mean: Tensor(shape: [2], values: [0.3, -0.2]), variance: Tensor(shape: [2], values: [1.7, 0.6]))
        GC.check([x, gamma, beta]) { batchNorm2d($0[0], weight: $0[1], bias: $0[2], running: running, training: false) }
    }

    func testInstanceNorm() {
        GC.check([GC.leaf([2, 3, 4, 5], -2, 2, seed: 1)]) { instanceNorm2d($0[0]) }
        GC.check([GC.leaf([1, 2, 3, 2], -2, 2, seed: 2)]) { instanceNorm2d($0[0], eps: 1e-3) }
        // Fused with the leaky ReLU that follows it in the decoder (its backward reads only the
        // fused output). Central differences across the ReLU's kink are wrong, so the check
        // uses planes of eight distinct levels (i - 3.5, scaled): none normalises to near 0.
        let x = Tensor(shape: [2, 2, 2, 4], values: (0..<32).map { (Float(($0 * 3) % 8) - 3.5) * (1 + Float($0 / 8) * 0.3) },
                       requiresGrad: true)
        GC.check([x]) { instanceNorm2dLeakyRelu($0[0], slope: 0.2) }
        GC.check([x]) { instanceNorm2dLeakyRelu($0[0], eps: 1e-3, slope: 0.01) }
    }

    // MARK: Losses

    func testLosses() {
        for target: Float in [0, 1, 0.3] {
            GC.check([GC.leaf([4, 3], 0.1, 0.9, seed: 1)], h: 1e-3) { binaryCrossEntropy($0[0], target: target) }
        }
        GC.check([GC.leaf([3, 5], seed: 2), GC.leaf([3, 5], seed: 3)]) { mseLoss($0[0], $0[1]) }
        // |a - b| has a kink where a = b: a > b in every element, then the arguments swapped.
        GC.check([GC.leaf([3, 5], 0.1, 2, seed: 4), GC.leaf([3, 5], -2, -0.1, seed: 5)]) { l1Loss($0[0], $0[1]) }
        GC.check([GC.leaf([3, 5], 0.1, 2, seed: 6), GC.leaf([3, 5], -2, -0.1, seed: 7)]) { l1Loss($0[1], $0[0]) }
    }

    // MARK: Reductions and shapes

    func testReductions() {
        let x = GC.leaf([3, 4, 2], seed: 1)
        GC.check([x]) { $0[0].sum() }
        GC.check([x]) { $0[0].mean() }
        for axis in [0, 1, 2, -1] {
            GC.check([x]) { $0[0].sum(axis: axis) }
            GC.check([x]) { $0[0].mean(axis: axis) }
            GC.check([x]) { $0[0].variance(axis: axis) }
            GC.check([x]) { $0[0].variance(axis: axis, unbiased: false) }
        }
    }

    func testReshapeNarrowConcatenate() {
        let x = GC.leaf([2, 3, 4], seed: 1)
        GC.check([x]) { $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]) }
        GC.check([x]) { $0[0].flattened() }
        GC.check([x]) { $0[0].narrowed(axis: 2, start: 1, length: 2) }
        GC.check([x]) { $0[0].narrowed(axis: 0, start: 1, length: 1) }
        GC.check([x, GC.leaf([2, 1, 4], seed: 2), GC.leaf([2, 2, 4], seed: 3)]) { Tensor.concatenate($0, axis: 1) }
        GC.check([GC.leaf([2, 3], seed: 4), GC.leaf([2, 5], seed: 5)]) { Tensor.concatenate($0, axis: -1) }
    }

    // MARK: Variational terms

    func testKLDAndReparameterization() {
        let mu = GC.leaf([4, 3], seed: 1), logvar = GC.leaf([4, 3], -1, 1, seed: 2)
        GC.check([mu, logvar]) { kldPerSample(mu: $0[0], logvar: $0[1]) }
        GC.check([GC.leaf([6, 3], -2, 2, seed: 3)]) { kldBatch($0[0]) }
        GC.check([GC.leaf([3], seed: 4), GC.leaf([3], 0.3, 2, seed: 5)]) { kldOfStatistics(mean: $0[0], variance: $0[1]) }
        let eps = GC.leaf([4, 3], seed: 6)
        GC.check([mu, logvar, eps]) { reparameterize(mu: $0[0], logvar: $0[1], eps: $0[2]) }
        // Above the clamp the log-variance gets no gradient; below it, the usual one.
        let high = GC.leafAvoiding([4, 3], kinks: [0.5], seed: 7)
        GC.check([mu, high, eps]) { reparameterize(mu: $0[0], logvar: $0[1], eps: $0[2], logvarMax: 0.5) }
    }
}

/// The lowering groups several images into one product; the grouping must not change results.
final class ConvolutionGroupingTests: XCTestCase {
    private func run(budget: Int, _ body: () -> [[Float]]) -> [[Float]] {
        let saved = ConvolutionLowering.columnBudget
        ConvolutionLowering.columnBudget = budget
        defer { ConvolutionLowering.columnBudget = saved }
        return body()
    }

    private func convAll(transposed: Bool) -> [[Float]] {
        let x = GradientCheck.leaf(transposed ? [5, 3, 4, 5] : [5, 3, 9, 8], seed: 1)
        let w = GradientCheck.leaf(transposed ? [3, 4, 3, 3] : [4, 3, 3, 3], seed: 2)
        let b = GradientCheck.leaf([4], seed: 3)
        let y = transposed ? convTranspose2d(x, weight: w, bias: b, stride: 2, padding: 1)
                           : conv2d(x, weight: w, bias: b, stride: 2, padding: 1)
        var generator = RandomGenerator(seed: 4)
        y.backward(Tensor.randn(y.shape, using: &generator))
        return [y.values, x.grad!.values, w.grad!.values, b.grad!.values]
    }

    func testGroupSizesGiveTheSameResults() {
        for transposed in [false, true] {
            let together = run(budget: 1 << 30) { convAll(transposed: transposed) }
            // Patch rows are 27 (conv) or 36 (transposed); 20 positions per image for the conv and
            // 20 for the transposed conv's input: a budget of 2 images' worth leaves groups 2, 2, 1.
            let rows = transposed ? 4 * 9 : 3 * 9
            let pairs = run(budget: rows * 20 * 2) { convAll(transposed: transposed) }
            let single = run(budget: 1) { convAll(transposed: transposed) }
            for (a, b) in zip(together, pairs) { XCTAssertLessThanOrEqual(relativeL2(a, b), 1e-6) }
            for (a, b) in zip(together, single) { XCTAssertLessThanOrEqual(relativeL2(a, b), 1e-6) }
        }
    }
}

/// Products with few rows take the engine's own kernels instead of sgemm; they must agree with
/// the definition, for both operand layouts, with strides, alpha and beta.
final class SmallRowsProductTests: XCTestCase {
    func testMatchesDefinition() {
        var generator = RandomGenerator(seed: 11)
        for m in 1...4 {
            for transB in [false, true] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (2, 0.25)] {
                    let (n, k) = (301, 259)                 // n * k above the small-rows threshold
                    let (lda, ldb, ldc) = (k + 3, (transB ? k : n) + 5, n + 2)
                    let a = Tensor.uniform([m * lda], low: -1, high: 1, using: &generator)
                    let b = Tensor.uniform([(transB ? n : k) * ldb], low: -1, high: 1, using: &generator)
                    let c = Tensor.uniform([m * ldc], low: -1, high: 1, using: &generator)
                    var expected = c.values
                    for i in 0..<m {
                        for j in 0..<n {
                            var s = 0.0
                            for r in 0..<k {
                                let bv = transB ? b.pointer[j * ldb + r] : b.pointer[r * ldb + j]
                                s += Double(a.pointer[i * lda + r]) * Double(bv)
                            }
                            expected[i * ldc + j] = Float(Double(alpha) * s + Double(beta) * Double(c.pointer[i * ldc + j]))
                        }
                    }
                    BLAS.gemm(transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb,
                              beta: beta, c: c.pointer, ldc: ldc)
                    XCTAssertLessThanOrEqual(relativeL2(c.values, expected), 1e-6, "m \(m) transB \(transB) alpha \(alpha) beta \(beta)")
                }
            }
        }
    }
}

/// Stride-1 convolutions with few channels on one side run as direct convolutions; both kernels
/// (AVX-512 where the CPU has it, and the portable one) must agree with the im2col lowering.
final class DirectConvolutionTests: XCTestCase {
    private func convAll(_ n: Int, _ c: Int, _ o: Int, _ h: Int, _ w: Int, _ kh: Int, _ kw: Int, stride: Int = 1) -> [[Float]] {
        let x = GradientCheck.leaf([n, c, h, w], seed: 1)
        let weight = GradientCheck.leaf([o, c, kh, kw], seed: 2)
        let b = GradientCheck.leaf([o], seed: 3)
        let y = conv2d(x, weight: weight, bias: b, stride: stride)
        var generator = RandomGenerator(seed: 4)
        y.backward(Tensor.randn(y.shape, using: &generator))
        return [y.values, x.grad!.values, weight.grad!.values, b.grad!.values]
    }

    func testDirectMatchesLowering() {
        let saved = ConvolutionLowering.directSmallChannelConvolutions
        let savedLevel = ConvolutionLowering.kernelLevel
        defer { ConvolutionLowering.directSmallChannelConvolutions = saved; ConvolutionLowering.kernelLevel = savedLevel }
        // (N, C, O, H, W, kh, kw): few outputs, few inputs, rows wider than one 32-column block
        // with a ragged tail, a non-square kernel.
        // Stride 2 with few input channels runs as a stride-1 conv of the 2x2 phases: odd and
        // even sizes, odd and even kernels.
        let cases: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
            (2, 9, 3, 7, 45, 5, 5, 1), (3, 3, 10, 9, 37, 5, 5, 1), (2, 2, 6, 6, 8, 2, 3, 1), (1, 4, 1, 5, 70, 3, 3, 1),
            (2, 3, 8, 11, 13, 5, 5, 2), (2, 2, 5, 10, 12, 5, 5, 2), (1, 3, 4, 9, 10, 3, 4, 2), (2, 1, 3, 8, 9, 4, 4, 2),
        ]
        for (n, c, o, h, w, kh, kw, stride) in cases {
            ConvolutionLowering.directSmallChannelConvolutions = false
            let lowered = convAll(n, c, o, h, w, kh, kw, stride: stride)
            ConvolutionLowering.directSmallChannelConvolutions = true
            var outputs: [ConvolutionLowering.KernelLevel: [Float]] = [:]
            for level in ConvolutionLowering.KernelLevel.allCases where level <= .cpu {
                ConvolutionLowering.kernelLevel = level
                let direct = convAll(n, c, o, h, w, kh, kw, stride: stride)
                outputs[level] = direct[0]
                for (index, (a, b)) in zip(lowered, direct).enumerated() {
                    XCTAssertLessThanOrEqual(relativeL2(b, a), 1e-6, "shape \((n, c, o, h, w, kh, kw, stride)) kernels \(level) tensor \(index)")
                }
            }
            // The AVX2 forward sums each output's taps in the AVX-512 order: the same bits.
            if let wide = outputs[.avx512], let narrow = outputs[.avx2] {
                XCTAssertEqual(wide, narrow, "shape \((n, c, o, h, w, kh, kw, stride)): AVX2 and AVX-512 forwards differ")
            }
        }
    }
}

/// The stride-2 row moves of im2col and col2im: every version the CPU runs (AVX-512, AVX2 + FMA,
/// portable) must match the definition and touch nothing past the last element.
final class StridedRowsTests: XCTestCase {
    func testGatherAndScatterAddMatchTheDefinitionAndStayInBounds() {
        let saved = ConvolutionLowering.kernelLevel
        defer { ConvolutionLowering.kernelLevel = saved }
        var generator = RandomGenerator(seed: 21)
        for level in ConvolutionLowering.KernelLevel.allCases where level <= .cpu {
            ConvolutionLowering.kernelLevel = level
            for n in [0, 1, 7, 15, 16, 17, 31, 32, 33, 61, 100] {
                let wide = Tensor.uniform([2 * n + 40], low: -1, high: 1, using: &generator).values
                let narrow = Tensor.uniform([n + 40], low: -1, high: 1, using: &generator).values
                // Gather: dst[i] = src[2i]; the slot after the last output keeps its sentinel.
                var src = wide, dst = narrow
                src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
                    inkwell_gather_stride2(s.baseAddress!, d.baseAddress!, n)
                } }
                for i in 0..<n { XCTAssertEqual(dst[i], src[2 * i], "gather n \(n) i \(i) kernels \(level)") }
                XCTAssertEqual(Array(dst[n...]), Array(narrow[n...]), "gather wrote past n = \(n)")
                // Scatter-add: dst[2i] += src[i]; odd places and everything past 2n - 2 unchanged.
                src = narrow; dst = wide
                src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
                    inkwell_scatter_add_stride2(s.baseAddress!, d.baseAddress!, n)
                } }
                for j in 0..<dst.count {
                    let expected = j % 2 == 0 && j / 2 < n ? wide[j] + src[j / 2] : wide[j]
                    XCTAssertEqual(dst[j], expected, "scatter-add n \(n) j \(j) kernels \(level)")
                }
            }
        }
    }
}
