import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest
import InkwellDataset

/// `--crop WxH+X+Y` keeps a rectangle of each decoded frame before scaling; a dataset of two or
/// more videos always has a video in each split.
final class CropAndSplitTests: XCTestCase {
    private func options(width: Int, height: Int) -> IngestOptions {
        var o = IngestOptions()
        o.width = width
        o.height = height
        o.jobs = 1
        o.decoderThreads = 1
        return o
    }

    /// Ten identical grey frames (a key frame every 5) whose value in column x is `value(x)`.
    private func makeGreyClip(_ url: URL, width: Int, height: Int, value: (Int) -> UInt8) throws {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width { for c in 0..<3 { rgb[(y * width + x) * 3 + c] = value(x) } }
        }
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: width, height: height, frameRate: 10, gop: 5, quality: 10, threads: 1))
        for _ in 0..<10 { try writer.append(rgb: rgb) }
        _ = try writer.finish()
    }

    /// Two panels side by side, as the Splatoon fixtures are: the left one a horizontal ramp, the
    /// right one flat white. Cropping the left panel at its own size gives the ramp alone.
    func testCropKeepsTheRectangleBeforeScaling() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("panels.mp4")
        try makeGreyClip(clip, width: 64, height: 32) { x in x < 32 ? UInt8(x * 8) : 255 }

        var o = options(width: 32, height: 32)
        o.crop = CropRectangle("32x32+0+0")
        let out = dir.appendingPathComponent("left")
        let summary = try Ingest(inputs: [clip], output: out, options: o).run()
        XCTAssertEqual(summary.manifest.parameters.crop, "32x32+0+0")
        let loader = try DatasetLoader(url: out, split: .train, batchSize: 1, shuffle: false, dropLast: false)
        let frame = loader.pointer(toFrame: 0)
        // Column x holds about 8x: the right panel's white never enters.
        for x in [2, 10, 20, 28] {
            XCTAssertEqual(Double(frame[(16 * 32 + x) * 3]), Double(x * 8), accuracy: 12, "column \(x)")
        }
        XCTAssertLessThan(frame[(16 * 32 + 31) * 3], 250)
    }

    /// A crop already at the target size takes swscale's unscaled path, whose converters write
    /// whole SIMD blocks past the end of a row 121 pixels wide: the shared Splatoon clips' panels
    /// at their own size (`--crop 121x64+121+0 --size 121x64`) once corrupted the heap here.
    func testACropAtTheTargetSizeOfAnOddWidthConvertsUnscaled() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("panels.mp4")
        try makeGreyClip(clip, width: 242, height: 64) { x in x < 121 ? 40 : UInt8(40 + (x - 121)) }

        for (width, crop) in [(121, "121x64+121+0"), (121, "121x64+0+0"), (97, "97x64+13+0")] {
            var o = options(width: width, height: 64)
            o.crop = CropRectangle(crop)
            o.selection = .all
            o.testFraction = 0
            let out = dir.appendingPathComponent(crop)
            let log = MessageLog()
            let manifest = try Ingest(inputs: [clip], output: out, options: o).run(message: log.callback()).manifest
            XCTAssertEqual(manifest.splits["train"]?.frames, 10, "\(crop): \(log.messages)")
            let loader = try DatasetLoader(url: out, split: .train, batchSize: 1, shuffle: false, dropLast: false)
            let frame = loader.pointer(toFrame: 9)
            let x0 = Int(CropRectangle(crop)!.x)
            for x in [0, 60, width - 1] {
                let expected = x0 + x < 121 ? 40.0 : Double(40 + x0 + x - 121)
                XCTAssertEqual(Double(frame[(32 * width + x) * 3]), expected, accuracy: 10, "\(crop): column \(x)")
            }
        }
    }

    func testACropOutsideTheFrameIsAnErrorNamingTheFileAndTheFrameSize() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("small.mp4")
        try DatasetFixtures.makeClip(clip, frames: 10, gop: 5, width: 64, height: 48)
        var o = options(width: 32, height: 32)
        o.crop = CropRectangle("40x40+30+0")
        let log = MessageLog()
        XCTAssertThrowsError(try Ingest(inputs: [clip], output: dir.appendingPathComponent("out"), options: o).run(message: log.callback()))
        let message = log.rejected("small.mp4")?.text ?? ""
        XCTAssertTrue(message.contains("crop 40x40+30+0") && message.contains("64x48"), message)
        XCTAssertNil(CropRectangle("40x40"))
        XCTAssertNil(CropRectangle("0x40+0+0"))
        XCTAssertEqual(CropRectangle("121x64+0+0"), CropRectangle(width: 121, height: 64, x: 0, y: 0))
    }

    /// Whatever the test fraction, two or more videos give a test video and a train video; the
    /// video forced into test is the one with the lowest split score.
    func testTwoOrMoreVideosAlwaysHaveBothSplits() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for i in 0..<3 { try DatasetFixtures.makeClip(videos.appendingPathComponent("clip\(i).mp4"), frames: 10, gop: 5, variant: i) }
        for fraction in [0.0, 0.01, 1.0] {
            var o = options(width: 32, height: 18)
            o.testFraction = fraction
            let out = dir.appendingPathComponent("f\(fraction)")
            let m = try Ingest(inputs: [videos], output: out, options: o).run().manifest
            let tests = m.videos.filter { $0.split == .test }
            XCTAssertFalse(tests.isEmpty, "test fraction \(fraction): no test video")
            XCTAssertFalse(m.videos.filter { $0.split == .train }.isEmpty, "test fraction \(fraction): no train video")
            if fraction < 0.5 {
                let lowest = m.videos.min { SplitAssignment.score(videoSHA256: $0.sha256, seed: 0) < SplitAssignment.score(videoSHA256: $1.sha256, seed: 0) }
                XCTAssertEqual(tests.map(\.sha256), [lowest!.sha256])
            }
        }
        // One video alone stays where its score puts it.
        var o = options(width: 32, height: 18)
        o.testFraction = 0
        let single = try Ingest(inputs: [videos.appendingPathComponent("clip0.mp4")], output: dir.appendingPathComponent("one"), options: o).run()
        XCTAssertEqual(single.manifest.videos.map(\.split), [.train])
    }
}
