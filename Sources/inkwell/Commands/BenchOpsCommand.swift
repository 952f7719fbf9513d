import ArgumentParser
import Foundation
import Inkwell

/// `inkwell bench ops`: times forward and backward of every convolution and transposed
/// convolution of the reference model (SPEC.md section 2) and compares each one's achieved rate
/// with plain sgemm measured in the same run.
struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Time the reference model's convolutions, forward and backward, against sgemm."
    )

    @Option(help: "Batch size.")
    var batch: Int = 64

    @Option(help: "Threads for OpenBLAS and the engine's own loops (default: all cores).")
    var threads: Int?

    @Option(help: "Timed repetitions per measurement; the median is reported.")
    var repeats: Int = 3

    @Option(help: "Size of the square sgemm yardstick (M = N = K).")
    var gemmSize: Int = 2048

    @Option(help: "Only layers whose name contains this text.")
    var only: String?

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard gemmSize >= 64 else { throw ValidationError("--gemm-size must be at least 64") }
    }

    func run() throws {
        if let threads {
            BLAS.threads = threads
            Parallel.workers = threads
        }
        let layers = ConvBenchLayer.referenceModel.filter { only == nil || $0.name.contains(only!) }
        guard !layers.isEmpty else { throw ValidationError("--only \(only ?? ""): no layer matches") }
        print("inkwell bench ops: batch \(batch), threads \(BLAS.threads) (OpenBLAS \(BLAS.coreType) kernels), median of \(repeats)")

        let yardstick = measureGemm()
        print(String(format: "sgemm %d x %d x %d: %.1f ms, %.1f GFLOP/s (yardstick)", gemmSize, gemmSize, gemmSize,
                     yardstick.seconds * 1e3, yardstick.gflops))
        print("")
        let header = ["layer", "input", "fwd ms", "bwd ms", "GFLOP f+b", "fwd GF/s", "bwd GF/s", "f+b GF/s", "vs sgemm"]
        let widths = [10, 18, 9, 9, 10, 9, 9, 9, 9]
        func row(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " ")
        }
        print(row(header))
        var below = 0
        for layer in layers {
            let m = layer.measure(batch: batch, repeats: repeats)
            let total = (m.forwardFLOPs + m.backwardFLOPs) / (m.forward + m.backward) / 1e9
            let ratio = total / yardstick.gflops
            if ratio < 0.5 { below += 1 }
            print(row([layer.name, layer.inputDescription(batch: batch),
                       String(format: "%.1f", m.forward * 1e3), String(format: "%.1f", m.backward * 1e3),
                       String(format: "%.1f", (m.forwardFLOPs + m.backwardFLOPs) / 1e9),
                       String(format: "%.1f", m.forwardFLOPs / m.forward / 1e9),
                       String(format: "%.1f", m.backwardFLOPs / m.backward / 1e9),
                       String(format: "%.1f", total), String(format: "%.0f%%", ratio * 100)]))
        }
        print("")
        print("\(layers.count - below)/\(layers.count) layers at 50% of the sgemm rate or more (target: all)")
    }

    /// Median time and rate of C = A B for square matrices of `gemmSize`.
    func measureGemm() -> (seconds: Double, gflops: Double) {
        let n = gemmSize
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.uniform([n, n], low: -1, high: 1, using: &generator)
        let b = Tensor.uniform([n, n], low: -1, high: 1, using: &generator)
        let c = Tensor(zeros: [n, n])
        let once = { BLAS.gemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n) }
        once() // warm-up: thread pool, page faults
        let seconds = median((0..<max(repeats, 3)).map { _ in timed(once) })
        return (seconds, 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9)
    }
}

/// One convolution of the reference model, as the bench runs it.
struct ConvBenchLayer {
    let name: String
    let transposed: Bool
    let inChannels, outChannels, height, width, kernel, stride, padding: Int
    let bias: Bool

