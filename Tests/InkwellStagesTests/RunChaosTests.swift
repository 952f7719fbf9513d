import Foundation
import InkwellDataset
import InkwellEngine
import InkwellTestSupport
import XCTest

/// `inkwell run` with the synth and ingest stages, killed for real: SIGKILL at seeded random
/// moments (many inside synth's clip encodes), rerun as a user would. It must end with the clips
/// and shards of a run never killed, no partial file counted or left, and `dataset verify` clean.
final class RunChaosTests: XCTestCase {
    static var kills: Int { Int(ProcessInfo.processInfo.environment["INKWELL_CHAOS_KILLS"] ?? "") ?? 10 }

    func testAPipelineKilledRepeatedlyEndsWithTheOutputsOfAnUnbrokenRun() throws {
        let inkwell = try ChildProcess.inkwellTool()
        let dir = try SharedFixtures.temporaryDirectory(self)
        let pipeline = dir.appendingPathComponent("chaos.yaml")
        try """
            name: chaos
            stages:
              synth:
                kind: synth
                params: {clips: 16, seconds: 2, fps: 10, width: 64, height: 36, gop: 3, audio: false}
              ingest:
                kind: ingest
                inputs: {videos: synth.videos}
                params: {size: 32x18, test_fraction: 0.3}
            """.write(to: pipeline, atomically: true, encoding: .utf8)
        func arguments(_ work: URL) -> [String] { ["run", pipeline.path, "--workdir", work.path] }

        let unbroken = dir.appendingPathComponent("unbroken")
        let reference = try ChildProcess.run(inkwell, arguments(unbroken))
        XCTAssertEqual(reference.status, 0, reference.output)

        let chaos = dir.appendingPathComponent("chaos")
        var generator = RandomGenerator(seed: 99)
        var killed = 0, attempts = 0
        while killed < Self.kills && attempts < 4 * Self.kills {
            attempts += 1
            if try ChildProcess.startAndKill(inkwell, arguments(chaos), after: UInt32(30_000 + generator.next() % 300_000)) {
                killed += 1
            } else {
                try FileManager.default.removeItem(at: chaos)  // finished first: the next round starts afresh
            }
        }
        let last = try ChildProcess.run(inkwell, arguments(chaos))
        XCTAssertEqual(last.status, 0, last.output)
        print("run chaos: \(killed) SIGKILLs in \(attempts) attempts")
        XCTAssertGreaterThanOrEqual(killed, Self.kills / 2)

        let clips = { (work: URL) in
            try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("synth/videos").path).sorted()
        }
        XCTAssertEqual(try clips(chaos), try clips(unbroken), "the same clips, no partial file")
        for name in try clips(unbroken) {
            XCTAssertEqual(try Data(contentsOf: chaos.appendingPathComponent("synth/videos/\(name)")),
                           try Data(contentsOf: unbroken.appendingPathComponent("synth/videos/\(name)")), name)
        }
        let a = try DatasetManifest.read(datasetAt: chaos.appendingPathComponent("ingest/dataset"))
        let b = try DatasetManifest.read(datasetAt: unbroken.appendingPathComponent("ingest/dataset"))
        XCTAssertEqual(a.shards.map(\.sha256).sorted(), b.shards.map(\.sha256).sorted())
        let verify = try ChildProcess.run(inkwell, ["dataset", "verify", chaos.appendingPathComponent("ingest/dataset").path])
        XCTAssertEqual(verify.status, 0, verify.output)
        let leftovers = (FileManager.default.subpaths(atPath: chaos.path) ?? []).filter {
            let name = ($0 as NSString).lastPathComponent
            return name.contains(".tmp-") || name.contains(".partial-")
        }
        XCTAssertEqual(leftovers, [], "no temporary file left")
    }
}
