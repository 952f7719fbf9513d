import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

extension OpsBenchmark.Lowering: ExpressibleByArgument {}

/// `inkwell bench ops`: times forward and backward of every convolution and transposed
/// convolution of the reference model (SPEC.md section 2) at batch 64 and compares each one's
/// achieved rate with plain sgemm measured in the same run (see `OpsBenchmark`).
struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Time the reference model's convolutions, forward and backward, against sgemm."
    )

    @Option(help: "Batch size.")
    var batch: Int = 64

    @Option(help: "Threads for OpenBLAS and the engine's own loops (default: all cores).")
    var threads: Int?

    @Option(help: "Timed repetitions per measurement (after one warm-up); the median is reported.")
    var repeats: Int = 3

    @Option(help: "Size of the square sgemm yardstick (M = N = K).")
    var gemmSize: Int = 2048

    @Option(help: "Only layers whose name contains this text (e.g. enc, dec.1).")
    var only: String?

    @Option(help: "The lowering to time: inference (Winograd where it applies, as evaluation and sampling run) or training (im2col / col2im + sgemm, as a training step records).")
    var lowering: OpsBenchmark.Lowering = .inference

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard gemmSize >= 64 else { throw ValidationError("--gemm-size must be at least 64") }
        if let only, !OpsBenchmark.referenceModel.contains(where: { $0.name.contains(only) }) {
            throw ValidationError("--only \(only): no layer matches (layers: \(OpsBenchmark.referenceModel.map(\.name).joined(separator: ", ")))")
        }
    }

    func run() throws {
        if let threads {
            BLAS.threads = threads
            Parallel.workers = threads
        }
        OpsBenchmark.run(batch: batch, repeats: repeats, gemmSize: gemmSize, only: only, lowering: lowering) { print($0) }
    }
}
