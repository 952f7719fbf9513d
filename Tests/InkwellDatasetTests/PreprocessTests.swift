import Foundation
import InkwellTestSupport
import XCTest
@testable import InkwellDataset

final class PreprocessTests: XCTestCase {
    let width = 24, height = 16
    var frameBytes: Int { width * height * 3 }

    private func solid(_ v: UInt8) -> [UInt8] { [UInt8](repeating: v, count: frameBytes) }
    private func textured(_ seed: Int) -> [UInt8] { DatasetFixtures.patternFrame(seed, width: width, height: height) }

    func testFrameStatistics() {
        let black = solid(3), gray = solid(128)
        black.withUnsafeBufferPointer { XCTAssertEqual(FrameStatistics.meanValue($0), 3) }
        gray.withUnsafeBufferPointer { XCTAssertEqual(FrameStatistics.lumaStandardDeviation($0), 0, accuracy: 1e-3) }
        // Half black, half white rows: luma 0 and 255, standard deviation 127.5.
        var halves = solid(0)
        for i in (frameBytes / 2)..<frameBytes { halves[i] = 255 }
        halves.withUnsafeBufferPointer { XCTAssertEqual(FrameStatistics.lumaStandardDeviation($0), 127.5, accuracy: 1e-6) }
        black.withUnsafeBufferPointer { a in gray.withUnsafeBufferPointer { b in
            XCTAssertEqual(FrameStatistics.meanAbsoluteDifference(a, b), 125)
        } }
        // Flip: the pixel at x moves to width - 1 - x; flipping twice gives the frame back.
        let t = textured(5)
        let f = t.withUnsafeBufferPointer { FrameStatistics.flippedHorizontally($0, width: width, height: height) }
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            XCTAssertEqual(f[(y * width + (width - 1 - x)) * 3 + c], t[(y * width + x) * 3 + c])
        } } }
        XCTAssertEqual(f.withUnsafeBufferPointer { FrameStatistics.flippedHorizontally($0, width: width, height: height) }, t)
    }

    /// Train video A: black, textured 1, textured 1 again (duplicate), gray (uniform), textured 2.
    /// Train video B: textured 1 (same picture as A's, but another video: kept), textured 3.
    /// Test video C: textured 4, black.
    private func source() throws -> URL {
        let dir = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("source")
        let b = try DatasetBuilder(url: dir, width: width, height: height, shardFrames: 3)
        try b.addVideo(name: "A", frames: solid(2) + textured(1) + textured(1) + solid(128) + textured(2), count: 5, split: .train)
        try b.addVideo(name: "B", frames: textured(1) + textured(3), count: 2, split: .train)
        try b.addVideo(name: "C", frames: textured(4) + solid(0), count: 2, split: .test)
        try b.commit()
        return dir
    }

    private func frames(_ url: URL, _ split: Split) throws -> ([[UInt8]], [FrameProvenance]) {
        let ds = try Dataset(url: url)
        var out: [[UInt8]] = []
        var rows: [FrameProvenance] = []
        for s in ds.shards(in: split) {
            let m = try ds.openShard(s)
            for i in 0..<m.frames { out.append(Array(m.frame(i))) }
            rows += try ds.provenance(of: s)
        }
        return (out, rows)
    }

    func testFiltersDropWhatTheyShouldAndCountIt() throws {
        let src = try source()
        let out = src.deletingLastPathComponent().appendingPathComponent("clean")
        let summary = try Preprocess.run(source: src, output: out,
                                         options: PreprocessOptions(darkThreshold: 12, uniformThreshold: 4, duplicateThreshold: 2))
        XCTAssertEqual(summary.record.dropped, ["dark": 2, "uniform": 1, "duplicate": 1])
        XCTAssertEqual(summary.record.framesIn, 9)
        XCTAssertEqual(summary.record.framesOut, 5)
        XCTAssertEqual(summary.record.steps.map { $0["name"]! }, ["drop-dark", "drop-uniform", "drop-duplicates"])
        let (train, trainRows) = try frames(out, .train)
        XCTAssertEqual(train, [textured(1), textured(2), textured(1), textured(3)])
        XCTAssertEqual(trainRows.map(\.video), ["A", "A", "B", "B"])
        XCTAssertEqual(trainRows.map(\.timestamp), [1, 4, 0, 1])
        let (test, testRows) = try frames(out, .test)
        XCTAssertEqual(test, [textured(4)])
        XCTAssertEqual(testRows.map(\.video), ["C"])

        let m = try DatasetManifest.read(datasetAt: out)
        XCTAssertEqual(m.preprocess, [summary.record])
        XCTAssertEqual(m.videos.map(\.frames), [2, 2, 1])
        XCTAssertEqual(m.videos.map(\.split), [.train, .train, .test], "splits by video kept")
        XCTAssertEqual(m.splits["train"]?.frames, 4)
        XCTAssertTrue(try Dataset(url: out).verify().isValid)
        XCTAssertEqual(try Dataset(url: src).manifest.frameCount, 9, "source unchanged")
        XCTAssertEqual(summary.record.sourceManifestSHA256,
                       try FileIO.sha256(ofFileAt: src.appendingPathComponent("manifest.json")).digest)
    }

    func testFlipAddsMirroredCopiesMarkedInProvenance() throws {
        let src = try source()
        let out = src.deletingLastPathComponent().appendingPathComponent("flipped")
        let summary = try Preprocess.addHorizontalFlips(source: src, output: out)
        // Training frames (A: 5, B: 2) each gain a mirrored copy; the test split (C) is not augmented.
        XCTAssertEqual(summary.record.added, ["flipped": 7])
        XCTAssertEqual(summary.record.framesOut, 16)
        let (train, trainRows) = try frames(out, .train)
        XCTAssertEqual(trainRows.map(\.flipped), Array(repeating: [false, true], count: 7).flatMap { $0 })
        for i in stride(from: 0, to: train.count, by: 2) {
            XCTAssertEqual(train[i + 1], train[i].withUnsafeBufferPointer { FrameStatistics.flippedHorizontally($0, width: width, height: height) })
        }
        let (test, rows) = try frames(out, .test)
        XCTAssertEqual(rows.map(\.flipped), [false, false])
        XCTAssertEqual(test, [textured(4), solid(0)])
        XCTAssertEqual(try DatasetManifest.read(datasetAt: out).splits["test"]?.frames, 2)

        // Preprocessing again into the same output replaces it atomically; old shards go.
        let again = try Preprocess.dropBlankFrames(source: src, output: out)
        XCTAssertEqual(again.record.dropped["dark"], 2)
        let m = try DatasetManifest.read(datasetAt: out)
        XCTAssertEqual(m.preprocess.count, 1)
        let onDisk = Set(DatasetFixtures.listing(out.appendingPathComponent("shards")).map { "shards/\($0)" })
        XCTAssertEqual(onDisk, Set(m.shards.flatMap { [$0.file, $0.provenance] }))
        // A preprocessed dataset cannot be ingested into.
        XCTAssertThrowsError(try Ingest(inputs: [], output: out, options: {
            var o = IngestOptions(); o.width = width; o.height = height; return o
        }()).run()) { XCTAssertTrue("\($0)".contains("preprocessing"), "\($0)") }
        XCTAssertThrowsError(try Preprocess.run(source: src, output: src, options: PreprocessOptions()))
    }
}
