import Foundation

/// Writes synthetic gameplay clips (see `GameplayClipRenderer`) as H.264 MP4 files, for the demo
/// pipeline's `synth` stage and for tests. Deterministic from the seed, to the byte: clip `i` uses
/// seed `seed &+ i`.
public enum SyntheticGameplay {
    /// Parameters of a batch of clips. Defaults: 5 clips of 8 s at 320 x 180, 30 fps, a key frame
    /// every 15 frames (so key-frame ingest gets 16 frames per clip), H.264 CRF 23, with a quiet
    /// AAC soundtrack (so `inkwell reconstruct` has audio to copy).
    public struct Options: Sendable {
        public var count = 5
        public var seconds = 8.0
        public var fps = 30
        public var width = 320
        public var height = 180
        public var gop = 15
        public var seed: UInt64 = 0
        public var quality = 23
        public var audio = true
        public init() {}
    }

    /// Writes `clip-000.mp4`, `clip-001.mp4`, ... into `directory` (created if needed) and returns
    /// their URLs. Each file is written under a temporary name and renamed into place.
    @discardableResult
    public static func writeClips(count: Int = 5, seconds: Double = 8, fps: Int = 30, width: Int = 320,
                                  height: Int = 180, seed: UInt64 = 0, gop: Int = 15,
                                  to directory: URL) throws -> [URL] {
        var options = Options()
        options.count = count
        options.seconds = seconds
        options.fps = fps
        options.width = width
        options.height = height
        options.seed = seed
        options.gop = gop
        return try writeClips(options, to: directory)
    }

    @discardableResult
    public static func writeClips(_ options: Options, to directory: URL) throws -> [URL] {
        guard options.count >= 0, options.seconds > 0, options.fps > 0 else {
            throw VideoError(.encodeFailed, path: directory.path, reason: "synthetic clips need count >= 0, seconds > 0, fps > 0")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw VideoError(.writeFailed, path: directory.path, reason: "cannot create folder (\(error.localizedDescription))")
        }
        var urls: [URL] = []
        for i in 0..<options.count {
            let url = directory.appendingPathComponent(String(format: "clip-%03d.mp4", i))
            try writeClip(to: url, options: options, seed: options.seed &+ UInt64(i))
            urls.append(url)
        }
        return urls
    }

    /// Writes one clip.
    @discardableResult
    public static func writeClip(to url: URL, options: Options, seed: UInt64) throws -> VideoWriterResult {
        let frames = max(1, Int((options.seconds * Double(options.fps)).rounded()))
        let sampleRate = 44_100
        var writerOptions = VideoWriterOptions(width: options.width, height: options.height, frameRate: options.fps,
                                               gop: options.gop, codec: .h264, quality: options.quality)
        // One encoder thread (the clips are small): x264's output is then the same run to run.
        writerOptions.threads = 1
        if options.audio { writerOptions.generatedAudioSampleRate = sampleRate }
        let writer = try VideoWriter(url: url, options: writerOptions)
        let renderer = GameplayClipRenderer(width: options.width, height: options.height, frameCount: frames, seed: seed)
        let samplesPerFrame = sampleRate / options.fps
        do {
            for t in 0..<frames {
                try writer.append(rgb: renderer.nextFrame())
                if options.audio {
                    try writer.appendAudio(renderer.audio(frame: t, samples: samplesPerFrame, sampleRate: sampleRate))
                }
            }
            return try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
    }
}
