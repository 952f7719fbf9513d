import Foundation
import InkwellDataset
import InkwellEngine
import InkwellTestSupport
import InkwellTraining
import XCTest

/// `inkwell train` killed for real: a child process of the built program, sent SIGKILL at seeded
/// random moments (checkpoints are written every 2 steps, so many kills land inside a checkpoint
/// write), then resumed as a user would. The run must end with the same model and optimizer bytes
/// and the same metrics as one never killed, and with no temporary file left.
final class TrainChaosTests: XCTestCase {
    static var kills: Int { Int(ProcessInfo.processInfo.environment["INKWELL_CHAOS_KILLS"] ?? "") ?? 10 }

    /// A tiny dataset and configuration in `dir`; the `inkwell train` arguments for a run in `out`.
    private func setUp(in dir: URL, steps: Int = 60) throws -> (_ out: URL, _ extra: [String]) -> [String] {
        let data = dir.appendingPathComponent("data")
        try makeDataset(data)
        let config = dir.appendingPathComponent("config.json")
        try Data("""
            {"model": {"latent": 4, "encoder": [3, 4, 8], "decoder": [8, 8, 4], "discriminator": [3, 4, 8, 8],
             "discriminator_hidden": 8, "feature_map": [3, 4]},
             "batch": 4, "steps": \(steps), "eval_every": 10, "eval_frames": 0, "checkpoint_every": 2, "keep_best": 2,
             "fixed_latents": 4, "seed": 11}
            """.utf8).write(to: config)
        return { out, extra in ["train", "--data", data.path, "--out", out.path, "--config", config.path, "--threads", "1"] + extra }
    }

    func testASecondTrainingProcessOnTheSameRunIsRefused() throws {
        let inkwell = try ChildProcess.inkwellTool()
        let dir = try SharedFixtures.temporaryDirectory(self)
        let arguments = try setUp(in: dir, steps: 100_000)
        let run = dir.appendingPathComponent("run")
        let first = try ChildProcess.start(inkwell, arguments(run, []))
        defer { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() }
        var waited = 0
        while !Checkpoint.exists(at: run.appendingPathComponent("checkpoints/latest")) && waited < 200 { usleep(50_000); waited += 1 }
        let second = try ChildProcess.run(inkwell, arguments(run, ["--resume"]))
        XCTAssertEqual(second.status, 75, second.output)
        XCTAssertTrue(second.output.contains("another inkwell run (pid \(first.processIdentifier)"), second.output)
        XCTAssertTrue(first.isRunning, "the first run goes on")
    }

    func testTrainingKilledTenTimesEndsWithTheBytesOfAnUnbrokenRun() throws {
        let inkwell = try ChildProcess.inkwellTool()
        let dir = try SharedFixtures.temporaryDirectory(self)
        let arguments = try setUp(in: dir)
        func train(_ out: URL, _ extra: [String] = []) throws -> Process { try ChildProcess.start(inkwell, arguments(out, extra)) }

        let unbroken = dir.appendingPathComponent("unbroken")
        let reference = try train(unbroken)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        let chaos = dir.appendingPathComponent("chaos")
        var generator = RandomGenerator(seed: 2026)
        var killed = 0, restarts = 0, runs = 0
        while killed < Self.kills {
            // Resume when there is a checkpoint; before the first one, start afresh as the
            // refusal message tells a user to (--restart moves the partial run aside).
            let hasCheckpoint = Checkpoint.exists(at: chaos.appendingPathComponent("checkpoints/latest"))
            let extra = hasCheckpoint ? ["--resume"] : (FileManager.default.fileExists(atPath: chaos.path) ? ["--restart"] : [])
            if extra == ["--restart"] { restarts += 1 }
            if try ChildProcess.startAndKill(inkwell, arguments(chaos, extra), after: UInt32(20_000 + generator.next() % 400_000)) {
                killed += 1
                continue
            }
            // The run finished before the kill: it must be whole; the next round starts afresh.
            try checkFinished(chaos, against: unbroken, in: dir)
            try FileManager.default.removeItem(at: chaos)
            runs += 1
        }
        let last = try train(chaos, Checkpoint.exists(at: chaos.appendingPathComponent("checkpoints/latest")) ? ["--resume"] : ["--restart"])
        last.waitUntilExit()
        XCTAssertEqual(last.terminationStatus, 0)
        try checkFinished(chaos, against: unbroken, in: dir)
        print("train chaos: \(killed) SIGKILLs over \(runs + 1) runs to the end, \(restarts) restarts before a first checkpoint")
    }

    /// The killed and resumed run in `chaos` ended as `unbroken` did: the same model and
    /// optimizer bytes, the same metrics, no temporary file. Removes the runs --restart moved aside.
    private func checkFinished(_ chaos: URL, against unbroken: URL, in dir: URL) throws {
        for file in ["model.safetensors", "optimizer.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: chaos.appendingPathComponent("checkpoints/latest/\(file)")),
                           try Data(contentsOf: unbroken.appendingPathComponent("checkpoints/latest/\(file)")), file)
        }
        XCTAssertEqual(try metricsWithoutTime(chaos), try metricsWithoutTime(unbroken), "metrics.csv whole: no gap, no duplicate")
        let leftovers = (FileManager.default.subpaths(atPath: chaos.path) ?? []).filter { path in
            let name = (path as NSString).lastPathComponent
            return name.hasPrefix(".candidate-") || name.contains(".tmp-") || name == "lock"
        }
        XCTAssertEqual(leftovers, [], "no temporary file left")
        for aside in try FileManager.default.contentsOfDirectory(atPath: dir.path) where aside.hasPrefix("chaos.old-") {
            try FileManager.default.removeItem(at: dir.appendingPathComponent(aside))
        }
    }

    private func makeDataset(_ url: URL) throws {
        try TinyDataset.write(to: url)
    }
}
