import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

/// `inkwell bench sgemm` (hidden): one sgemm yardstick, as JSON. `bench train` and `bench infer`
/// run it in a child process without the OpenBLAS variables a user or workplace forced, to show
/// what the forced kernel family costs.
struct BenchSgemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgemm", abstract: "One sgemm yardstick, printed as JSON (used by bench train and infer).",
        shouldDisplay: false)

    @Option(help: "Size of the square product (M = N = K).")
    var size: Int = 2048

    @Option(help: "Threads for OpenBLAS.")
    var threads: Int = 2

    func validate() throws {
        guard size >= 64 else { throw ValidationError("--size must be at least 64") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        BLAS.threads = threads
        let g = OpsBenchmark.measureGemm(size: size, repeats: 7)
        print("{\"core\": \"\(BLAS.coreType)\", \"gflops\": \(String(format: "%.1f", g.gflops))}")
    }
}
