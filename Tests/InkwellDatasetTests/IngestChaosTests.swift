import Foundation
import InkwellDataset
import InkwellEngine
import InkwellTestSupport
import XCTest

/// `inkwell ingest` killed for real: a child process of the built program, sent SIGKILL at seeded
/// random moments over a folder of 12 clips (the manifest is committed every 4 videos, and each
/// shard holds 3 frames, so kills land in shard and manifest writes), then run again as a user
/// would. It must end with the shards of an ingest never killed, `dataset verify` clean, and no
/// temporary file left.
final class IngestChaosTests: XCTestCase {
    static var kills: Int { Int(ProcessInfo.processInfo.environment["INKWELL_CHAOS_KILLS"] ?? "") ?? 10 }

    func testIngestKilledRepeatedlyEndsWithTheShardsOfAnUnbrokenOne() throws {
        let inkwell = try ChildProcess.inkwellTool()
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for i in 0..<12 {
            try DatasetFixtures.makeClip(videos.appendingPathComponent(String(format: "clip-%02d.mp4", i)), frames: 30, gop: 3, variant: i + 1)
        }
        func arguments(_ out: URL) -> [String] {
            ["ingest", videos.path, "--out", out.path, "--size", "32x18", "--jobs", "1", "--shard-frames", "3", "--test-fraction", "0.25", "--quiet"]
        }
        func ingest(_ out: URL) throws -> Process { try ChildProcess.start(inkwell, arguments(out)) }
        let unbroken = dir.appendingPathComponent("unbroken")
        let reference = try ingest(unbroken)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        let chaos = dir.appendingPathComponent("chaos")
        var generator = RandomGenerator(seed: 7)
        var killed = 0, attempts = 0
        while killed < Self.kills && attempts < 4 * Self.kills {
            attempts += 1
            guard try ChildProcess.startAndKill(inkwell, arguments(chaos), after: UInt32(5_000 + generator.next() % 150_000)) else {
                // Finished before the kill: start the next round from an empty folder.
                try FileManager.default.removeItem(at: chaos)
                continue
            }
            killed += 1
        }
        let last = try ingest(chaos)
        last.waitUntilExit()
        XCTAssertEqual(last.terminationStatus, 0)
        print("ingest chaos: \(killed) SIGKILLs in \(attempts) attempts")
        XCTAssertGreaterThanOrEqual(killed, Self.kills / 2)

        let a = try DatasetManifest.read(datasetAt: chaos), b = try DatasetManifest.read(datasetAt: unbroken)
        for split in Split.allCases {
            XCTAssertEqual(a.shards.filter { $0.split == split }.map { [$0.file, $0.sha256] },
                           b.shards.filter { $0.split == split }.map { [$0.file, $0.sha256] }, "\(split) shards")
        }
        XCTAssertEqual(a.videos.map(\.sha256), b.videos.map(\.sha256))
        let verify = try ChildProcess.run(inkwell, ["dataset", "verify", chaos.path])
        XCTAssertEqual(verify.status, 0, verify.output)
        let leftovers = (FileManager.default.subpaths(atPath: chaos.path) ?? []).filter {
            let name = ($0 as NSString).lastPathComponent
            return name.contains(".tmp-") || name.hasPrefix("lock")
        }
        XCTAssertEqual(leftovers, [], "no temporary file left")
        let listed = Set(a.shards.flatMap { [$0.file, $0.provenance] })
        let onDisk = Set((FileManager.default.subpaths(atPath: chaos.appendingPathComponent("shards").path) ?? []).map { "shards/\($0)" })
        XCTAssertEqual(onDisk, listed, "every shard file on disk is listed, and no other")
    }
}
