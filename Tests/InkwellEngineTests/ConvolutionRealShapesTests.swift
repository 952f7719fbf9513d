import XCTest
@testable import InkwellEngine

/// Every convolution and transposed convolution of the reference and narrow models, at their real
/// map sizes, with odd channel counts and batches 1 to 5: output, input gradient and weight (and
/// bias) gradient against a float64 reference computed inside the test (no Python), at 64 sampled
/// elements of each tensor. Each layer runs both ways it runs in Inkwell: inside a training step
/// (`withReferenceRounding`: im2col + gemm) and outside (Winograd where it applies).
final class ConvolutionRealShapesTests: XCTestCase {
    /// One layer: a convolution (weight (out, in, 5, 5)) or a transposed convolution (weight
    /// (in, out, 5, 5), stride 2, padding 2) on an (in, height, width) input.
    struct Layer {
        let name: String, transposed: Bool, inChannels: Int, outChannels: Int, height: Int, width: Int
        let stride: Int, padding: Int, bias: Bool, batch: Int
    }

    /// The encoder's and discriminator's convolutions see their reflection-padded maps (padding 0
    /// here); the decoder's transposed convolutions pad by 2; the last conv is stride 1.
    static func layers(encoder e: [Int], decoder d: [Int], discriminator s: [Int], batches: [Int]) -> [Layer] {
        let maps = [(65, 121), (33, 61), (17, 31), (9, 16)]
        var out: [Layer] = []
        var b = batches.makeIterator()
        func next() -> Int { b.next() ?? 1 }
        for i in 0..<3 {
            out.append(Layer(name: "encoder.\(i)", transposed: false, inChannels: e[i], outChannels: e[i + 1],
                             height: maps[i].0 + 4, width: maps[i].1 + 4, stride: 2, padding: 0, bias: false, batch: next()))
        }
        for i in 0..<3 {
            out.append(Layer(name: "decoder.\(i)", transposed: true, inChannels: d[i], outChannels: d[i + 1],
                             height: maps[3 - i].0, width: maps[3 - i].1, stride: 2, padding: 2, bias: false, batch: next()))
        }
        out.append(Layer(name: "decoder.last", transposed: false, inChannels: d[3], outChannels: 3,
                         height: 69, width: 125, stride: 1, padding: 0, bias: true, batch: next()))
        for i in 0..<4 {
            let map = maps[max(i - 1, 0)]
            out.append(Layer(name: "discriminator.\(i)", transposed: false, inChannels: s[i], outChannels: s[i + 1],
                             height: map.0 + 4, width: map.1 + 4, stride: i == 0 ? 1 : 2, padding: 0, bias: true, batch: next()))
        }
        return out
    }

    /// Reference widths with each inner channel count made odd (64 -> 63, ...), and the narrow
    /// model of ../shared/golden with odd counts; together they use every batch from 1 to 5.
    static let allLayers =
        layers(encoder: [3, 63, 127, 255], decoder: [255, 255, 127, 63], discriminator: [3, 31, 127, 255, 255],
               batches: [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1])
        + layers(encoder: [3, 7, 17, 33], decoder: [33, 31, 15, 9], discriminator: [3, 9, 15, 33, 31],
                 batches: [5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 3])

    func testEveryModelConvolutionAgreesWithFloat64AtItsRealShape() {
        XCTAssertEqual(Set(Self.allLayers.map(\.batch)), [1, 2, 3, 4, 5])
        var generator = RandomGenerator(seed: 2026)
        for layer in Self.allLayers {
            let x = Tensor.uniform([layer.batch, layer.inChannels, layer.height, layer.width], low: -1, high: 1, using: &generator)
            x.requiresGrad = true
            let bound = 1 / Float(layer.inChannels * 25).squareRoot()
            let wShape = layer.transposed ? [layer.inChannels, layer.outChannels, 5, 5] : [layer.outChannels, layer.inChannels, 5, 5]
            let w = Tensor.uniform(wShape, low: -bound, high: bound, using: &generator)
            w.requiresGrad = true
            let b = layer.bias ? Tensor.uniform([layer.outChannels], low: -bound, high: bound, using: &generator) : nil
            b?.requiresGrad = true
            let reference = Float64Convolution(layer: layer, x: x, w: w, b: b)
            for inTrainingStep in [true, false] {
                let mode = "\(layer.name) \(Shape.describe(x.shape)) batch \(layer.batch), \(inTrainingStep ? "training step" : "outside")"
                [x, w, b].forEach { $0?.grad = nil }
                let y = inTrainingStep ? ConvolutionLowering.withReferenceRounding { reference.run() } : reference.run()
                let g = Tensor.uniform(y.shape, low: -1, high: 1, using: &generator)
                if inTrainingStep {
                    ConvolutionLowering.withReferenceRounding { y.backward(g) }
                } else {
                    y.backward(g)
                }
                var sampler = RandomGenerator(seed: 7)
                check(reference.output(at:), y, &sampler, "output, \(mode)")
                check({ reference.inputGradient(g, at: $0) }, x.grad!, &sampler, "input gradient, \(mode)")
                check({ reference.weightGradient(g, at: $0) }, w.grad!, &sampler, "weight gradient, \(mode)")
                if let b { check({ reference.biasGradient(g, at: $0) }, b.grad!, &sampler, "bias gradient, \(mode)") }
            }
        }
    }

