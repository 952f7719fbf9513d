import Foundation
import InkwellTestSupport
import InkwellTraining
import XCTest

/// SIGINT and SIGTERM, sent with kill(2) to a real `inkwell train` child while it trains: it
/// finishes the current step, writes a checkpoint and exits 0; `--resume` continues from there.
final class CLISignalTests: XCTestCase {
    private func trainThenSignal(_ signal: Int32) throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let run = dir.appendingPathComponent("run")
        let arguments = try CLIFixtures.trainArguments(dir: dir, steps: 1_000_000, out: run)
        let train = try RunningInkwell(arguments, log: dir.appendingPathComponent("train.log"))
        defer { train.stop() }
        // The header is printed once the trap is installed and the trainer built; the first
        // step's progress line flushes it.
        XCTAssertTrue(train.waitForOutput("\(run.path): widths"), train.output)
        XCTAssertFalse(Checkpoint.exists(at: run.appendingPathComponent("checkpoints/latest")), "no checkpoint before the signal")

        kill(train.process.processIdentifier, signal)
        XCTAssertEqual(train.waitForExit(), 0, train.output)
        XCTAssertTrue(train.output.contains("signal received: finishing this step, then writing a checkpoint"), train.output)
        XCTAssertTrue(train.output.contains("stopped by signal at step"), train.output)
        let latest = run.appendingPathComponent("checkpoints/latest")
        XCTAssertTrue(Checkpoint.exists(at: latest), train.output)
        let stoppedAt = try Checkpoint.readState(latest).step
        XCTAssertGreaterThan(stoppedAt, 0)
        XCTAssertLessThan(stoppedAt, 1_000_000)

        // The checkpoint is whole: the run resumes from it to a near target.
        let resumed = try CLIFixtures.inkwell(arguments + ["--resume", "--steps", "\(stoppedAt + 2)"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("from step \(stoppedAt) to \(stoppedAt + 2)"), resumed.output)
    }

    func testSIGINTDuringTrainingWritesACheckpointAndExitsZero() throws {
        try trainThenSignal(SIGINT)
    }

    func testSIGTERMDuringTrainingWritesACheckpointAndExitsZero() throws {
        try trainThenSignal(SIGTERM)
    }
}
