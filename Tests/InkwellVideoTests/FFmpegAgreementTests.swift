import Foundation
import InkwellBenchmarks
import InkwellTestSupport
import InkwellVideo
import XCTest

/// Frames from `VideoDecoder` against the `ffmpeg` program's output for the same work (skipped,
/// with a printed reason, where ffmpeg is not installed).
final class FFmpegAgreementTests: XCTestCase {
    private func ffmpeg() throws -> URL {
        guard let url = IngestBenchmark.ffmpegProgram() else {
            let reason = "skipped: the ffmpeg program is not installed (apt-get install -y ffmpeg)"
            print(reason)
            throw XCTSkip(reason)
        }
        return url
    }

    private func compare(_ url: URL, width: Int, height: Int, scaler: Scaler, keyFrames: Bool,
                         file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let program = try ffmpeg()
        let theirs = try IngestBenchmark.runFFmpeg(program, input: url, width: width, height: height,
                                                   flags: scaler.ffmpegName, keyFramesOnly: keyFrames)
        let ours = try IngestBenchmark.decodedBytes(url, options: DecodeOptions(
            selection: keyFrames ? .keyFrames : .all, width: width, height: height, scaler: scaler))
        XCTAssertEqual(ours.bytes.count, theirs.output.count, "\(url.lastPathComponent): same number of frames", file: file, line: line)
        return IngestBenchmark.meanAbsoluteDifference(ours.bytes, [UInt8](theirs.output))
    }

    func testKeyFramesMatchFFmpegForEveryScaler() throws {
        _ = try ffmpeg()
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("game.mp4")
        var options = SyntheticGameplay.Options()
        options.seconds = 2
        options.width = 320
        options.height = 180
        options.audio = false
        try SyntheticGameplay.writeClip(to: url, options: options, seed: 5)
        for scaler in Scaler.allCases {
            let mad = try compare(url, width: 121, height: 65, scaler: scaler, keyFrames: true)
            XCTAssertLessThanOrEqual(mad, 0.5, "\(scaler): mean absolute difference \(mad)")
        }
        XCTAssertLessThanOrEqual(try compare(url, width: 121, height: 65, scaler: .area, keyFrames: false), 0.5)
    }

    func testRealClipsMatchFFmpeg() throws {
        for name in ["echo-hereweare.webm", "sample-h264-320x240.mp4"] {
            let url = try SharedFixtures.require("fixtures/videos/\(name)")
            let mad = try compare(url, width: 121, height: 65, scaler: .area, keyFrames: true)
            XCTAssertLessThanOrEqual(mad, 0.5, "\(name): \(mad)")
        }
    }

    /// ffmpeg turns rotated videos upright by default; so must the decoder.
    func testRotationAgreesWithFFmpegAutorotation() throws {
        _ = try ffmpeg()
        let dir = try SharedFixtures.temporaryDirectory(self)
        for rotation in [90, 270] {
            let url = dir.appendingPathComponent("rot\(rotation).mp4")
            try TestPattern.writeVideo(url, count: 1, width: 96, height: 64, gop: 1, rotation: rotation)
            let mad = try compare(url, width: 64, height: 96, scaler: .bilinear, keyFrames: false)
            XCTAssertLessThanOrEqual(mad, 0.5, "rotation \(rotation): \(mad)")
        }
    }
}
