import ArgumentParser
import Foundation
import Inkwell

/// `inkwell bench infer`: reconstruction (encoder posterior mean -> decoder) in evaluation mode
/// without gradients, at the reference widths on random 121 x 65 frames; prints seconds per
/// batch, images per second, peak memory, the FLOP rate beside an sgemm yardstick measured in the
/// same run, and the comparison with PyTorch (torch_reference.py where python3 with torch is
/// present, else the figure recorded in issue 7: 0.86 s per 64 frames on the 2-core machine).
struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Time reconstruction (encode + decode, evaluation mode, no grad) at the reference widths."
    )

    @Option(help: "Images per batch.")
    var batch: Int = 64

    @Option(help: "Timed batches (after one warm-up batch); the median is reported.")
    var steps: Int = 3

    @Option(help: "Threads for OpenBLAS and the engine's loops.")
    var threads: Int = 2

    @Option(help: "Model widths: reference (default) or narrow.")
    var preset: String = "reference"

    @Option(help: "Size of the square sgemm yardstick (M = N = K); 0 skips it.")
    var gemmSize: Int = 2048

    @Option(help: "Path of torch_reference.py (default: ../shared/bench/torch_reference.py beside the package).")
    var torchReference: String?

    @Flag(help: "Skip the PyTorch comparison.")
    var noTorch = false

    /// PyTorch's reconstruction time per 64 frames on the project's 2-core machine (issue 7).
    static let recordedTorchSecondsPer64 = 0.86

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard gemmSize == 0 || gemmSize >= 64 else { throw ValidationError("--gemm-size must be 0 or at least 64") }
        guard ["reference", "narrow"].contains(preset) else { throw ValidationError("--preset must be reference or narrow") }
        if let torchReference, !FileManager.default.fileExists(atPath: torchReference) {
            throw ValidationError("--torch-reference \(torchReference): no such file")
        }
    }

    func run() throws {
        BLAS.threads = threads
        Parallel.workers = threads
        let widths = try ModelWidths.preset(preset)
        let frame = widths.frameSize
        Initialization.seed(0)
        let model = try VAEGAN(widths: widths)
        model.eval()
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.uniform([batch, widths.channels, frame[0], frame[1]], low: -1, high: 1, using: &generator)
        let cost = StepCost(widths: widths)
        let flops = Double(batch) * (cost.encoder + cost.decoder)
        print("inkwell bench infer: \(preset) widths, batch \(batch), \(frame[1]) x \(frame[0]), threads \(threads), OpenBLAS \(BLAS.coreType)")
        print(String(format: "FLOPs per batch (encoder + decoder convolutions and linear layers): %.1f GFLOP", flops / 1e9))
        print("load average before: \(OpsBenchmark.loadAverage())")
        var yardstick: Double?
        if gemmSize > 0 {
            let g = OpsBenchmark.measureGemm(size: gemmSize, repeats: 7)
            yardstick = g.gflops
            print(String(format: "sgemm %d^3: %.1f GFLOP/s (the yardstick, same run)", gemmSize, g.gflops))
        }

        var start = Date()
        _ = model.reconstruct(x)
        print(String(format: "warm-up batch: %.3f s", Date().timeIntervalSince(start)))
        var times: [Double] = []
        for i in 0..<steps {
            start = Date()
            let y = model.reconstruct(x)
            times.append(Date().timeIntervalSince(start))
            precondition(y.shape == x.shape, "reconstruction shape \(y.shape) differs from input \(x.shape)")
            print(String(format: "batch %d: %.3f s", i + 1, times.last!))
        }
        let sorted = times.sorted()
        let seconds = sorted[sorted.count / 2]
        let rate = flops / seconds / 1e9
        let peak = ProcessUsage.peakRSSMiB()
        print(String(format: "inkwell: %.3f s per batch (median of %d, spread %.3f-%.3f), %.1f images/s, %.1f GFLOP/s%@, peak RSS %.0f MiB, load average %@",
                     seconds, steps, sorted.first!, sorted.last!, Double(batch) / seconds, rate,
                     yardstick.map { String(format: " (%.0f%% of sgemm)", 100 * rate / $0) } ?? "", peak, OpsBenchmark.loadAverage()))

        guard !noTorch else { return }
        if let torch = torchReconstructionSeconds() {
            print(String(format: "PyTorch: %.3f s per batch, %.1f images/s; throughput ratio inkwell / PyTorch %.2fx (same invocation)",
                         torch, Double(batch) / torch, torch / seconds))
        } else if preset == "reference" {
            let torchPerBatch = Self.recordedTorchSecondsPer64 * Double(batch) / 64
            print(String(format: "versus the figure recorded in issue 7 for PyTorch on the 2-core machine (0.86 s per 64 frames, %.1f images/s): throughput %.2fx (not measured here)",
                         64 / Self.recordedTorchSecondsPer64, torchPerBatch / seconds))
        }
    }

    /// PyTorch's reconstruction seconds per batch from torch_reference.py, or nil (with a printed
    /// reason) where python3 with torch, the script, or a reconstruction figure in its output is
    /// missing.
    func torchReconstructionSeconds() -> Double? {
        guard let json = TorchReference.run(script: torchReference, batch: batch, steps: steps, threads: threads) else { return nil }
        if let v = json["recon_fwd_s"] as? Double { return v }
        print("PyTorch: torch_reference.py printed no reconstruction time (keys: \(json.keys.sorted().joined(separator: ", ")))")
        return nil
    }
}
