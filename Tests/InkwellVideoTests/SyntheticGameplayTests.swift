import Foundation
import InkwellBenchmarks
import InkwellTestSupport
import InkwellVideo
import XCTest

final class SyntheticGameplayTests: XCTestCase {
    func testClipsHaveExpectedFramesKeyFramesAudioAndAreDeterministic() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        var options = SyntheticGameplay.Options()
        options.count = 2
        options.seconds = 2
        options.width = 160
        options.height = 90
        options.seed = 7
        let urls = try SyntheticGameplay.writeClips(options, to: dir.appendingPathComponent("a"))
        XCTAssertEqual(urls.map(\.lastPathComponent), ["clip-000.mp4", "clip-001.mp4"])
        let again = try SyntheticGameplay.writeClips(options, to: dir.appendingPathComponent("b"))
        // Same seed, same bytes, whatever the process encoded in between (x264's AVX-512 code
        // broke this; see VideoWriter.x264Parameters); another seed, another clip.
        XCTAssertEqual(try Data(contentsOf: urls[0]), try Data(contentsOf: again[0]), "same seed, same bytes")
        var other = options
        other.count = 1; other.width = 320; other.height = 180; other.quality = 30
        for round in 0..<3 {
            try SyntheticGameplay.writeClips(other, to: dir.appendingPathComponent("other\(round)"))
            let third = try SyntheticGameplay.writeClips(options, to: dir.appendingPathComponent("c\(round)"))
            XCTAssertEqual(try Data(contentsOf: urls[1]), try Data(contentsOf: third[1]), "same seed, same bytes after another encode")
        }
        func frames(_ url: URL) throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 160, height: 90)) { out.append(Array($0.rgb)) }
            return out
        }
        let difference = IngestBenchmark.meanAbsoluteDifference(try frames(urls[0]).flatMap { $0 }, try frames(urls[1]).flatMap { $0 })
        XCTAssertGreaterThan(difference, 10, "clips differ")
        var silent = options
        silent.audio = false
        let s1 = dir.appendingPathComponent("s1.mp4")
        try SyntheticGameplay.writeClip(to: s1, options: silent, seed: 9)
        XCTAssertEqual(try frames(s1).count, 60)
        XCTAssertFalse(try VideoDecoder(url: s1).info.hasAudio)

        let decoder = try VideoDecoder(url: urls[0])
        XCTAssertEqual(decoder.info.codec, "h264")
        XCTAssertTrue(decoder.info.hasAudio)
        var all: [PNGImage] = []
        try decoder.decode(DecodeOptions(selection: .all, width: 160, height: 90)) { f in
            all.append(PNGImage(width: f.width, height: f.height, pixels: Array(f.rgb)))
        }
        XCTAssertEqual(all.count, 60)
        var keys = 0
        try VideoDecoder(url: urls[0]).decode(DecodeOptions(selection: .keyFrames, width: 32, height: 18)) { _ in keys += 1 }
        XCTAssertEqual(keys, 4, "GOP 15 over 60 frames")

        // Looks like gameplay: both team colours present late in the clip, the first frame near-black.
        let mean0 = all[0].pixels.reduce(0) { $0 + Int($1) } / all[0].pixels.count
        XCTAssertLessThan(mean0, 20)
        let last = all[59]
        let meanLast = last.pixels.reduce(0) { $0 + Int($1) } / last.pixels.count
        XCTAssertGreaterThan(meanLast, 50)
        XCTAssertGreaterThan(Set(stride(from: 0, to: last.pixels.count, by: 3).map { last.pixels[$0] / 32 }).count, 4)

        if let keep = ProcessInfo.processInfo.environment["INKWELL_KEEP_SYNTH_SHEET"] {
            try PNGImage.grid([all[10], all[30], all[45], all[59]], columns: 2, gap: 4).write(to: URL(fileURLWithPath: keep))
        }
    }

    func testRendererIsDeterministic() {
        let a = GameplayClipRenderer(width: 64, height: 36 * 2, frameCount: 30, seed: 42)
        let b = GameplayClipRenderer(width: 64, height: 36 * 2, frameCount: 30, seed: 42)
        let c = GameplayClipRenderer(width: 64, height: 36 * 2, frameCount: 30, seed: 43)
        var differsFromOtherSeed = false
        for _ in 0..<30 {
            let fa = a.nextFrame()
            XCTAssertEqual(fa, b.nextFrame())
            if fa != c.nextFrame() { differsFromOtherSeed = true }
        }
        XCTAssertTrue(differsFromOtherSeed)
    }
}
