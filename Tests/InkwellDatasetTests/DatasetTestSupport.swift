import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest
@testable import InkwellDataset

/// Helpers that make real files for the dataset tests: videos through `VideoWriter`, datasets
/// through `DatasetBuilder`, and odd inputs (audio-only WAV, truncated copies, text named .mp4).
enum DatasetFixtures {
    /// A frame whose pixels depend on the frame number `seed` and position: a gradient plus a
    /// moving bright square, so consecutive frames differ and neighbouring clips differ.
    static func patternFrame(_ seed: Int, width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let sx = (seed * 7) % max(1, width - 8), sy = (seed * 3) % max(1, height - 8)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let inSquare = x >= sx && x < sx + 8 && y >= sy && y < sy + 8
                out[i] = inSquare ? 250 : UInt8((x * 255) / max(1, width - 1))
                out[i + 1] = inSquare ? 250 : UInt8((y * 255) / max(1, height - 1))
                out[i + 2] = UInt8((seed * 37) & 0xFF)
            }
        }
        return out
    }

    /// Writes a clip of `frames` pattern frames (frame i uses pattern `variant * 1000 + i`) with a
    /// key frame every `gop` frames. Returns the writer's result.
    @discardableResult
    static func makeClip(_ url: URL, frames: Int, gop: Int, width: Int = 64, height: Int = 48, fps: Int = 10,
                         codec: VideoCodec = .h264, variant: Int = 0) throws -> VideoWriterResult {
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: width, height: height, frameRate: fps,
                                                                          gop: gop, codec: codec, threads: 1))
        for i in 0..<frames { try writer.append(rgb: patternFrame(variant * 1000 + i, width: width, height: height)) }
        return try writer.finish()
    }

    /// A mono 16-bit PCM WAV file of `seconds` of a 440 Hz tone: a real audio-only file.
    static func makeWAV(_ url: URL, seconds: Double = 0.5, rate: Int = 8000) throws {
        let n = Int(Double(rate) * seconds)
        var data = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + n * 2))
        data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(UInt32(rate)); u32(UInt32(rate * 2)); u16(2); u16(16)
        data.append(contentsOf: Array("data".utf8)); u32(UInt32(n * 2))
        for i in 0..<n { u16(UInt16(bitPattern: Int16(8000 * sin(2 * Double.pi * 440 * Double(i) / Double(rate))))) }
        try data.write(to: url)
    }

    /// Copies the first `fraction` of `source` to `url`.
    static func truncatedCopy(of source: URL, to url: URL, fraction: Double) throws {
        let data = try Data(contentsOf: source)
        try data.prefix(Int(Double(data.count) * fraction)).write(to: url)
    }

    /// Frames for a synthetic dataset: frame k of the whole set has every byte of pixel p equal to
    /// `(k + p) % 256` in R, `k % 256` in G and `255 - k % 256` in B.
    static func syntheticFrames(first: Int, count: Int, width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count * width * height * 3)
        for f in 0..<count {
            let k = first + f
            for p in 0..<(width * height) {
                let i = (f * width * height + p) * 3
                out[i] = UInt8((k + p) % 256)
                out[i + 1] = UInt8(k % 256)
                out[i + 2] = UInt8(255 - k % 256)
            }
        }
        return out
    }

    /// A dataset of `videos` synthetic videos of `framesPerVideo` frames (ids numbered
    /// consecutively across videos), the last `testVideos` in the test split.
    static func makeDataset(_ url: URL, videos: Int, framesPerVideo: Int, testVideos: Int = 1, width: Int = 6,
                            height: Int = 4, shardFrames: Int = 7) throws -> DatasetManifest {
        let builder = try DatasetBuilder(url: url, width: width, height: height, shardFrames: shardFrames)
        for v in 0..<videos {
            let frames = syntheticFrames(first: v * framesPerVideo, count: framesPerVideo, width: width, height: height)
            try builder.addVideo(name: "video-\(v)", frames: frames, count: framesPerVideo,
                                 split: v >= videos - testVideos ? .test : .train)
        }
        return try builder.commit()
    }

    /// The real clips, or a skip with a printed reason.
    static func realClips() throws -> (webm: URL, mp4: URL) {
        (try SharedFixtures.require("fixtures/videos/echo-hereweare.webm"),
         try SharedFixtures.require("fixtures/videos/sample-h264-320x240.mp4"))
    }

    /// Runs `python3 -c script args...`; nil (after printing why) when python3 with numpy is absent.
    static func python(_ script: String, _ args: [String]) throws -> (status: Int32, output: String)? {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import numpy"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        do { try check.run(); check.waitUntilExit() } catch { return nil }
        guard check.terminationStatus == 0 else { return nil }
        return try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script] + args)
    }

    /// Files under `dir` (relative paths), sorted.
    static func listing(_ dir: URL) -> [String] {
        var out: [String] = []
        if let e = FileManager.default.enumerator(atPath: dir.path) {
            for case let p as String in e { out.append(p) }
        }
        return out.sorted()
    }
}

/// An ingest "killed" at a write point: when `killsAt` says so, the dataset folder is copied as it
/// is on disk at that moment (what a kill leaves; the lock aside, which a kill leaves to be taken
/// over); the ingest then fails and cleans up as after any failure, and the copy is put back in
/// its place. Returns the error the ingest threw (`SimulatedKill`).
struct SimulatedKill: Error {}

@discardableResult
func runKilled(_ ingest: Ingest, killsAt: @escaping (WriteEvent) -> Bool) throws -> Error? {
    let fm = FileManager.default
    let dataset = ingest.output
    let onDisk = dataset.deletingLastPathComponent().appendingPathComponent(".\(dataset.lastPathComponent).at-kill-\(UUID().uuidString)")
    ingest.faultHook = { event in
        guard killsAt(event) else { return }
        try fm.copyItem(at: dataset, to: onDisk)
        try? fm.removeItem(at: onDisk.appendingPathComponent(".lock"))
        throw SimulatedKill()
    }
    var thrown: Error?
    do { _ = try ingest.run() } catch { thrown = error }
    if fm.fileExists(atPath: onDisk.path) {
        try? fm.removeItem(at: dataset)
        try fm.moveItem(at: onDisk, to: dataset)
    }
    return thrown
}

/// Collects an ingest's messages.
final class MessageLog {
    var messages: [IngestMessage] = []
    func callback() -> (IngestMessage) -> Void { { self.messages.append($0) } }
    func rejected(_ name: String) -> IngestMessage? {
        messages.first { $0.kind == .rejected && ($0.path as NSString).lastPathComponent == name }
    }
}
