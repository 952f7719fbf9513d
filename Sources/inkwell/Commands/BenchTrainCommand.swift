import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

/// `inkwell bench train`: full training steps (the seed schedule, moving-batch KLD, dual-gradient
/// beta) at the reference widths on random 121 x 65 frames; prints seconds per step, images per
/// second, peak memory and the FLOP rate, and, where `python3 -c "import torch"` works, runs
/// ../shared/bench/torch_reference.py with the same batch and threads and prints the ratio.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time full training steps at the reference widths (and PyTorch's, where available)."
    )

    @OptionGroup var options: ModelBenchOptions

    /// PyTorch's figure on the project's 2-core machine, from issue 4 (used when torch is absent).
    static let recordedTorchSeconds = 22.0
    static let recordedTorchPeakMiB = 4.4 * 1000 * 1000 * 1000 / 1_048_576

    func validate() throws {
        // Batch statistics (batch norm, the batch KLD) need two images.
        guard options.batch >= 2 else { throw ValidationError("--batch must be at least 2") }
    }

    func run() throws {
        let (batch, steps, threads, preset) = (options.batch, options.steps, options.threads, options.preset)
        let (widths, model, x) = try options.prepare()
        let frame = widths.frameSize
        let context = StepContext(model: model, optimizers: VAEGANOptimizers(model: model), kld: MovingBatchKLD(), beta: DualGradientBeta())
        let noise = SeededNoise(seed: 2)
        let schedule = SeedSchedule()
        let cost = StepCost(widths: widths)
        let flops = cost.seedStepFLOPs(batch: batch)
        print("inkwell bench train: \(preset) widths (\(model.parameterCount) parameters), batch \(batch), \(frame[1]) x \(frame[0]), threads \(threads), OpenBLAS \(BLAS.coreType)")
        print(String(format: "FLOPs per step (convolutions and linear layers, backward = 2x forward): %.1f GFLOP", flops / 1e9))
        let yardstick = options.measureYardstick()

        var start = Date()
        _ = try schedule.run(context, images: x, noise: noise)
        print(String(format: "warm-up step: %.2f s", Date().timeIntervalSince(start)))
        var times: [Double] = []
        let cpuBefore = ProcessUsage.cpuSeconds()
        for i in 0..<steps {
            start = Date()
            let r = try schedule.run(context, images: x, noise: noise)
            times.append(Date().timeIntervalSince(start))
            print(String(format: "step %d: %.2f s (kld %.4g, pixel %.4g)", i + 1, times.last!, r.losses["kld"] ?? .nan, r.losses["pixel"] ?? .nan))
        }
        let sorted = times.sorted()
        let seconds = sorted[sorted.count / 2]
        let cpuPerStep = (ProcessUsage.cpuSeconds() - cpuBefore) / Double(steps)
        let peak = ProcessUsage.peakRSSMiB()
        let rate = flops / seconds / 1e9
        print(String(format: "inkwell: %.2f s/step (median of %d, spread %.2f-%.2f), %.2f images/s, %.1f GFLOP/s%@, peak RSS %.0f MiB",
                     seconds, times.count, sorted.first!, sorted.last!, Double(batch) / seconds, rate,
                     ModelBenchOptions.shareOfYardstick(rate, yardstick), peak))
        print(String(format: "CPU time %.1f s/step (%.1f s per thread of %d); load average %@ (other processes on these cores inflate the wall time)",
                     cpuPerStep, cpuPerStep / Double(threads), threads, OpsBenchmark.loadAverage()))

        guard !options.noTorch else { return }
        if let torch = TorchReference.run(script: options.torchReference, batch: batch, steps: steps, threads: threads) {
            guard let torchSeconds = torch["train_step_s"] as? Double else {
                print("PyTorch: unexpected output (no train_step_s)"); return
            }
            let torchPeak = (torch["peak_rss_mib"] as? Double) ?? Double(torch["peak_rss_mib"] as? Int ?? 0)
            print(String(format: "PyTorch %@: %.2f s/step, %.2f images/s, peak RSS %.0f MiB", torch["torch"] as? String ?? "?", torchSeconds, Double(batch) / torchSeconds, torchPeak))
            print(String(format: "ratio inkwell / PyTorch: time %.2fx, memory %.2fx (same invocation, batch %d, threads %d)", seconds / torchSeconds, peak / max(torchPeak, 1), batch, threads))
        } else if preset == "reference" && batch == 64 {
            print(String(format: "versus the figure recorded in issue 4 for PyTorch on the 2-core machine (22.0 s/step, 4.4 GB): time %.2fx, memory %.2fx (not measured here)",
                         seconds / Self.recordedTorchSeconds, peak / Self.recordedTorchPeakMiB))
        }
    }
}
