import Foundation
import InkwellTestSupport
import XCTest
@testable import InkwellDataset

final class DatasetFormatTests: XCTestCase {
    func testNPYHeaderIsVersion1AlignedAndParsesBack() throws {
        for shape in [[0, 65, 121, 3], [1024, 65, 121, 3], [7, 4, 6, 3]] {
            let header = NPYFormat.header(shape: shape)
            XCTAssertEqual(Array(header[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
            XCTAssertEqual(header.count % 64, 0, "data must start 64-byte aligned")
            XCTAssertEqual(header.last, 0x0A)
            let text = String(decoding: header[10...], as: UTF8.self)
            XCTAssertTrue(text.hasPrefix("{'descr': '|u1', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))), }"), text)
            let parsed = try header.withUnsafeBytes { try NPYFormat.parseHeader($0) }
            XCTAssertEqual(parsed, NPYFormat.Header(shape: shape, dataOffset: header.count))
        }
    }

    func testNPYParserRejectsOtherDtypesAndFortranOrder() throws {
        let truncated = NPYFormat.header(shape: [1])
        XCTAssertThrowsError(try truncated.withUnsafeBytes { try NPYFormat.parseHeader(UnsafeRawBufferPointer(rebasing: $0[0..<5])) })
        func replacing(_ a: String, _ b: String) -> [UInt8] {
            let h = NPYFormat.header(shape: [2, 3])
            return Array(h[0..<10]) + Array(String(decoding: h[10...], as: UTF8.self).replacingOccurrences(of: a, with: b).utf8)
        }
        XCTAssertThrowsError(try replacing("False", "True ").withUnsafeBytes { try NPYFormat.parseHeader($0) }) { error in
            XCTAssertTrue("\(error)".contains("Fortran"), "\(error)")
        }
        XCTAssertThrowsError(try replacing("|u1", "<f4").withUnsafeBytes { try NPYFormat.parseHeader($0) }) { error in
            XCTAssertEqual("\(error)", "dtype <f4 is not uint8")
        }
        XCTAssertEqual(try replacing("x", "x").withUnsafeBytes { try NPYFormat.parseHeader($0) }.shape, [2, 3])
        XCTAssertThrowsError(try Array("not numpy at all".utf8).withUnsafeBytes { try NPYFormat.parseHeader($0) })
    }

    func testShardsOpenWithNumPyMemoryMapAndHoldTheFrames() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let manifest = try DatasetFixtures.makeDataset(dir, videos: 3, framesPerVideo: 5, testVideos: 1, width: 6, height: 4, shardFrames: 4)
        let script = """
        import sys, json, numpy as np
        root = sys.argv[1]
        m = json.load(open(root + "/manifest.json"))
        for s in m["shards"]:
            a = np.load(root + "/" + s["file"], mmap_mode="r")
            assert isinstance(a, np.memmap), type(a)
            assert a.dtype == np.uint8 and a.flags["C_CONTIGUOUS"], a.dtype
            print(s["file"], a.shape, int(a[0, 0, 0, 0]), int(a[-1, -1, -1, 2]))
        """
        guard let result = try DatasetFixtures.python(script, [dir.path]) else {
            throw XCTSkip("skipped: python3 with numpy is not available to check .npy files")
        }
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, manifest.shards.count)
        // train: videos 0, 1 (frames 0..9) in shards of 4, 4, 2; test: video 2 (frames 10..14) in 4, 1.
        XCTAssertEqual(lines, [
            "shards/train-000000.npy (4, 4, 6, 3) 0 252",
            "shards/train-000001.npy (4, 4, 6, 3) 4 248",
            "shards/train-000002.npy (2, 4, 6, 3) 8 246",
            "shards/test-000000.npy (4, 4, 6, 3) 10 242",
            "shards/test-000001.npy (1, 4, 6, 3) 14 241",
        ])
    }

    func testManifestRecordsShardDigestsThatMatchTheFiles() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let manifest = try DatasetFixtures.makeDataset(dir, videos: 2, framesPerVideo: 3)
        let reread = try DatasetManifest.read(datasetAt: dir)
        XCTAssertEqual(reread, manifest)
        XCTAssertEqual(reread.splits["train"], SplitSummary(videos: 1, frames: 3))
        XCTAssertEqual(reread.splits["test"], SplitSummary(videos: 1, frames: 3))
        for shard in reread.shards {
            let (digest, bytes) = try FileIO.sha256(ofFileAt: dir.appendingPathComponent(shard.file))
            XCTAssertEqual(digest, shard.sha256)
            XCTAssertEqual(Int(bytes), shard.bytes)
            XCTAssertEqual(try FileIO.sha256(ofFileAt: dir.appendingPathComponent(shard.provenance)).digest, shard.provenanceSHA256)
        }
        XCTAssertTrue(try Dataset(url: dir).verify().isValid)
    }

    func testProvenanceCSVQuotesAndParsesBack() throws {
        let rows = [
            FrameProvenance(video: "/videos/a, \"quoted\".mp4", videoSHA256: "ab", timestamp: 1.5, isKeyFrame: true),
            FrameProvenance(video: "/videos/plain.mp4", videoSHA256: "cd", timestamp: 0.033333, isKeyFrame: false, flipped: true),
        ]
        let text = FrameProvenance.csv(shard: "train-000000.npy", frames: rows)
        XCTAssertTrue(text.hasPrefix(FrameProvenance.csvHeader + "\n"))
        XCTAssertTrue(text.contains("\"/videos/a, \"\"quoted\"\".mp4\""), text)
        XCTAssertEqual(try FrameProvenance.parse(csv: text, path: "x.csv"), rows)
        XCTAssertThrowsError(try FrameProvenance.parse(csv: "a,b\n1,2\n", path: "x.csv")) { error in
            XCTAssertEqual("\(error)", "x.csv: line 1: expected header '\(FrameProvenance.csvHeader)'")
        }
    }

    func testSplitDependsOnlyOnContentHashAndSeed() throws {
        let shas = (0..<2000).map { FileIO.sha256(Data("video \($0)".utf8)) }
        let splits = shas.map { SplitAssignment.split(videoSHA256: $0, seed: 7) }
        XCTAssertEqual(splits, shas.map { SplitAssignment.split(videoSHA256: $0, seed: 7) }, "deterministic")
        let testShare = Double(splits.filter { $0 == .test }.count) / Double(shas.count)
        XCTAssertEqual(testShare, 0.1, accuracy: 0.025, "about 9:1")
        // The score is a function of (seed, sha) alone: a video's split is the same whatever else is there.
        let alone = SplitAssignment.split(videoSHA256: shas[42], seed: 7)
        XCTAssertEqual(alone, splits[42])
        // Another seed reassigns some videos; fraction 0 and 1 put everything on one side.
        let other = shas.map { SplitAssignment.split(videoSHA256: $0, seed: 8) }
        XCTAssertNotEqual(other, splits)
        XCTAssertTrue(shas.allSatisfy { SplitAssignment.split(videoSHA256: $0, seed: 7, testFraction: 0) == .train })
        XCTAssertTrue(shas.allSatisfy { SplitAssignment.split(videoSHA256: $0, seed: 7, testFraction: 1) == .test })
        // Raising the test fraction only moves videos from train to test.
        let wider = shas.map { SplitAssignment.split(videoSHA256: $0, seed: 7, testFraction: 0.2) }
        for (a, b) in zip(splits, wider) where a == .test { XCTAssertEqual(b, .test) }
    }
}
