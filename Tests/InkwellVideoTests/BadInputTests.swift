import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest

/// Every bad input gives a `VideoError` naming the file and the reason; damaged data in the
/// middle of a video loses only the damaged frames.
final class BadInputTests: XCTestCase {
    private func openError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> VideoError? {
        do {
            _ = try VideoDecoder(url: url)
            XCTFail("\(url.lastPathComponent) opened", file: file, line: line)
            return nil
        } catch let error as VideoError {
            XCTAssertEqual(error.path, url.path, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(url.path + ": "), error.description, file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    func testZeroByteFile() throws {
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("empty.mp4")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data()))
        let e = openError(url)
        XCTAssertEqual(e?.kind, .emptyFile)
        XCTAssertEqual(e?.reason, "empty file (0 bytes)")
    }

    func testTruncatedMP4() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let good = dir.appendingPathComponent("good.mp4")
        try TestPattern.writeVideo(good, count: 30)
        let data = try Data(contentsOf: good)
        let cut = dir.appendingPathComponent("cut.mp4")
        try data.prefix(data.count / 2).write(to: cut)
        let e = openError(cut)
        XCTAssertEqual(e?.kind, .notMedia)
        XCTAssertTrue(e?.reason.hasPrefix("truncated or damaged MP4/MOV file") == true, e?.reason ?? "")
    }

    func testTruncatedMatroskaKeepsTheFramesBeforeTheCut() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let good = dir.appendingPathComponent("good.mkv")
        try TestPattern.writeVideo(good, count: 60, gop: 10, codec: .mpeg4)
        let data = try Data(contentsOf: good)
        let cut = dir.appendingPathComponent("cut.mkv")
        try data.prefix(data.count * 6 / 10).write(to: cut)
        var indices: [Int] = []
        try VideoDecoder(url: cut).decode(DecodeOptions(selection: .all, width: 64, height: 48)) { f in
            indices.append(TestPattern.index(of: f.rgb, width: f.width, height: f.height))
        }
        XCTAssertGreaterThan(indices.count, 20)
        XCTAssertLessThan(indices.count, 60)
        XCTAssertEqual(indices, Array(0..<indices.count), "a clean prefix of the frames")
    }

    func testTextFileNamedMP4() throws {
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("notes.mp4")
        try "These are my notes about the match.\nNot a video at all.\n".write(to: url, atomically: true, encoding: .utf8)
        let e = openError(url)
        XCTAssertEqual(e?.kind, .notMedia)
        XCTAssertEqual(e?.reason, "a text file, not a video")
    }

    func testRandomBytesNamedMP4() throws {
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("noise.mp4")
        var rng = SeededGenerator(seed: 3)
        try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: url)
        let e = openError(url)
        XCTAssertTrue(e?.kind == .notMedia || e?.kind == .noVideoStream, "\(String(describing: e))")
    }

    func testAudioOnlyFile() throws {
        // A WAV file: 0.2 s of 16-bit mono PCM at 8 kHz.
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("song.wav")
        let samples = 1600
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + samples * 2)); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(8000); u32(16000); u16(2); u16(16)
        d.append(contentsOf: Array("data".utf8)); u32(UInt32(samples * 2))
        for i in 0..<samples { u16(UInt16(bitPattern: Int16(sin(Double(i) * 0.3) * 8000))) }
        try d.write(to: url)
        let e = openError(url)
        XCTAssertEqual(e?.kind, .noVideoStream)
        XCTAssertEqual(e?.reason, "an audio-only file (streams: audio)")
    }

    func testMissingPathDirectoryAndPathThroughAFile() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let missing = dir.appendingPathComponent("nope.mp4")
        XCTAssertEqual(openError(missing)?.kind, .notFound)
        XCTAssertTrue(openError(missing)?.reason.contains("No such file") == true)
        let sub = dir.appendingPathComponent("clips.mp4")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let e = openError(sub)
        XCTAssertEqual(e?.kind, .notReadable)
        XCTAssertEqual(e?.reason, "is a directory")
        let file = dir.appendingPathComponent("f.txt")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(openError(file.appendingPathComponent("inner.mp4"))?.kind, .notFound)
    }

    func testUnreadableFile() throws {
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("locked.mp4")
        try TestPattern.writeVideo(url, count: 2)
        chmod(url.path, 0)
        defer { chmod(url.path, 0o644) }
        if geteuid() == 0 {
            throw XCTSkip("running as root: permissions do not stop reads")
        }
        let e = openError(url)
        XCTAssertEqual(e?.kind, .notReadable)
        XCTAssertTrue(e?.reason.contains("Permission denied") == true, e?.reason ?? "")
    }

    func testStillImageIsNotAVideo() throws {
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("shot.png")
        try PNGImage(width: 8, height: 8, fill: (9, 9, 9)).write(to: url)
        XCTAssertEqual(openError(url)?.kind, .stillImage)
    }

    /// Overwrites bytes in the middle of a valid video: frames before and after the damage are
    /// kept, the damage is counted, and decoding does not stop.
    func testCorruptPacketsInTheMiddle() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        for (codec, ext) in [(VideoCodec.h264, "mp4"), (VideoCodec.mpeg4, "mkv")] {
            let url = dir.appendingPathComponent("damaged.\(ext)")
            try TestPattern.writeVideo(url, count: 90, gop: 10, codec: codec)
            var bytes = [UInt8](try Data(contentsOf: url))
            // MP4 here keeps its index (moov) at the end and MKV its cues at the end: damage the
            // middle of the file, i.e. frame data.
            let start = bytes.count * 45 / 100
            var rng = SeededGenerator(seed: 11)
            for i in start..<(start + bytes.count / 20) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            try Data(bytes).write(to: url)

            var indices: [Int] = []
            let stats = try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 64, height: 48)) { f in
                indices.append(TestPattern.index(of: f.rgb, width: f.width, height: f.height))
            }
            XCTAssertGreaterThan(stats.decodeErrors, 0, "\(ext): damage counted: \(stats)")
            print("damaged \(ext): \(stats)")
            XCTAssertEqual(Array(indices.prefix(20)), Array(0..<20), "\(ext): frames before the damage")
            XCTAssertEqual(Array(indices.suffix(15)), Array(75..<90), "\(ext): frames after the damage")

            var keys: [Int] = []
            let keyStats = try VideoDecoder(url: url).decode(DecodeOptions(selection: .keyFrames, width: 64, height: 48)) { f in
                keys.append(TestPattern.index(of: f.rgb, width: f.width, height: f.height))
            }
            XCTAssertEqual(Array(keys.prefix(3)), [0, 10, 20], "\(ext)")
            XCTAssertEqual(Array(keys.suffix(2)), [70, 80], "\(ext)")
            XCTAssertLessThanOrEqual(keys.count, 9)
            _ = keyStats
        }
    }

    func testInvalidOutputSizeIsRefused() throws {
        let url = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("v.mp4")
        try TestPattern.writeVideo(url, count: 2)
        XCTAssertThrowsError(try VideoDecoder(url: url).decode(DecodeOptions(width: 0, height: 10)) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("invalid output size 0x10"))
        }
    }
}
