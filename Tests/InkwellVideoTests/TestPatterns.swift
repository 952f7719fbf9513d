import Foundation
import InkwellVideo
import XCTest

/// Frames that carry their own index, so a decoded frame says which source frame it was.
///
/// The top half holds 8 blocks (a 4 x 2 grid), block `b` white when bit `b` of the index is set,
/// black otherwise; the bottom half is a fixed colour ramp (red left to right, blue top to bottom)
/// for pixel checks after scaling.
enum TestPattern {
    static let bits = 8

    static func frame(index: Int, width: Int, height: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        let half = height / 2
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                if y < half {
                    let bx = x * 4 / width, by = y * 2 / half
                    let bit = by * 4 + bx
                    let v: UInt8 = (index >> bit) & 1 == 1 ? 255 : 0
                    p[i] = v; p[i + 1] = v; p[i + 2] = v
                } else {
                    p[i] = UInt8(x * 255 / max(1, width - 1))
                    p[i + 1] = 128
                    p[i + 2] = UInt8((y - half) * 255 / max(1, height - half - 1))
                }
            }
        }
        return p
    }

    /// Reads the index back from a frame of any size (samples each block's centre).
    static func index(of rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> Int {
        var value = 0
        let half = height / 2
        for bit in 0..<bits {
            let bx = bit % 4, by = bit / 4
            let x = (2 * bx + 1) * width / 8
            let y = (2 * by + 1) * half / 4
            let i = (y * width + x) * 3
            let lum = (Int(rgb[i]) + Int(rgb[i + 1]) + Int(rgb[i + 2])) / 3
            if lum > 128 { value |= 1 << bit }
        }
        return value
    }

    /// Writes a video of `count` pattern frames.
    @discardableResult
    static func writeVideo(_ url: URL, count: Int, width: Int = 128, height: Int = 96, fps: Int = 30,
                           gop: Int = 10, codec: VideoCodec = .h264, rotation: Int = 0,
                           audioSource: URL? = nil, toneRate: Int? = nil) throws -> VideoWriterResult {
        var options = VideoWriterOptions(width: width, height: height, frameRate: fps, gop: gop, codec: codec,
                                         quality: 18, rotation: rotation, audioSource: audioSource,
                                         generatedAudioSampleRate: toneRate)
        options.threads = 1
        let writer = try VideoWriter(url: url, options: options)
        let samplesPerFrame = (toneRate ?? 0) / fps
        for i in 0..<count {
            try writer.append(rgb: frame(index: i, width: width, height: height))
            if let rate = toneRate {
                let tone = (0..<samplesPerFrame).map { k -> Float in
                    let t = Float(i * samplesPerFrame + k) / Float(rate)
                    return 0.3 * sin(2 * Float.pi * 440 * t)
                }
                try writer.appendAudio(tone)
            }
        }
        return try writer.finish()
    }
}
