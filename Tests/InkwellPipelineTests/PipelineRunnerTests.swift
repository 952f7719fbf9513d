import InkwellPipeline
import InkwellTestSupport
import XCTest

final class PipelineRunnerTests: XCTestCase {
    var directory: URL!
    var workdir: URL { directory.appendingPathComponent("work") }

    override func setUpWithError() throws {
        directory = try SharedFixtures.temporaryDirectory(self, name: "inkwell-runner")
        Journal.reset()
    }

    static let text = """
        name: chain
        stages:
          src:
            kind: source
            params: {count: 4}
          tx:
            kind: transform
            inputs: {data: src.data}
            params: {factor: 2}
          out:
            kind: sink
            inputs: {model: tx.model}
        """

    func pipeline(_ text: String = PipelineRunnerTests.text, overrides: [String] = []) throws -> Pipeline {
        let url = directory.appendingPathComponent("chain.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try PipelineLoader(registry: TestRegistry.make(), overrides: overrides).load(url)
    }

    @discardableResult
    func run(_ pipeline: Pipeline, force: Set<String> = [], until: String? = nil, token: CancellationToken = CancellationToken()) throws -> [PipelineRunner.StageOutcome] {
        try PipelineRunner(pipeline: pipeline, workDirectory: workdir, options: .init(force: force, until: until, echo: false), cancellation: token).run()
    }

    func statuses(_ outcomes: [PipelineRunner.StageOutcome]) -> [String: PipelineRunner.Status] {
        Dictionary(uniqueKeysWithValues: outcomes.map { ($0.name, $0.status) })
    }

    func testFirstRunRunsEverythingAndWritesRecords() throws {
        let outcomes = try run(pipeline())
        XCTAssertEqual(outcomes.map(\.status), [.ran, .ran, .ran])
        XCTAssertEqual(Journal.entries, ["src", "tx", "out"])
        let report = try String(contentsOf: workdir.appendingPathComponent("out/report.txt"), encoding: .utf8)
        XCTAssertEqual(report, "report: 8.0 constant {value: 1.0}")
        let runner = PipelineRunner(pipeline: try pipeline(), workDirectory: workdir)
        let record = try XCTUnwrap(runner.record(of: "tx"))
        XCTAssertEqual(record.kind, "transform")
        XCTAssertEqual(record.inputs["data"]?.stage, "src")
        XCTAssertTrue(record.outputs["model"]!.digest.hasPrefix("sha256:"))
        let params = try String(contentsOf: workdir.appendingPathComponent(".inkwell/tx/params.json"), encoding: .utf8)
        XCTAssertTrue(params.contains("\"factor\" : 2"), params)
        XCTAssertTrue(FileManager.default.fileExists(atPath: runner.logFile(of: "tx").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: workdir.appendingPathComponent(".inkwell/lock").path), "lock released")
    }

    func testSecondRunIsUpToDate() throws {
        try run(pipeline())
        Journal.reset()
        let outcomes = try run(pipeline())
        XCTAssertEqual(outcomes.map(\.status), [.upToDate, .upToDate, .upToDate])
        XCTAssertEqual(Journal.entries, [])
    }

    func testChangedParameterRerunsThatStageAndDependentsOnly() throws {
        try run(pipeline())
        Journal.reset()
        let outcomes = try run(pipeline(overrides: ["tx.factor=3"]))
        XCTAssertEqual(statuses(outcomes), ["src": .upToDate, "tx": .ran, "out": .ran])
        XCTAssertEqual(Journal.entries, ["tx", "out"])
        XCTAssertEqual(try String(contentsOf: workdir.appendingPathComponent("out/report.txt"), encoding: .utf8), "report: 12.0 constant {value: 1.0}")
        // Changing a strategy parameter is a parameter change too.
        Journal.reset()
        try run(pipeline(overrides: ["tx.factor=3", "tx.beta.value=2"]))
        XCTAssertEqual(Journal.entries, ["tx", "out"])
    }

    func testUnchangedOutputsKeepDependentsCached() throws {
        try run(pipeline())
        Journal.reset()
        // The source's text changes but the line count does not: tx reruns, its output is
        // byte-identical, so out stays up to date.
        let outcomes = try run(pipeline(overrides: ["src.text=bye"]))
        XCTAssertEqual(statuses(outcomes), ["src": .ran, "tx": .ran, "out": .upToDate])
    }

    func testForceRerunsNamedStage() throws {
        try run(pipeline())
        Journal.reset()
        let outcomes = try run(pipeline(), force: ["tx"])
        XCTAssertEqual(statuses(outcomes), ["src": .upToDate, "tx": .ran, "out": .upToDate])
        XCTAssertEqual(Journal.entries, ["tx"])
    }

    func testUntilRunsOnlyTheStageAndItsAncestors() throws {
        let outcomes = try run(pipeline(), until: "tx")
        XCTAssertEqual(statuses(outcomes), ["src": .ran, "tx": .ran, "out": .notRun])
        XCTAssertFalse(FileManager.default.fileExists(atPath: workdir.appendingPathComponent("out").path))
        XCTAssertThrowsError(try run(pipeline(), until: "tz")) { error in
            XCTAssertEqual("\(error)", "no stage 'tz' in pipeline chain; did you mean 'tx'?")
        }
    }

    func testDeletedOutputMakesTheStageRunAgain() throws {
        try run(pipeline())
        try FileManager.default.removeItem(at: workdir.appendingPathComponent("tx/model/weights.txt"))
        Journal.reset()
        let outcomes = try run(pipeline())
        XCTAssertEqual(statuses(outcomes), ["src": .upToDate, "tx": .ran, "out": .upToDate])
    }

    func testChangedFileBehindPathParameterRerunsTheStage() throws {
        let seed = directory.appendingPathComponent("seed.txt")
        try "one\n".write(to: seed, atomically: true, encoding: .utf8)
        let text = "stages:\n  src:\n    kind: source\n    params: {seed_file: seed.txt}\n"
        try run(pipeline(text))
        Journal.reset()
        try run(pipeline(text))
        XCTAssertEqual(Journal.entries, [])
        try "one\ntwo\n".write(to: seed, atomically: true, encoding: .utf8)
        try run(pipeline(text))
        XCTAssertEqual(Journal.entries, ["src"])
    }

    func testFailingStageStopsTheRunAndLeavesCompletedStagesCached() throws {
        XCTAssertThrowsError(try run(pipeline(overrides: ["tx.fail=true"]))) { error in
            guard let failure = error as? PipelineRunner.RunFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.stage, "tx")
            XCTAssertTrue(failure.message.hasPrefix("stage 'tx' (transform) failed: asked to fail (log: "), failure.message)
            XCTAssertEqual(statuses(failure.outcomes), ["src": .ran, "tx": .failed, "out": .notRun])
        }
        XCTAssertEqual(Journal.entries, ["src", "tx"])
        let log = try String(contentsOf: workdir.appendingPathComponent(".inkwell/tx/log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("failed: asked to fail"), log)
        Journal.reset()
        let outcomes = try run(pipeline())
        XCTAssertEqual(statuses(outcomes), ["src": .upToDate, "tx": .ran, "out": .ran])
    }

    func testSecondRunOnTheSameDirectoryIsRefused() throws {
        let meta = workdir.appendingPathComponent(".inkwell")
        try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        let lock = try RunLock(directory: meta)
        XCTAssertThrowsError(try run(pipeline())) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("another inkwell run (pid \(getpid())"), text)
            XCTAssertTrue(text.contains("is using \(self.workdir.path); wait for it to finish, or delete \(meta.path)/lock if it is not running"), text)
        }
        XCTAssertEqual(Journal.entries, [])
        lock.release()
        XCTAssertEqual(try run(pipeline()).map(\.status), [.ran, .ran, .ran])
    }

