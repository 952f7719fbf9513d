import Foundation
import InkwellEngine

/// Times forward and backward of the reference model's convolutions (SPEC.md section 2) and a
/// square sgemm yardstick in the same run (`inkwell bench ops`).
public enum OpsBenchmark {
    /// Which lowering the convolutions take: the faster Winograd paths of evaluation and sampling,
    /// or the training step's (`ConvolutionLowering.withReferenceRounding`: im2col / col2im +
    /// sgemm, PyTorch's rounding).
    public enum Lowering: String, CaseIterable, Sendable {
        case inference, training
    }

    /// One convolution or transposed convolution as the bench runs it.
    public struct Layer: Sendable {
        public let name: String
        public let transposed: Bool
        public let inChannels, outChannels, height, width, kernel, stride, padding: Int
        public let bias: Bool

        public init(name: String, transposed: Bool, inChannels: Int, outChannels: Int, height: Int, width: Int,
                    kernel: Int, stride: Int, padding: Int, bias: Bool) {
            self.name = name; self.transposed = transposed
            self.inChannels = inChannels; self.outChannels = outChannels; self.height = height; self.width = width
            self.kernel = kernel; self.stride = stride; self.padding = padding; self.bias = bias
        }

        /// Output (height, width).
        public var outputSize: (Int, Int) {
            transposed
                ? ((height - 1) * stride - 2 * padding + kernel, (width - 1) * stride - 2 * padding + kernel)
                : ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
        }

        /// FLOPs of the forward pass at `batch` (a multiply-add counts 2): the product the layer
        /// lowers to, rows x patch x positions per image. The backward (input and weight
        /// gradients) does twice as many.
        public func forwardFLOPs(batch: Int) -> Double {
            let (oh, ow) = outputSize
            let positions = Double(transposed ? height * width : oh * ow)
            let patch = Double((transposed ? outChannels : inChannels) * kernel * kernel)
            let rows = Double(transposed ? inChannels : outChannels)
            return 2 * Double(batch) * rows * patch * positions
        }
    }

    /// The reference widths on 121 x 65 frames. Encoder and discriminator convs see
    /// reflection-padded inputs (hence the +4), so their own padding is 0.
    public static let referenceModel: [Layer] = [
        Layer(name: "enc.0", transposed: false, inChannels: 3, outChannels: 64, height: 69, width: 125, kernel: 5, stride: 2, padding: 0, bias: false),
        Layer(name: "enc.1", transposed: false, inChannels: 64, outChannels: 128, height: 37, width: 65, kernel: 5, stride: 2, padding: 0, bias: false),
        Layer(name: "enc.2", transposed: false, inChannels: 128, outChannels: 256, height: 21, width: 35, kernel: 5, stride: 2, padding: 0, bias: false),
        Layer(name: "dec.0", transposed: true, inChannels: 256, outChannels: 256, height: 9, width: 16, kernel: 5, stride: 2, padding: 2, bias: false),
        Layer(name: "dec.1", transposed: true, inChannels: 256, outChannels: 128, height: 17, width: 31, kernel: 5, stride: 2, padding: 2, bias: false),
        Layer(name: "dec.2", transposed: true, inChannels: 128, outChannels: 64, height: 33, width: 61, kernel: 5, stride: 2, padding: 2, bias: false),
        Layer(name: "dec.out", transposed: false, inChannels: 64, outChannels: 3, height: 69, width: 125, kernel: 5, stride: 1, padding: 0, bias: true),
        Layer(name: "disc.0", transposed: false, inChannels: 3, outChannels: 32, height: 69, width: 125, kernel: 5, stride: 1, padding: 0, bias: true),
        Layer(name: "disc.1", transposed: false, inChannels: 32, outChannels: 128, height: 69, width: 125, kernel: 5, stride: 2, padding: 0, bias: true),
        Layer(name: "disc.2", transposed: false, inChannels: 128, outChannels: 256, height: 37, width: 65, kernel: 5, stride: 2, padding: 0, bias: true),
        Layer(name: "disc.3", transposed: false, inChannels: 256, outChannels: 256, height: 21, width: 35, kernel: 5, stride: 2, padding: 0, bias: true),
    ]