    /// SPEC.md section 2 at the reference widths on 121 x 65 frames. Encoder and discriminator
    /// convs see reflection-padded inputs (hence the +4), so their own padding is 0.
    static let referenceModel: [ConvBenchLayer] = [
        .init(name: "enc.0", transposed: false, inChannels: 3, outChannels: 64, height: 69, width: 125, kernel: 5, stride: 2, padding: 0, bias: false),
        .init(name: "enc.1", transposed: false, inChannels: 64, outChannels: 128, height: 37, width: 65, kernel: 5, stride: 2, padding: 0, bias: false),
        .init(name: "enc.2", transposed: false, inChannels: 128, outChannels: 256, height: 21, width: 35, kernel: 5, stride: 2, padding: 0, bias: false),
        .init(name: "dec.0", transposed: true, inChannels: 256, outChannels: 256, height: 9, width: 16, kernel: 5, stride: 2, padding: 2, bias: false),
        .init(name: "dec.1", transposed: true, inChannels: 256, outChannels: 128, height: 17, width: 31, kernel: 5, stride: 2, padding: 2, bias: false),
        .init(name: "dec.2", transposed: true, inChannels: 128, outChannels: 64, height: 33, width: 61, kernel: 5, stride: 2, padding: 2, bias: false),
        .init(name: "dec.out", transposed: false, inChannels: 64, outChannels: 3, height: 69, width: 125, kernel: 5, stride: 1, padding: 0, bias: true),
        .init(name: "disc.0", transposed: false, inChannels: 3, outChannels: 32, height: 69, width: 125, kernel: 5, stride: 1, padding: 0, bias: true),
        .init(name: "disc.1", transposed: false, inChannels: 32, outChannels: 128, height: 69, width: 125, kernel: 5, stride: 2, padding: 0, bias: true),
        .init(name: "disc.2", transposed: false, inChannels: 128, outChannels: 256, height: 37, width: 65, kernel: 5, stride: 2, padding: 0, bias: true),
        .init(name: "disc.3", transposed: false, inChannels: 256, outChannels: 256, height: 21, width: 35, kernel: 5, stride: 2, padding: 0, bias: true),
    ]

    func inputDescription(batch: Int) -> String { "\(inChannels)x\(height)x\(width)" }

    /// Output (height, width).
    var outputSize: (Int, Int) {
        transposed
            ? ((height - 1) * stride - 2 * padding + kernel, (width - 1) * stride - 2 * padding + kernel)
            : ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }

    /// Median seconds of the forward pass and of the backward pass (input, weight and bias
    /// gradients), with the FLOPs each does (multiply-adds count 2; backward is two products).
    func measure(batch: Int, repeats: Int) -> (forward: Double, backward: Double, forwardFLOPs: Double, backwardFLOPs: Double) {
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.uniform([batch, inChannels, height, width], low: -1, high: 1, using: &generator)
        x.requiresGrad = true
        let weightShape = transposed ? [inChannels, outChannels, kernel, kernel] : [outChannels, inChannels, kernel, kernel]
        let w = Tensor.uniform(weightShape, low: -0.05, high: 0.05, using: &generator)
        w.requiresGrad = true
        let b: Tensor? = bias ? Tensor.uniform([outChannels], low: -0.05, high: 0.05, using: &generator) : nil
        b?.requiresGrad = true
        let (oh, ow) = outputSize
        let g = Tensor.uniform([batch, outChannels, oh, ow], low: -1, high: 1, using: &generator)
        let forward = { () -> Tensor in
            transposed ? convTranspose2d(x, weight: w, bias: b, stride: stride, padding: padding)
                       : conv2d(x, weight: w, bias: b, stride: stride, padding: padding)
        }
        var forwardTimes: [Double] = [], backwardTimes: [Double] = []
        for rep in 0...repeats {
            x.zeroGrad(); w.zeroGrad(); b?.zeroGrad()
            var y: Tensor?
            let tf = timed { y = forward() }
            let tb = timed { y!.backward(g) }
            if rep > 0 { forwardTimes.append(tf); backwardTimes.append(tb) } // rep 0 warms up
        }
        // The product a convolution lowers to: (out channels) x (patch) x (positions) per image;
        // for a transposed conv the roles of input and output swap.
        let positions = Double(transposed ? height * width : oh * ow)
        let patch = Double((transposed ? outChannels : inChannels) * kernel * kernel)
        let rows = Double(transposed ? inChannels : outChannels)
        let flops = 2 * Double(batch) * rows * patch * positions
        return (median(forwardTimes), median(backwardTimes), flops, 2 * flops)
    }
}

func timed(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
