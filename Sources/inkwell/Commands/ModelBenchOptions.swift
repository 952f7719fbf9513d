import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

/// The options `bench train` and `bench infer` share: the model and batch they time, the sgemm
/// yardstick measured in the same run, and the PyTorch reference run beside them.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Images per step (train) or per batch (infer).")
    var batch: Int = 64

    @Option(help: "Timed steps or batches (after one warm-up); the median is reported.")
    var steps: Int = 3

    @Option(help: "Threads for OpenBLAS and the engine's loops.")
    var threads: Int = 2

    @Option(help: ArgumentHelp("Model widths: \(ModelWidths.presetNames.joined(separator: ", "))."))
    var preset: String = "reference"

    @Option(help: "Size of the square sgemm yardstick (M = N = K) measured in the same run; 0 skips it.")
    var gemmSize: Int = 2048

    @Option(help: "Path of torch_reference.py (default: ../shared/bench/torch_reference.py beside the package).")
    var torchReference: String?

    @Flag(help: "Skip the PyTorch comparison.")
    var noTorch = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard gemmSize == 0 || gemmSize >= 64 else { throw ValidationError("--gemm-size must be 0 or at least 64") }
        guard ModelWidths.presetNames.contains(preset) else {
            throw ValidationError("--preset must be one of \(ModelWidths.presetNames.joined(separator: ", "))")
        }
        if let torchReference, !FileManager.default.fileExists(atPath: torchReference) {
            throw ValidationError("--torch-reference \(torchReference): no such file")
        }
    }

    /// Sets the thread counts, then builds the model (seeded, as PyTorch's reference is) and a
    /// batch of random frames in [-1, 1].
    func prepare() throws -> (widths: ModelWidths, model: VAEGAN, images: Tensor) {
        BLAS.threads = threads
        Parallel.workers = threads
        let widths = try ModelWidths.preset(preset)
        let frame = widths.frameSize
        let model = try VAEGAN(widths: widths, seed: 0)
        var generator = RandomGenerator(seed: 1)
        let images = Tensor.uniform([batch, widths.channels, frame[0], frame[1]], low: -1, high: 1, using: &generator)
        return (widths, model, images)
    }

    /// The sgemm yardstick's GFLOP/s (printed), or nil when `--gemm-size 0` skips it.
    func measureYardstick() -> Double? {
        guard gemmSize > 0 else { return nil }
        let g = OpsBenchmark.measureGemm(size: gemmSize, repeats: 7)
        print("sgemm \(gemmSize)^3: \(String(format: "%.1f", g.gflops)) GFLOP/s with OpenBLAS's \(BLAS.coreType) kernels (the yardstick, same run)")
        reportForcedKernels(forced: g.gflops)
        return g.gflops
    }

    /// Where OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE force a kernel family, measures sgemm again in
    /// a child process without them and prints both rates.
    private func reportForcedKernels(forced: Double) {
        let settings = BLAS.forcedKernelSettings
        guard !settings.isEmpty else { return }
        var environment = ProcessInfo.processInfo.environment
        for name in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", BLAS.chosenCoreTypeMarker] { environment[name] = nil }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["bench", "sgemm", "--size", "\(gemmSize)", "--threads", "\(threads)"]
        child.environment = environment
        let pipe = Pipe()
        child.standardOutput = pipe
        struct Rate: Decodable { let core: String, gflops: Double }
        guard (try? child.run()) != nil else { return }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        guard child.terminationStatus == 0, let rate = try? JSONDecoder().decode(Rate.self, from: data) else {
            print("note: \(settings.joined(separator: " ")) forces OpenBLAS's kernels; the comparison run without them failed")
            return
        }
        let f = { (v: Double) in String(format: "%.1f", v) }
        print("note: \(settings.joined(separator: " ")) forces OpenBLAS's \(BLAS.coreType) kernels; left to choose, it runs "
              + "\(rate.core): sgemm \(f(rate.gflops)) GFLOP/s, \(String(format: "%.2f", rate.gflops / forced))x the forced \(f(forced)). "
              + "For figures, unset both in this command: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE inkwell bench ...")
    }

    /// " (NN% of sgemm)" for `rate` GFLOP/s, or "" without a yardstick.
    static func shareOfYardstick(_ rate: Double, _ yardstick: Double?) -> String {
        yardstick.map { String(format: " (%.0f%% of sgemm)", 100 * rate / $0) } ?? ""
    }
}