    /// Inside a training step nothing runs Winograd: the same bits as with Winograd turned off.
    func testATrainingStepLowersEveryConvolutionLikePyTorch() {
        var generator = RandomGenerator(seed: 5)
        let x = Tensor.uniform([2, 9, 21, 35], low: -1, high: 1, using: &generator)
        let w = Tensor.uniform([7, 9, 5, 5], low: -0.1, high: 0.1, using: &generator)
        let wt = Tensor.uniform([9, 7, 5, 5], low: -0.1, high: 0.1, using: &generator)
        func both() -> [[Float]] {
            [conv2d(x, weight: w, stride: 2).values, convTranspose2d(x, weight: wt, stride: 2, padding: 2).values]
        }
        let inStep = ConvolutionLowering.withReferenceRounding { both() }
        let savedStrided = ConvolutionLowering.winogradStridedConvolutions
        let savedTransposed = ConvolutionLowering.winogradTransposedConvolutions
        ConvolutionLowering.winogradStridedConvolutions = false
        ConvolutionLowering.winogradTransposedConvolutions = false
        let gemm = both()
        ConvolutionLowering.winogradStridedConvolutions = savedStrided
        ConvolutionLowering.winogradTransposedConvolutions = savedTransposed
        let outside = both()
        XCTAssertEqual(inStep, gemm)
        XCTAssertNotEqual(outside, gemm, "outside a training step the Winograd paths run (different rounding)")
        XCTAssertFalse(ConvolutionLowering.referenceRounding, "the scope ends with its body")
    }

    /// ||mine - reference|| / ||reference|| over 64 sampled elements, at most 1e-4 (the golden
    /// ops' tolerance).
    private func check(_ reference: (Int) -> Double, _ mine: Tensor, _ sampler: inout RandomGenerator, _ what: String) {
        var diff = 0.0, norm = 0.0
        for _ in 0..<64 {
            let i = Int(sampler.next() % UInt64(mine.count))
            let r = reference(i)
            diff += (Double(mine.pointer[i]) - r) * (Double(mine.pointer[i]) - r)
            norm += r * r
        }
        let error = (diff / max(norm, 1e-300)).squareRoot()
        XCTAssertLessThanOrEqual(error, 1e-4, what)
    }
}

/// A convolution or transposed convolution evaluated element by element in float64, from the
/// definition.
private struct Float64Convolution {
    let layer: ConvolutionRealShapesTests.Layer
    let x: Tensor, w: Tensor, b: Tensor?
    var outHeight: Int {
        layer.transposed ? (layer.height - 1) * layer.stride - 2 * layer.padding + 5 : (layer.height + 2 * layer.padding - 5) / layer.stride + 1
    }
    var outWidth: Int {
        layer.transposed ? (layer.width - 1) * layer.stride - 2 * layer.padding + 5 : (layer.width + 2 * layer.padding - 5) / layer.stride + 1
    }

    func run() -> Tensor {
        layer.transposed
            ? convTranspose2d(x, weight: w, bias: b, stride: layer.stride, padding: layer.padding)
            : conv2d(x, weight: w, bias: b, stride: layer.stride, padding: layer.padding)
    }

