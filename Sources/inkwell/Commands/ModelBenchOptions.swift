import ArgumentParser
import Foundation
import Inkwell

/// The options `bench train` and `bench infer` share: the model and batch they time, the sgemm
/// yardstick measured in the same run, and the PyTorch reference run beside them.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Images per step (train) or per batch (infer).")
    var batch: Int = 64

    @Option(help: "Timed steps or batches (after one warm-up); the median is reported.")
    var steps: Int = 3

    @Option(help: "Threads for OpenBLAS and the engine's loops.")
    var threads: Int = 2

    @Option(help: "Model widths: reference (default) or narrow.")
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
        guard ["reference", "narrow"].contains(preset) else { throw ValidationError("--preset must be reference or narrow") }
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
        Initialization.seed(0)
        let model = try VAEGAN(widths: widths)
        var generator = RandomGenerator(seed: 1)
        let images = Tensor.uniform([batch, widths.channels, frame[0], frame[1]], low: -1, high: 1, using: &generator)
        return (widths, model, images)
    }

    /// The sgemm yardstick's GFLOP/s (printed), or nil when `--gemm-size 0` skips it.
    func measureYardstick() -> Double? {
        guard gemmSize > 0 else { return nil }
        let g = OpsBenchmark.measureGemm(size: gemmSize, repeats: 7)
        print(String(format: "sgemm %d^3: %.1f GFLOP/s (the yardstick, same run)", gemmSize, g.gflops))
        return g.gflops
    }

    /// " (NN% of sgemm)" for `rate` GFLOP/s, or "" without a yardstick.
    static func shareOfYardstick(_ rate: Double, _ yardstick: Double?) -> String {
        yardstick.map { String(format: " (%.0f%% of sgemm)", 100 * rate / $0) } ?? ""
    }
}
