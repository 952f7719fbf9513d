import Foundation
import InkwellEngine
import InkwellTestSupport
import InkwellTraining
import XCTest

/// What a killed or damaged run leaves, and what the next start does with it: stale temporary
/// checkpoint folders are removed, a history without a checkpoint is refused (and `--restart`
/// moves it aside), corrupt checkpoint files are caught by their recorded SHA-256.
final class CheckpointFaultTests: XCTestCase {
    private func makeTrainer(_ dir: URL, resume: Bool = false, steps: Int = 4) throws -> Trainer {
        let config = tinyConfiguration(steps: steps, evalEvery: 2)
        return try Trainer(configuration: config, runDirectory: dir,
                           train: TensorBatches(images: syntheticFrames(20), batchSize: config.batch, seed: config.seed),
                           test: try TensorBatches(images: syntheticFrames(7, seed: 99), batchSize: config.batch, shuffle: false, dropLast: false),
                           resume: resume)
    }

    private func names(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    func testTemporaryFoldersOfKilledCheckpointWritesAreRemoved() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        try makeTrainer(dir).run()
        let checkpoints = dir.appendingPathComponent("checkpoints")
        // What a SIGKILL during a checkpoint write (or a best-K copy) leaves behind.
        for name in [".tmp-latest-1a2b3c4d", ".tmp-latest-5e6f7a8b", ".candidate-4"] {
            try FileManager.default.createDirectory(at: checkpoints.appendingPathComponent(name), withIntermediateDirectories: true)
            try Data(repeating: 7, count: 1000).write(to: checkpoints.appendingPathComponent(name).appendingPathComponent("model.safetensors"))
        }
        // And a sample grid's AtomicFile temporary, killed mid-write.
        try Data(count: 10).write(to: dir.appendingPathComponent("samples/.fakes-step-00000002.png.tmp-4242-17"))
        var messages: [String] = []
        let resumed = try makeTrainer(dir, resume: true, steps: 6)
        resumed.log = { messages.append($0) }
        XCTAssertFalse(try names(checkpoints).contains { $0.hasPrefix(".tmp-") || $0.hasPrefix(".candidate-") })
        XCTAssertFalse(try names(dir.appendingPathComponent("samples")).contains { $0.contains(".tmp-") })
        // A later checkpoint write also clears its own leftovers.
        try FileManager.default.createDirectory(at: checkpoints.appendingPathComponent(".tmp-latest-deadbeef"), withIntermediateDirectories: true)
        try resumed.run()
        XCTAssertEqual(try names(checkpoints).filter { $0.hasPrefix(".") }, [])
        XCTAssertEqual(resumed.step, 6)
    }

    func testAHistoryWithoutACheckpointIsRefusedAndRestartMovesItAside() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        try makeTrainer(dir).run()
        let metricsBefore = try Data(contentsOf: dir.appendingPathComponent("metrics.csv"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("checkpoints/latest/state.json"))
        for resume in [true, false] {
            XCTAssertThrowsError(try makeTrainer(dir, resume: resume)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("holds a run's history"), message)
                XCTAssertTrue(message.contains("metrics.csv with"), message)
                XCTAssertTrue(message.contains("--restart"), message)
            }
        }
        // Nothing was changed: the history is whole.
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("metrics.csv")), metricsBefore)

        // latest gone entirely but best-1 present: refused too.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("checkpoints/latest"))
        XCTAssertThrowsError(try makeTrainer(dir, resume: true)) { XCTAssertTrue("\($0)".contains("checkpoints/best-1"), "\($0)") }

        let aside = try Trainer.moveAside(dir)
        XCTAssertTrue(aside.lastPathComponent.hasPrefix(dir.lastPathComponent + ".old-"))
        XCTAssertEqual(try Data(contentsOf: aside.appendingPathComponent("metrics.csv")), metricsBefore)
        addTeardownBlock { try? FileManager.default.removeItem(at: aside) }
        try makeTrainer(dir).run()
        XCTAssertEqual(try Checkpoint.readState(dir.appendingPathComponent("checkpoints/latest")).step, 4)
    }

    func testCorruptCheckpointFilesAreCaughtByTheirChecksums() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        try makeTrainer(dir).run()
        let latest = dir.appendingPathComponent("checkpoints/latest")
        let state = try Checkpoint.readState(latest)
        XCTAssertEqual(Set(state.files?.keys.map { $0 } ?? []), ["model.safetensors", "optimizer.safetensors", "config.json"])

        // Zero the weights but keep the safetensors header intact: a file that parses.
        for file in ["model.safetensors", "optimizer.safetensors"] {
            let url = latest.appendingPathComponent(file)
            let original = try Data(contentsOf: url)
            var data = original
            let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            data.replaceSubrange((8 + headerLength)..<data.count, with: Data(count: data.count - 8 - headerLength))
            try data.write(to: url)
            XCTAssertThrowsError(try makeTrainer(dir, resume: true, steps: 6)) { error in
                XCTAssertTrue("\(error)".contains("\(file): corrupt"), "\(error)")
            }
            if file == "model.safetensors" {
                XCTAssertThrowsError(try VAEGAN.load(latest)) { XCTAssertTrue("\($0)".contains("corrupt"), "\($0)") }
            }
            try original.write(to: url)
        }
        XCTAssertEqual(try makeTrainer(dir, resume: true, steps: 6).step, 4)
    }
}
