import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest

final class VideoWriterTests: XCTestCase {
    func testH264RoundTripKeepsEveryFrameInOrder() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("pattern.mp4")
        let result = try TestPattern.writeVideo(url, count: 40, gop: 10)
        XCTAssertEqual(result.framesWritten, 40)
        XCTAssertEqual(result.keyFrames, 4)
        let decoder = try VideoDecoder(url: url)
        XCTAssertEqual(decoder.info.codec, "h264")
        XCTAssertEqual(decoder.info.width, 128)
        XCTAssertEqual(decoder.info.frameRate, 30, accuracy: 0.01)
        var indices: [Int] = [], times: [Double] = [], keys: [Bool] = []
        let stats = try decoder.decode(DecodeOptions(selection: .all, width: 128, height: 96)) { f in
            indices.append(TestPattern.index(of: f.rgb, width: f.width, height: f.height))
            times.append(f.timestamp)
            keys.append(f.isKeyFrame)
        }
        XCTAssertEqual(indices, Array(0..<40))
        XCTAssertEqual(stats.framesTaken, 40)
        XCTAssertEqual(stats.decodeErrors, 0)
        for (i, t) in times.enumerated() { XCTAssertEqual(t, Double(i) / 30, accuracy: 1e-3) }
        XCTAssertEqual(keys.enumerated().filter { $0.element }.map(\.offset), [0, 10, 20, 30])
        // No temporary file left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["pattern.mp4"])
    }

    func testPNGRoundTripIsExact() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("img.png")
        let image = PNGImage(width: 37, height: 21, pixels: (0..<(37 * 21 * 3)).map { UInt8(($0 * 7) % 256) })
        try image.write(to: url)
        let back = try PNGImage.read(from: url)
        XCTAssertEqual(back, image)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["img.png"])
    }
}