    public struct Measurement: Sendable {
        public let layer: Layer
        /// Median wall-clock seconds.
        public let forward, backward: Double
        /// Median process CPU seconds (all threads): less sensitive to other processes on a busy
        /// machine than wall time.
        public let forwardCPU, backwardCPU: Double
        public let forwardFLOPs, backwardFLOPs: Double
        public var forwardRate: Double { forwardFLOPs / forward / 1e9 }
        public var backwardRate: Double { backwardFLOPs / backward / 1e9 }
        /// GFLOP/s over forward + backward.
        public var totalRate: Double { (forwardFLOPs + backwardFLOPs) / (forward + backward) / 1e9 }
        /// GFLOP per CPU second over forward + backward.
        public var totalCPURate: Double { (forwardFLOPs + backwardFLOPs) / (forwardCPU + backwardCPU) / 1e9 }
    }

    /// Median seconds and GFLOP/s of C = A B for n x n matrices (one warm-up first).
    public static func measureGemm(size n: Int, repeats: Int) -> (seconds: Double, gflops: Double, cpuGflops: Double) {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.uniform([n, n], low: -1, high: 1, using: &generator)
        let b = Tensor.uniform([n, n], low: -1, high: 1, using: &generator)
        let c = Tensor(zeros: [n, n])
        let once = { BLAS.gemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n) }
        once()
        let times = (0..<repeats).map { _ in timed(once) }
        let flops = 2 * Double(n) * Double(n) * Double(n)
        let seconds = median(times.map(\.wall))
        return (seconds, flops / seconds / 1e9, flops / median(times.map(\.cpu)) / 1e9)
    }

    /// Median forward and backward seconds (input, weight and bias gradients) after one warm-up.
    public static func measure(_ layer: Layer, batch: Int, repeats: Int) -> Measurement {
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.uniform([batch, layer.inChannels, layer.height, layer.width], low: -1, high: 1, using: &generator)
        x.requiresGrad = true
        let weightShape = layer.transposed
            ? [layer.inChannels, layer.outChannels, layer.kernel, layer.kernel]
            : [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel]
        let w = Tensor.uniform(weightShape, low: -0.05, high: 0.05, using: &generator)
        w.requiresGrad = true
        let b: Tensor? = layer.bias ? Tensor.uniform([layer.outChannels], low: -0.05, high: 0.05, using: &generator) : nil
        b?.requiresGrad = true
        let (oh, ow) = layer.outputSize
        let g = Tensor.uniform([batch, layer.outChannels, oh, ow], low: -1, high: 1, using: &generator)
        var forwardTimes: [(wall: Double, cpu: Double)] = [], backwardTimes: [(wall: Double, cpu: Double)] = []
        for rep in 0...repeats {
            x.zeroGrad(); w.zeroGrad(); b?.zeroGrad()
            var y: Tensor?
            let tf = timed {
                y = layer.transposed
                    ? convTranspose2d(x, weight: w, bias: b, stride: layer.stride, padding: layer.padding)
                    : conv2d(x, weight: w, bias: b, stride: layer.stride, padding: layer.padding)
            }
            let tb = timed { y!.backward(g) }
            if rep > 0 { forwardTimes.append(tf); backwardTimes.append(tb) }
        }
        let flops = layer.forwardFLOPs(batch: batch)
        return Measurement(layer: layer, forward: median(forwardTimes.map(\.wall)), backward: median(backwardTimes.map(\.wall)),
                           forwardCPU: median(forwardTimes.map(\.cpu)), backwardCPU: median(backwardTimes.map(\.cpu)),
                           forwardFLOPs: flops, backwardFLOPs: 2 * flops)
    }

    /// Runs the whole bench, printing through `output` line by line (the table of
    /// `inkwell bench ops`). Returns the measurements and the yardstick rate.
    @discardableResult
    public static func run(batch: Int, repeats: Int, gemmSize: Int, only: String? = nil, lowering: Lowering = .inference,
                           output: (String) -> Void) -> (layers: [Measurement], gemmRate: Double) {
        ConvolutionLowering.withReferenceRounding(lowering == .training) {
            runLayers(batch: batch, repeats: repeats, gemmSize: gemmSize, only: only, lowering: lowering, output: output)
        }
    }

    private static func runLayers(batch: Int, repeats: Int, gemmSize: Int, only: String?, lowering: Lowering,
                                  output: (String) -> Void) -> (layers: [Measurement], gemmRate: Double) {
        let layers = referenceModel.filter { only == nil || $0.name.contains(only!) }
        output("inkwell bench ops: batch \(batch), \(BLAS.threads) BLAS threads (OpenBLAS \(BLAS.coreType) kernels), \(Parallel.workers) engine workers, median of \(repeats), \(lowering.rawValue) lowering")
        let yardstick = measureGemm(size: gemmSize, repeats: max(repeats, 3))
        output("load average before: \(loadAverage())")
        output(String(format: "sgemm %d x %d x %d: %.1f ms, %.1f GFLOP/s (the yardstick); %.1f GFLOP per CPU second", gemmSize, gemmSize, gemmSize,
                      yardstick.seconds * 1e3, yardstick.gflops, yardstick.cpuGflops))
        let widths = [8, 13, 9, 9, 9, 8, 9, 9, 9, 9, 9]
        func row(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " ")
        }
        output(row(["layer", "input", "fwd ms", "bwd ms", "GFLOP", "fwd GF/s", "bwd GF/s", "f+b GF/s", "vs sgemm", "CPU GF/s", "vs sgemm"]))
        var results: [Measurement] = []
        for layer in layers {
            let m = measure(layer, batch: batch, repeats: repeats)
            results.append(m)
            output(row([layer.name, "\(layer.inChannels)x\(layer.height)x\(layer.width)",
                        String(format: "%.1f", m.forward * 1e3), String(format: "%.1f", m.backward * 1e3),
                        String(format: "%.1f", (m.forwardFLOPs + m.backwardFLOPs) / 1e9),
                        String(format: "%.1f", m.forwardRate), String(format: "%.1f", m.backwardRate),
                        String(format: "%.1f", m.totalRate), String(format: "%.0f%%", 100 * m.totalRate / yardstick.gflops),
                        String(format: "%.1f", m.totalCPURate), String(format: "%.0f%%", 100 * m.totalCPURate / yardstick.cpuGflops)]))
        }
        let totalTime = results.reduce(0) { $0 + $1.forward + $1.backward }
        let totalFLOPs = results.reduce(0) { $0 + $1.forwardFLOPs + $1.backwardFLOPs }
        output(String(format: "all layers: %.1f ms, %.1f GFLOP, %.1f GFLOP/s (%.0f%% of sgemm)", totalTime * 1e3, totalFLOPs / 1e9,
                      totalFLOPs / totalTime / 1e9, 100 * totalFLOPs / totalTime / 1e9 / yardstick.gflops))
        let atTarget = results.filter { $0.totalRate >= 0.5 * yardstick.gflops }.count
        output("\(atTarget)/\(results.count) layers at 50% of the sgemm rate or more (target: all)")
        output("load average after: \(loadAverage()) (rates are wall-clock; CPU columns count every thread's CPU time)")
        return (results, yardstick.gflops)
    }

    /// Wall-clock and process CPU seconds of `body`.
    static func timed(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        let cpuStart = processCPUSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (wall, processCPUSeconds() - cpuStart)
    }

    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// The first three fields of /proc/loadavg, or "unknown".
    public static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
