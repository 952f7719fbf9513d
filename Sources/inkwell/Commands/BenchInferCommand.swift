import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

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

    @OptionGroup var options: ModelBenchOptions

    /// PyTorch's reconstruction time per 64 frames on the project's 2-core machine (issue 7).
    static let recordedTorchSecondsPer64 = 0.86

    func run() throws {
        let (batch, steps, threads, preset) = (options.batch, options.steps, options.threads, options.preset)
        let (widths, model, x) = try options.prepare()
        model.eval()
        let frame = widths.frameSize
        let cost = StepCost(widths: widths)
        let flops = Double(batch) * (cost.encoder + cost.decoder)
        print("inkwell bench infer: \(preset) widths, batch \(batch), \(frame[1]) x \(frame[0]), threads \(threads), OpenBLAS \(BLAS.coreType)")
        print(String(format: "FLOPs per batch (encoder + decoder convolutions and linear layers): %.1f GFLOP", flops / 1e9))
        print("load average before: \(OpsBenchmark.loadAverage())")
        let yardstick = options.measureYardstick()

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
                     ModelBenchOptions.shareOfYardstick(rate, yardstick), peak, OpsBenchmark.loadAverage()))

        guard !options.noTorch else { return }
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
    private func torchReconstructionSeconds() -> Double? {
        guard let json = TorchReference.run(script: options.torchReference, batch: options.batch, steps: options.steps,
                                            threads: options.threads) else { return nil }
        if let v = json["recon_fwd_s"] as? Double { return v }
        print("PyTorch: torch_reference.py printed no reconstruction time (keys: \(json.keys.sorted().joined(separator: ", ")))")
        return nil
    }
}