    /// The taps linking input pixel (iy, ix) and output pixel (oy, ox), as kernel indices (ky, kx)
    /// and the validity of the link: for a convolution iy = s oy + ky - p; for a transposed one
    /// oy = s iy + ky - p.
    private func tap(iy: Int, ix: Int, oy: Int, ox: Int) -> (Int, Int)? {
        let (s, p) = (layer.stride, layer.padding)
        let (ky, kx) = layer.transposed ? (oy - s * iy + p, ox - s * ix + p) : (iy - s * oy + p, ix - s * ox + p)
        return (0..<5).contains(ky) && (0..<5).contains(kx) ? (ky, kx) : nil
    }
    private func weight(ci: Int, co: Int, _ ky: Int, _ kx: Int) -> Double {
        let (cin, cout) = (layer.inChannels, layer.outChannels)
        let index = layer.transposed ? ((ci * cout + co) * 5 + ky) * 5 + kx : ((co * cin + ci) * 5 + ky) * 5 + kx
        return Double(w.pointer[index])
    }
    private func input(_ n: Int, _ ci: Int, _ iy: Int, _ ix: Int) -> Double {
        Double(x.pointer[((n * layer.inChannels + ci) * layer.height + iy) * layer.width + ix])
    }
    /// The input pixels within reach of output (oy, ox), or the outputs within reach of input (iy, ix).
    private func inputs(near oy: Int, _ ox: Int) -> [(Int, Int)] {
        let r = layer.transposed ? 3 : 5
        let (cy, cx) = layer.transposed ? (oy / layer.stride, ox / layer.stride) : (oy * layer.stride, ox * layer.stride)
        return (cy - r...cy + r).flatMap { iy in (cx - r...cx + r).map { (iy, $0) } }
            .filter { $0.0 >= 0 && $0.1 >= 0 && $0.0 < layer.height && $0.1 < layer.width }
    }

    func output(at index: Int) -> Double {
        let (oh, ow) = (outHeight, outWidth)
        let (n, co, oy, ox) = (index / (layer.outChannels * oh * ow), index / (oh * ow) % layer.outChannels, index / ow % oh, index % ow)
        var sum = Double(b?.pointer[co] ?? 0)
        for (iy, ix) in inputs(near: oy, ox) {
            guard let (ky, kx) = tap(iy: iy, ix: ix, oy: oy, ox: ox) else { continue }
            for ci in 0..<layer.inChannels { sum += input(n, ci, iy, ix) * weight(ci: ci, co: co, ky, kx) }
        }
        return sum
    }

    func inputGradient(_ g: Tensor, at index: Int) -> Double {
        let (h, wd, oh, ow) = (layer.height, layer.width, outHeight, outWidth)
        let (n, ci, iy, ix) = (index / (layer.inChannels * h * wd), index / (h * wd) % layer.inChannels, index / wd % h, index % wd)
        var sum = 0.0
        for oy in 0..<oh {
            for ox in 0..<ow {
                guard let (ky, kx) = tap(iy: iy, ix: ix, oy: oy, ox: ox) else { continue }
                for co in 0..<layer.outChannels {
                    sum += Double(g.pointer[((n * layer.outChannels + co) * oh + oy) * ow + ox]) * weight(ci: ci, co: co, ky, kx)
                }
            }
        }
        return sum
    }

    func weightGradient(_ g: Tensor, at index: Int) -> Double {
        let (cin, cout, oh, ow) = (layer.inChannels, layer.outChannels, outHeight, outWidth)
        let (a, c, ky, kx) = (index / (25 * (layer.transposed ? cout : cin)), index / 25 % (layer.transposed ? cout : cin), index / 5 % 5, index % 5)
        let (ci, co) = layer.transposed ? (a, c) : (c, a)
        let (s, p) = (layer.stride, layer.padding)
        var sum = 0.0
        for n in 0..<layer.batch {
            for iy in 0..<layer.height {
                for ix in 0..<layer.width {
                    let (oy, ox) = layer.transposed ? (s * iy + ky - p, s * ix + kx - p) : ((iy - ky + p) / s, (ix - kx + p) / s)
                    guard oy >= 0, ox >= 0, oy < oh, ox < ow, tap(iy: iy, ix: ix, oy: oy, ox: ox).map({ $0 == (ky, kx) }) == true else { continue }
                    sum += input(n, ci, iy, ix) * Double(g.pointer[((n * cout + co) * oh + oy) * ow + ox])
                }
            }
        }
        return sum
    }

    func biasGradient(_ g: Tensor, at co: Int) -> Double {
        let plane = outHeight * outWidth
        var sum = 0.0
        for n in 0..<layer.batch { for i in 0..<plane { sum += Double(g.pointer[(n * layer.outChannels + co) * plane + i]) } }
        return sum
    }
}
