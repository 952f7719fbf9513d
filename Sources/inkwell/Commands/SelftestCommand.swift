import ArgumentParser
import Foundation
import Inkwell

/// `inkwell selftest --golden DIR`: checks the engine (and, where present, the training step)
/// against PyTorch's golden values. One line per case; exits non-zero when any case fails.
struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Check the engine against golden values computed by PyTorch.",
        discussion: """
        DIR holds ops.json + ops.safetensors (and, when present, train_step.json + \
        train_step.safetensors). Any set of the same schema works: shapes and settings come \
        from the files. Prints one line per case with its worst relative L2 error. Under mpirun \
        the training step runs data-parallel across the ranks (each its rows of the set's batch) \
        and rank 0 prints; a case fails when it fails on any rank.
        """
    )

    @Option(name: .customLong("golden"), help: "Directory with the golden files (e.g. ../shared/golden).")
    var golden: String

    @Option(help: "Relative L2 tolerance of the suites whose cases share one (the op cases; default: each suite's own, 1e-4 for ops).")
    var tolerance: Double?

    @Flag(name: .shortAndLong, help: "Also print every compared tensor's error, under its case.")
    var verbose = false

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: golden, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--golden \(golden): not a directory")
        }
        if let tolerance, !(tolerance > 0) { throw ValidationError("--tolerance must be positive") }
        let url = URL(fileURLWithPath: golden)
        guard GoldenSuites.all.contains(where: { $0.isPresent(in: url) }) else {
            throw ValidationError("--golden \(golden): no golden files found (expected ops.json + ops.safetensors)")
        }
    }

    func run() throws {
        let world = World.communicator
        if !world.isRoot { RankOutput.silenceStandardOutput() }
        let url = URL(fileURLWithPath: golden)
        var failed = 0, total = 0
        for suite in GoldenSuites.all where suite.isPresent(in: url) {
            let results: [GoldenCaseResult]
            do {
                if let adjustable = suite as? any GoldenSuiteWithTolerance.Type {
                    results = try adjustable.run(directory: url, tolerance: tolerance ?? adjustable.defaultTolerance)
                } else {
                    results = try suite.run(directory: url)
                }
            } catch {
                print("FAIL  suite \(suite.suiteName): \(error)")
                failed += 1
                total += 1
                continue
            }
            for result in results {
                print(result.summaryLine)
                if !world.isRoot, !result.passed { RankOutput.error(result.summaryLine) }
                if verbose {
                    for e in result.errors {
                        print("      \(e.error <= e.tolerance ? "ok  " : "OVER")  \(String(format: "%.3e", e.error))  \(e.tensor)")
                    }
                }
                total += 1
                if !result.passed { failed += 1 }
            }
        }
        if world.isDistributed {
            print("data-parallel train_step on \(world.size) ranks")
            // Every rank ends with the same status: a failure on any rank fails all.
            if world.any(failed > 0) { fflush(nil); Foundation.exit(1) }
        }
        print("\(total - failed)/\(total) golden cases passed")
        if failed > 0 { throw ExitCode(1) }
    }
}
