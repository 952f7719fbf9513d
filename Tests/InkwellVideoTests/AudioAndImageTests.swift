import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest

final class AudioAndImageTests: XCTestCase {
    func testGeneratedAudioIsCopiedIntoANewVideo() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let source = dir.appendingPathComponent("with-audio.mp4")
        let written = try TestPattern.writeVideo(source, count: 60, fps: 30, toneRate: 44_100)
        XCTAssertGreaterThan(written.audioPackets, 80, "2 s of AAC is ~86 packets")
        let info = try VideoDecoder(url: source).info
        XCTAssertEqual(info.audioCodec, "aac")

        let out = dir.appendingPathComponent("copy.mp4")
        let copied = try TestPattern.writeVideo(out, count: 60, fps: 30, audioSource: source)
        XCTAssertEqual(try VideoDecoder(url: out).info.audioCodec, "aac")
        XCTAssertGreaterThan(copied.audioPackets, 80)
        XCTAssertLessThanOrEqual(copied.audioPackets, written.audioPackets)
        // The video is still intact.
        var n = 0
        try VideoDecoder(url: out).decode(DecodeOptions(selection: .all, width: 32, height: 24)) { f in
            XCTAssertEqual(TestPattern.index(of: f.rgb, width: f.width, height: f.height), n)
            n += 1
        }
        XCTAssertEqual(n, 60)

        // A shorter video gets only the audio up to its end.
        let short = dir.appendingPathComponent("short.mp4")
        let s = try TestPattern.writeVideo(short, count: 15, fps: 30, audioSource: source)
        XCTAssertLessThan(s.audioPackets, copied.audioPackets / 2)
    }

    func testSourceWithoutAudioGivesOutputWithoutAudio() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let silent = dir.appendingPathComponent("silent.mp4")
        try TestPattern.writeVideo(silent, count: 10)
        let out = dir.appendingPathComponent("out.mp4")
        let r = try TestPattern.writeVideo(out, count: 10, audioSource: silent)
        XCTAssertEqual(r.audioPackets, 0)
        XCTAssertNil(try VideoDecoder(url: out).info.audioCodec)
    }

    func testRealClipAudioIsCopied() throws {
        let webm = try SharedFixtures.require("fixtures/videos/echo-hereweare.webm")
        let mp4 = try SharedFixtures.require("fixtures/videos/sample-h264-320x240.mp4")
        let dir = try SharedFixtures.temporaryDirectory(self)
        let fromWebm = dir.appendingPathComponent("recon.mkv")
        let r1 = try TestPattern.writeVideo(fromWebm, count: 30, audioSource: webm)
        XCTAssertGreaterThan(r1.audioPackets, 0)
        XCTAssertEqual(try VideoDecoder(url: fromWebm).info.audioCodec, "vorbis")
        let fromMP4 = dir.appendingPathComponent("recon.mp4")
        let r2 = try TestPattern.writeVideo(fromMP4, count: 30, audioSource: mp4)
        XCTAssertGreaterThan(r2.audioPackets, 0)
        XCTAssertEqual(try VideoDecoder(url: fromMP4).info.audioCodec, "aac")
    }

    func testMissingAudioSourceIsAnError() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let out = dir.appendingPathComponent("o.mp4")
        XCTAssertThrowsError(try TestPattern.writeVideo(out, count: 2, audioSource: dir.appendingPathComponent("gone.mp4"))) { e in
            XCTAssertTrue("\(e)".contains("gone.mp4"), "\(e)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "nothing left behind")
    }

    func testCancelledWriterLeavesNothing() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let writer = try VideoWriter(url: dir.appendingPathComponent("x.mp4"), options: VideoWriterOptions(width: 32, height: 32))
        try writer.append(rgb: [UInt8](repeating: 7, count: 32 * 32 * 3))
        writer.cancel()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        XCTAssertThrowsError(try writer.append(rgb: [UInt8](repeating: 7, count: 32 * 32 * 3)))
    }

    func testWriterRejectsWrongFrameSizeAndOddSizes() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let writer = try VideoWriter(url: dir.appendingPathComponent("x.mp4"), options: VideoWriterOptions(width: 32, height: 32))
        XCTAssertThrowsError(try writer.append(rgb: [UInt8](repeating: 0, count: 10))) { e in
            XCTAssertTrue("\(e)".contains("expected 3072"), "\(e)")
        }
        writer.cancel()
        XCTAssertThrowsError(try VideoWriter(url: dir.appendingPathComponent("odd.mp4"), options: VideoWriterOptions(width: 33, height: 32)))
        // FFV1 takes odd sizes.
        let odd = dir.appendingPathComponent("odd.mkv")
        let w = try VideoWriter(url: odd, options: VideoWriterOptions(width: 33, height: 17, codec: .ffv1))
        try w.append(rgb: [UInt8](repeating: 90, count: 33 * 17 * 3))
        try w.finish()
        XCTAssertEqual(try VideoDecoder(url: odd).info.width, 33)
    }

    func testPNGGridPlacesCellsWithGaps() throws {
        let a = PNGImage(width: 4, height: 3, fill: (255, 0, 0))
        let b = PNGImage(width: 4, height: 3, fill: (0, 255, 0))
        let c = PNGImage(width: 2, height: 2, fill: (0, 0, 255))
        let sheet = PNGImage.grid([a, b, c], columns: 2, gap: 1, background: (9, 9, 9))
        XCTAssertEqual(sheet.width, 2 * 4 + 3)
        XCTAssertEqual(sheet.height, 2 * 3 + 3)
        XCTAssertTrue(sheet[0, 0] == (9, 9, 9))
        XCTAssertTrue(sheet[1, 1] == (255, 0, 0))
        XCTAssertTrue(sheet[4, 3] == (255, 0, 0))
        XCTAssertTrue(sheet[5, 1] == (9, 9, 9), "gap column")
        XCTAssertTrue(sheet[6, 1] == (0, 255, 0))
        XCTAssertTrue(sheet[1, 5] == (0, 0, 255))
        XCTAssertTrue(sheet[3, 5] == (9, 9, 9), "small image leaves the rest of its cell as background")
        let dir = try SharedFixtures.temporaryDirectory(self)
        try sheet.write(to: dir.appendingPathComponent("sheet.png"))
        XCTAssertEqual(try PNGImage.read(from: dir.appendingPathComponent("sheet.png")), sheet)
    }

    func testBadPNGInputs() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let text = dir.appendingPathComponent("a.png")
        try "hello".write(to: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PNGImage.read(from: text)) { XCTAssertEqual("\($0)", "\(text.path): not a PNG file") }
        XCTAssertThrowsError(try PNGImage.read(from: dir.appendingPathComponent("none.png"))) { XCTAssertTrue("\($0)".hasSuffix("no such file")) }
        let good = dir.appendingPathComponent("g.png")
        try PNGImage(width: 64, height: 64, fill: (1, 2, 3)).write(to: good)
        let cut = dir.appendingPathComponent("cut.png")
        try Data(try Data(contentsOf: good).prefix(40)).write(to: cut)
        XCTAssertThrowsError(try PNGImage.read(from: cut)) { XCTAssertTrue("\($0)".hasPrefix(cut.path + ": damaged PNG"), "\($0)") }
        XCTAssertThrowsError(try PNGImage(width: 4, height: 4).write(to: dir.appendingPathComponent("no/such/dir/x.png"))) {
            XCTAssertTrue("\($0)".contains("x.png"))
        }
    }
}
