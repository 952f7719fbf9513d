import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest

/// Decoding: frame selection, timestamps, codecs and containers, scaling, rotation, aspect.
final class VideoDecoderTests: XCTestCase {
    private func decodeIndices(_ url: URL, _ options: DecodeOptions) throws -> (indices: [Int], times: [Double], keys: [Bool], stats: DecodeStats) {
        var indices: [Int] = [], times: [Double] = [], keys: [Bool] = []
        let stats = try VideoDecoder(url: url).decode(options) { f in
            indices.append(TestPattern.index(of: f.rgb, width: f.width, height: f.height))
            times.append(f.timestamp)
            keys.append(f.isKeyFrame)
        }
        return (indices, times, keys, stats)
    }

    func testEveryCodecAndContainerGivesExactFramesTimestampsAndKeyFrames() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let cases: [(VideoCodec, String, String)] = [
            (.h264, "mp4", "h264"), (.h264, "mkv", "h264"), (.mpeg4, "mkv", "mpeg4"),
            (.mpeg4, "avi", "mpeg4"), (.vp8, "webm", "vp8"), (.ffv1, "mkv", "ffv1"), (.mpeg4, "mov", "mpeg4"),
        ]
        for (codec, ext, name) in cases where codec.isAvailable {
            let url = dir.appendingPathComponent("v-\(codec.rawValue).\(ext)")
            let written = try TestPattern.writeVideo(url, count: 36, fps: 25, gop: 8, codec: codec)
            XCTAssertEqual(written.keyFrames, 5, "\(url.lastPathComponent): key frames written")
            let info = try VideoDecoder(url: url).info
            XCTAssertEqual(info.codec, name)
            XCTAssertEqual(info.frameRate, 25, accuracy: 0.01, url.lastPathComponent)
            XCTAssertFalse(info.hasAudio)

            let all = try decodeIndices(url, DecodeOptions(selection: .all, width: 64, height: 48))
            XCTAssertEqual(all.indices, Array(0..<36), "\(url.lastPathComponent): every frame, in order")
            XCTAssertEqual(all.stats.decodeErrors, 0)
            for (i, t) in all.times.enumerated() { XCTAssertEqual(t, Double(i) / 25, accuracy: 1e-3, url.lastPathComponent) }
            XCTAssertEqual(all.keys.enumerated().filter { $0.element }.map(\.offset), [0, 8, 16, 24, 32], url.lastPathComponent)

            let keys = try decodeIndices(url, DecodeOptions(selection: .keyFrames, width: 64, height: 48))
            XCTAssertEqual(keys.indices, [0, 8, 16, 24, 32], "\(url.lastPathComponent): key frames only")
            XCTAssertEqual(keys.times.map { ($0 * 25).rounded() }, [0, 8, 16, 24, 32])
            XCTAssertTrue(keys.keys.allSatisfy { $0 })
            XCTAssertEqual(keys.stats.framesDecoded, 5, "non-key frames never decoded")
        }
    }

    func testKeyFramesAreSkippedInsideTheDecoderEvenWhenPacketsAreSent() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("k.mp4")
        try TestPattern.writeVideo(url, count: 30, gop: 7)
        var options = DecodeOptions(selection: .keyFrames, width: 64, height: 48)
        options.skipNonKeyPackets = false   // only AVCodecContext.skip_frame = AVDISCARD_NONKEY
        let r = try decodeIndices(url, options)
        XCTAssertEqual(r.indices, [0, 7, 14, 21, 28])
        XCTAssertEqual(r.stats.packetsSkipped, 0)
        XCTAssertEqual(r.stats.packetsRead, 30)
    }

    func testFixedRateSelectsFirstFrameAtOrAfterEachTick() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("f.mkv")
        try TestPattern.writeVideo(url, count: 60, fps: 30, gop: 12, codec: .mpeg4)
        let ten = try decodeIndices(url, DecodeOptions(selection: .fps(10), width: 64, height: 48))
        XCTAssertEqual(ten.indices, Array(stride(from: 0, to: 60, by: 3)))
        let seven = try decodeIndices(url, DecodeOptions(selection: .fps(7), width: 64, height: 48))
        // Tick k at k/7 s: the first frame i with i/30 >= k/7, i.e. ceil(30k/7).
        let expected = (0..<14).map { k in (30 * k + 6) / 7 }.filter { $0 < 60 }
        XCTAssertEqual(seven.indices, expected)
        for (i, t) in zip(seven.indices, seven.times) { XCTAssertEqual(t, Double(i) / 30, accuracy: 1e-3) }
        // Faster than the source: every frame once.
        let fast = try decodeIndices(url, DecodeOptions(selection: .fps(100), width: 64, height: 48))
        XCTAssertEqual(fast.indices, Array(0..<60))
    }

    func testStartEndAndCap() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("s.mp4")
        try TestPattern.writeVideo(url, count: 90, fps: 30, gop: 10)
        let window = try decodeIndices(url, DecodeOptions(selection: .all, width: 64, height: 48, start: 1.0, end: 2.0))
        XCTAssertEqual(window.indices, Array(30..<60))
        XCTAssertEqual(window.times.first!, 1.0, accuracy: 1e-3)
        let mid = try decodeIndices(url, DecodeOptions(selection: .all, width: 64, height: 48, start: 0.55))
        XCTAssertEqual(mid.indices.first, 17, "start between key frames: decoded from the key frame before, frames before start dropped")
        XCTAssertEqual(mid.indices.count, 90 - 17)
        let keys = try decodeIndices(url, DecodeOptions(selection: .keyFrames, width: 64, height: 48, start: 0.5, end: 2.5))
        XCTAssertEqual(keys.indices, [20, 30, 40, 50, 60, 70])
        let capped = try decodeIndices(url, DecodeOptions(selection: .keyFrames, width: 64, height: 48, maxFrames: 3))
        XCTAssertEqual(capped.indices, [0, 10, 20])
        XCTAssertEqual(capped.stats.framesTaken, 3)
        let fpsWindow = try decodeIndices(url, DecodeOptions(selection: .fps(5), width: 64, height: 48, start: 1, end: 2, maxFrames: 4))
        XCTAssertEqual(fpsWindow.indices, [30, 36, 42, 48])
    }

    func testScaledPixelsMatchTheSourceRamp() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("ramp.mkv")
        try TestPattern.writeVideo(url, count: 1, width: 256, height: 128, gop: 1, codec: .ffv1)
        for scaler in Scaler.allCases {
            var checked = 0
            try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 64, height: 32, scaler: scaler)) { f in
                // Bottom half: red = x ramp, green 128, blue = y ramp (rows 64..127 of the source).
                for y in [20, 24, 28] {
                    for x in [4, 16, 32, 48, 60] {
                        let i = (y * 64 + x) * 3
                        let srcX = (Double(x) + 0.5) * 4 - 0.5
                        let srcY = (Double(y) + 0.5) * 4 - 0.5 - 64
                        XCTAssertEqual(Double(f.rgb[i]), srcX * 255 / 255, accuracy: 6, "\(scaler) red at \(x),\(y)")
                        XCTAssertEqual(Double(f.rgb[i + 1]), 128, accuracy: 4, "\(scaler) green")
                        XCTAssertEqual(Double(f.rgb[i + 2]), srcY * 255 / 63, accuracy: 10, "\(scaler) blue at \(x),\(y)")
                        checked += 1
                    }
                }
            }
            XCTAssertEqual(checked, 15)
        }
    }

    func testRotationMetadataTurnsTheFrame() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        for rotation in [90, 180, 270] {
            let url = dir.appendingPathComponent("r\(rotation).mp4")
            try TestPattern.writeVideo(url, count: 1, width: 96, height: 64, gop: 1, rotation: rotation)
            let decoder = try VideoDecoder(url: url)
            XCTAssertEqual(decoder.info.rotation, rotation)
            let swapped = rotation != 180
            let (w, h) = swapped ? (64, 96) : (96, 64)
            var raw: [UInt8] = [], turned: [UInt8] = []
            var plain = DecodeOptions(selection: .all, width: 96, height: 64)
            plain.autoRotate = false
            try decoder.decode(plain) { raw = Array($0.rgb) }
            try decoder.decode(DecodeOptions(selection: .all, width: w, height: h)) { turned = Array($0.rgb) }
            XCTAssertEqual(turned.count, w * h * 3)
            // turned(x, y) == raw rotated clockwise by `rotation`.
            var mismatches = 0
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy): (Int, Int)
                    switch rotation {
                    case 90: (sx, sy) = (y, 64 - 1 - x)
                    case 180: (sx, sy) = (96 - 1 - x, 64 - 1 - y)
                    default: (sx, sy) = (96 - 1 - y, x)
                    }
                    for c in 0..<3 where turned[(y * w + x) * 3 + c] != raw[(sy * 96 + sx) * 3 + c] { mismatches += 1 }
                }
            }
            XCTAssertEqual(mismatches, 0, "rotation \(rotation)")
            // Clockwise 90: the source's bottom-left corner (ramp: red 0, blue 255) is the display's top-left.
            if rotation == 90 {
                XCTAssertLessThan(turned[0], 40)
                XCTAssertGreaterThan(turned[2], 200)
            }
        }
    }

    /// A 4:3 frame: top 30 rows red, bottom 30 rows blue, the middle green.
    private func bandedFrame(width: Int, height: Int, band: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let c: (UInt8, UInt8, UInt8) = y < band ? (220, 20, 20) : y >= height - band ? (20, 20, 220) : (20, 200, 20)
            for x in 0..<width { let i = (y * width + x) * 3; p[i] = c.0; p[i + 1] = c.1; p[i + 2] = c.2 }
        }
        return p
    }

    func testLetterboxAndCropGeometryForA4By3Source() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("43.mkv")
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: 320, height: 240, gop: 1, codec: .ffv1))
        try writer.append(rgb: bandedFrame(width: 320, height: 240, band: 30))
        try writer.finish()

        var letterbox: [UInt8] = [], crop: [UInt8] = [], stretch: [UInt8] = []
        try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 160, height: 90, aspect: .letterbox)) { letterbox = Array($0.rgb) }
        try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 160, height: 90, aspect: .crop)) { crop = Array($0.rgb) }
        try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 160, height: 90, aspect: .stretch)) { stretch = Array($0.rgb) }
        func px(_ p: [UInt8], _ x: Int, _ y: Int) -> (Int, Int, Int) { let i = (y * 160 + x) * 3; return (Int(p[i]), Int(p[i + 1]), Int(p[i + 2])) }
        // Letterbox: 4:3 inside 160x90 is 120x90, centred: black bars of 20 columns each side.
        for y in [0, 45, 89] {
            for x in [0, 19, 140, 159] { XCTAssertTrue(px(letterbox, x, y) == (0, 0, 0), "bar at \(x),\(y): \(px(letterbox, x, y))") }
            XCTAssertGreaterThan(px(letterbox, 21, y).0 + px(letterbox, 21, y).1 + px(letterbox, 21, y).2, 150)
        }
        XCTAssertGreaterThan(px(letterbox, 80, 2).0, 180, "top band red, kept")
        XCTAssertGreaterThan(px(letterbox, 80, 87).2, 180, "bottom band blue, kept")
        // Crop: 4:3 -> 16:9 keeps the middle 180 of 240 rows: the red and blue bands are cut away.
        for y in [0, 45, 89] { for x in [0, 80, 159] { XCTAssertGreaterThan(px(crop, x, y).1, 170, "crop keeps green at \(x),\(y)") } }
        // Stretch: the whole picture, bands squeezed.
        XCTAssertGreaterThan(px(stretch, 80, 2).0, 180)
        XCTAssertGreaterThan(px(stretch, 80, 87).2, 180)
    }

    func testOddSizedWideSourceScalesToTheTarget() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("1366.mp4")
        var frame = [UInt8](repeating: 0, count: 1366 * 768 * 3)
        for y in 0..<768 { for x in 0..<1366 { let i = (y * 1366 + x) * 3; if x < 683 { frame[i] = 230 } else { frame[i + 2] = 230 } } }
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: 1366, height: 768, gop: 2))
        for _ in 0..<3 { try writer.append(rgb: frame) }
        try writer.finish()
        let decoder = try VideoDecoder(url: url)
        XCTAssertEqual(decoder.info.width, 1366)
        XCTAssertEqual(decoder.info.height, 768)
        var frames = 0
        try decoder.decode(DecodeOptions(selection: .keyFrames)) { f in
            XCTAssertEqual(f.width, 121); XCTAssertEqual(f.height, 65)
            XCTAssertGreaterThan(f.rgb[(32 * 121 + 10) * 3], 200)
            XCTAssertGreaterThan(f.rgb[(32 * 121 + 110) * 3 + 2], 200)
            frames += 1
        }
        XCTAssertEqual(frames, 2)
    }

    func testRealFixturesKeyFrameCounts() throws {
        let webm = try SharedFixtures.require("fixtures/videos/echo-hereweare.webm")
        let mp4 = try SharedFixtures.require("fixtures/videos/sample-h264-320x240.mp4")
        for (url, expectedKeys, expectedAll, codec) in [(webm, 123, 836, "vp8"), (mp4, 22, 255, "h264")] {
            let decoder = try VideoDecoder(url: url)
            XCTAssertEqual(decoder.info.codec, codec)
            XCTAssertTrue(decoder.info.hasAudio)
            var keys = 0
            let stats = try decoder.decode(DecodeOptions(selection: .keyFrames)) { f in
                XCTAssertTrue(f.isKeyFrame)
                keys += 1
            }
            XCTAssertEqual(keys, expectedKeys, url.lastPathComponent)
            XCTAssertEqual(stats.decodeErrors, 0)
            var all = 0, last = 0.0
            try VideoDecoder(url: url).decode(DecodeOptions(selection: .all, width: 32, height: 18)) { all += 1; last = $0.timestamp }
            XCTAssertEqual(all, expectedAll, url.lastPathComponent)
            // One frame per second by presentation time: the first frame at or after each whole second.
            var times: [Double] = []
            try VideoDecoder(url: url).decode(DecodeOptions(selection: .fps(1), width: 32, height: 18)) { times.append($0.timestamp) }
            XCTAssertEqual(times.count, Int(last.rounded(.down)) + 1, url.lastPathComponent)
            for (k, t) in times.enumerated() {
                XCTAssertGreaterThanOrEqual(t, Double(k) - 1e-6, "\(url.lastPathComponent) tick \(k)")
                XCTAssertLessThan(t, Double(k) + 0.07, "\(url.lastPathComponent) tick \(k)")
            }
        }
    }
}
