import Foundation
import InkwellDataset
import InkwellTestSupport
import InkwellVideo
import XCTest

/// `mpirun -np 2 inkwell ingest`: the ranks share the decoding, rank 0 writes; the dataset is the
/// one a single process makes of the same folder (same shards, byte for byte, and same split).
final class DistributedIngestTests: XCTestCase {
    func testTwoRanksMakeTheDatasetOneProcessMakes() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for v in 0..<5 { try clip(videos.appendingPathComponent("clip-\(v).mp4"), variant: v) }
        // A copy (a duplicate whichever rank decodes it) and a file that is not a video.
        try FileManager.default.copyItem(at: videos.appendingPathComponent("clip-1.mp4"), to: videos.appendingPathComponent("clip-5-copy.mp4"))
        try Data("not a video".utf8).write(to: videos.appendingPathComponent("notes.mp4"))
        let options = ["--size", "32x18", "--test-fraction", "0.4", "--quiet"]
        let single = dir.appendingPathComponent("single"), shared = dir.appendingPathComponent("shared")
        let one = try ChildProcess.run(try ChildProcess.inkwellTool(), ["ingest", videos.path, "--out", single.path] + options)
        let two = try MPIJob.run(ranks: 2, ["ingest", videos.path, "--out", shared.path] + options)
        XCTAssertEqual(two.status, one.status, "one process: \(one.output)\ntwo ranks: \(two.output)")
        XCTAssertTrue(two.output.contains("decoded by 2 ranks"), two.output)
        try MPIJob.assertSameDataset(shared, single)
        let a = try DatasetManifest.read(datasetAt: single)
        XCTAssertEqual(a.videos.count, 5)
        XCTAssertGreaterThan(a.frameCount, 0)
    }

    /// A short H.264 clip of moving stripes (`variant` changes its content).
    private func clip(_ url: URL, variant: Int) throws {
        let (width, height) = (64, 36)
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: width, height: height, frameRate: 10, gop: 3, codec: .h264, threads: 1))
        for i in 0..<(9 + variant) {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for p in 0..<(width * height) {
                let (x, y) = (p % width, p / width)
                rgb[p * 3] = UInt8((x * 4 + i * 9 + variant * 50) % 256)
                rgb[p * 3 + 1] = UInt8((y * 6 + variant * 30) % 256)
                rgb[p * 3 + 2] = UInt8(((x + y) * 3 + i * 5) % 256)
            }
            try writer.append(rgb: rgb)
        }
        _ = try writer.finish()
    }
}