    func testStaleLockFromDeadProcessIsTakenOver() throws {
        let meta = workdir.appendingPathComponent(".inkwell")
        try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        let pid = try Self.deadPid()
        try "pid \(pid)\nhost \(ProcessInfo.processInfo.hostName)\nstarted 2026-01-01T00:00:00Z\n"
            .write(to: meta.appendingPathComponent("lock"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(pipeline()).map(\.status), [.ran, .ran, .ran])
    }

    /// What a SIGKILL between writing the lock's temporary and unlinking it leaves (found by
    /// RunChaosTests): the next run removes it; a live contender's temporary stays.
    func testLockTemporariesOfDeadProcessesAreRemovedByTheNextRun() throws {
        let meta = workdir.appendingPathComponent(".inkwell")
        try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        let dead = meta.appendingPathComponent(".lock.tmp-\(try Self.deadPid())-2729383394")
        let live = meta.appendingPathComponent(".lock.tmp-\(getppid())-17")
        for url in [dead, live] { try Data("pid 1\n".utf8).write(to: url) }
        XCTAssertEqual(try run(pipeline()).map(\.status), [.ran, .ran, .ran])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path), "a dead process's temporary is removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "a live process's temporary stays")
    }

    func testALockFileWithGarbageContentIsTakenOverOnceItIsNotFresh() throws {
        let meta = workdir.appendingPathComponent(".inkwell")
        try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        let lock = meta.appendingPathComponent("lock")
        try Data([0xff, 0x00, 0x13, 0x37, 0xfe]).write(to: lock)
        // Fresh garbage may be a lock being written this instant: refused.
        XCTAssertThrowsError(try run(pipeline())) { XCTAssertTrue("\($0)".contains("an unknown process"), "\($0)") }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: lock.path)
        XCTAssertEqual(try run(pipeline()).map(\.status), [.ran, .ran, .ran])
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path), "released after the run")
    }

    func testAResumedStageStartsWithoutThePartialFilesAKilledAttemptLeft() throws {
        CounterStage.stepsExecuted = 0
        CounterStage.sawResume = false
        _ = try? run(pipeline(Self.counterText), token: CancellationToken())
        let out = workdir.appendingPathComponent("count")
        // What a SIGKILL leaves: a video writer's partial file, an AtomicFile temporary, one in a subfolder.
        try FileManager.default.createDirectory(at: out.appendingPathComponent("videos"), withIntermediateDirectories: true)
        let leftovers = [".clip-001.partial-4242-1a2b3c4d.mp4", ".count.txt.tmp-4242-99", "videos/.clip-002.partial-4242-5e6f7a8b.mp4"]
        for path in leftovers { try Data(count: 100).write(to: out.appendingPathComponent(path)) }
        try Data(count: 10).write(to: out.appendingPathComponent("videos/clip-000.mp4"))
        let outcomes = try run(pipeline(Self.counterText))
        XCTAssertEqual(statuses(outcomes)["count"], .resumed)
        for path in leftovers { XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(path).path), path) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("videos/clip-000.mp4").path), "finished files stay")
        XCTAssertTrue(CounterStage.sawResume)
    }

    /// What a SIGKILL during a metadata write leaves (found by RunChaosTests): the temporaries of
    /// attempt.json, params.json and the digest cache; a later run removes them, even one where
    /// every stage is up to date.
    func testTemporariesOfKilledMetadataWritesAreRemovedByTheNextRun() throws {
        try run(pipeline())
        let meta = workdir.appendingPathComponent(".inkwell")
        let leftovers = ["tx/.attempt.json.tmp-4242-1", "tx/.params.json.tmp-4242-2", ".digests.json.tmp-4242-3"]
        for path in leftovers { try Data(count: 10).write(to: meta.appendingPathComponent(path)) }
        let outcomes = try run(pipeline())
        XCTAssertEqual(outcomes.map(\.status), [.upToDate, .upToDate, .upToDate])
        for path in leftovers { XCTAssertFalse(FileManager.default.fileExists(atPath: meta.appendingPathComponent(path).path), path) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: meta.appendingPathComponent("tx/record.json").path), "records stay")
    }

    static let counterText = """
        stages:
          src: {kind: source}
          count:
            kind: counter
            inputs: {data: src.data}
            params: {steps: 10, interrupt_at: 4}
        """

    func testInterruptedStageResumesFromItsCheckpoint() throws {
        CounterStage.stepsExecuted = 0
        CounterStage.sawResume = false
        let token = CancellationToken()
        XCTAssertThrowsError(try run(pipeline(Self.counterText), token: token)) { error in
            guard let failure = error as? PipelineRunner.RunFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.stage, "count")
            XCTAssertTrue(failure.message.contains("was interrupted; run the pipeline again to resume it"), failure.message)
            XCTAssertEqual(self.statuses(failure.outcomes)["count"], .interrupted)
        }
        XCTAssertEqual(CounterStage.stepsExecuted, 4)
        Journal.reset()
        let outcomes = try run(pipeline(Self.counterText))
        XCTAssertEqual(statuses(outcomes), ["src": .upToDate, "count": .resumed])
        XCTAssertTrue(CounterStage.sawResume)
        XCTAssertEqual(CounterStage.stepsExecuted, 10, "steps 5 to 10 only after resuming")
        XCTAssertEqual(try String(contentsOf: workdir.appendingPathComponent("count/count.txt"), encoding: .utf8), "10")
    }

    func testKilledRunResumes() throws {
        // A run killed with SIGKILL leaves its attempt marked "running" by a dead process, and its
        // lock. Simulate both.
        CounterStage.stepsExecuted = 0
        CounterStage.sawResume = false
        let token = CancellationToken()
        _ = try? run(pipeline(Self.counterText), token: token)
        let attemptURL = workdir.appendingPathComponent(".inkwell/count/attempt.json")
        let pid = try Self.deadPid()
        var attempt = try String(contentsOf: attemptURL, encoding: .utf8)
        attempt = attempt.replacingOccurrences(of: "\"interrupted\"", with: "\"running\"")
        attempt = attempt.replacingOccurrences(of: "\"pid\" : \(getpid())", with: "\"pid\" : \(pid)")
        try attempt.write(to: attemptURL, atomically: true, encoding: .utf8)
        try "pid \(pid)\n".write(to: workdir.appendingPathComponent(".inkwell/lock"), atomically: true, encoding: .utf8)
        let outcomes = try run(pipeline(Self.counterText))
        XCTAssertEqual(statuses(outcomes)["count"], .resumed)
        XCTAssertEqual(CounterStage.stepsExecuted, 10)
        XCTAssertTrue(CounterStage.sawResume)
    }

    func testContentDigestOfTreesChangesWithContent() throws {
        let tree = directory.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "a".write(to: tree.appendingPathComponent("sub/a.txt"), atomically: true, encoding: .utf8)
        let digester = ContentDigester(cacheFile: directory.appendingPathComponent("cache.json"))
        let first = try XCTUnwrap(digester.digest(of: tree))
        XCTAssertEqual(try digester.digest(of: tree), first)
        try "b".write(to: tree.appendingPathComponent("sub/a.txt"), atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try digester.digest(of: tree), first)
        try "a".write(to: tree.appendingPathComponent("sub/a.txt"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try digester.digest(of: tree), first)
        try "a".write(to: tree.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try digester.digest(of: tree), first, "a new file changes the tree digest")
        XCTAssertNil(try digester.digest(of: directory.appendingPathComponent("absent")))
        let file = tree.appendingPathComponent("b.txt")
        XCTAssertEqual(try digester.digest(of: file), "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
    }

    /// The pid of a process that has exited.
    static func deadPid() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
