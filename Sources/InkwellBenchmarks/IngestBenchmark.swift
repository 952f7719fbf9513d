import Dispatch
import Foundation
import Synchronization
import InkwellVideo

/// The measurements behind `inkwell bench ingest`: decoding speed of `VideoDecoder` in
/// key-frame and all-frames mode, the same work done by the `ffmpeg` program, and how closely
/// the frames match.
public enum IngestBenchmark {
    /// Writes the benchmark clip: synthetic gameplay, H.264 in MP4 (libx264 preset veryfast,
    /// CRF 23, B-frames as x264 places them), `gop` frames between key frames.
    @discardableResult
    public static func writeClip(to url: URL, seconds: Double = 60, width: Int = 1280, height: Int = 720,
                                 fps: Int = 30, gop: Int = 60, seed: UInt64 = 1) throws -> VideoWriterResult {
        let frames = Int((seconds * Double(fps)).rounded())
        var options = VideoWriterOptions(width: width, height: height, frameRate: fps, gop: gop, codec: .h264, quality: 23)
        options.threads = 0
        let writer = try VideoWriter(url: url, options: options)
        let renderer = GameplayClipRenderer(width: width, height: height, frameCount: frames, seed: seed)
        for _ in 0..<frames { try writer.append(rgb: renderer.nextFrame()) }
        return try writer.finish()
    }

    /// Frames and wall time of one decode run.
    public struct Timing: Sendable {
        public var frames: Int
        /// Wall-clock seconds.
        public var seconds: Double
        /// CPU seconds (user + system) of all threads (of this process, or of the ffmpeg child).
        public var cpuSeconds: Double
        public var framesPerSecond: Double { seconds > 0 ? Double(frames) / seconds : 0 }

        public init(frames: Int, seconds: Double, cpuSeconds: Double) {
            self.frames = frames
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
        }
    }

    /// CPU seconds used so far by this process (`self`) or its finished children.
    public static func cpuTime(children: Bool = false) -> Double {
        var usage = rusage()
        getrusage(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// Decodes every file with `options`, `jobs` files at a time, and times the whole run.
    public static func timeDecode(_ urls: [URL], options: DecodeOptions, jobs: Int = 1) throws -> Timing {
        // The next file to take, the frames decoded and the first error, shared by the jobs.
        let shared = Mutex<(next: Int, frames: Int, firstError: (any Error)?)>((0, 0, nil))
        let cpuStart = cpuTime()
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, urls.count))) { _ in
            while true {
                let i = shared.withLock { state in
                    defer { state.next += 1 }
                    return state.next
                }
                guard i < urls.count else { return }
                do {
                    var n = 0
                    var checksum = 0
                    try VideoDecoder(url: urls[i]).decode(options) { f in
                        n += 1
                        checksum &+= Int(f.rgb[f.rgb.count / 2])
                    }
                    shared.withLock { $0.frames += n }
                    _ = checksum
                } catch {
                    shared.withLock { if $0.firstError == nil { $0.firstError = error } }
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = cpuTime() - cpuStart
        let (_, frames, firstError) = shared.withLock { $0 }
        if let firstError { throw firstError }
        return Timing(frames: frames, seconds: seconds, cpuSeconds: cpu)
    }

    /// Collects the frames of one decode (packed RGB24, concatenated).
    public static func decodedBytes(_ url: URL, options: DecodeOptions) throws -> (frames: Int, bytes: [UInt8]) {
        var bytes: [UInt8] = []
        var frames = 0
        try VideoDecoder(url: url).decode(options) { f in
            bytes.append(contentsOf: f.rgb)
            frames += 1
        }
        return (frames, bytes)
    }

    /// Mean absolute difference of two byte buffers (0...255), over the shorter length.
    public static func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        let n = min(a.count, b.count)
        guard n > 0 else { return .infinity }
        var total = 0
        for i in 0..<n { total += abs(Int(a[i]) - Int(b[i])) }
        return Double(total) / Double(n)
    }

    /// The `ffmpeg` program, found on PATH, or nil.
    public static func ffmpegProgram() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent("ffmpeg")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs `ffmpeg -skip_frame nokey -i IN -vsync 0 -vf scale=W:H:flags=FLAGS -pix_fmt rgb24
    /// -f rawvideo -` (or without `-skip_frame nokey` when `keyFramesOnly` is false) and returns
    /// its output, wall time and CPU time.
    public static func runFFmpeg(_ program: URL, input: URL, width: Int, height: Int, flags: String = "area",
                                 keyFramesOnly: Bool = true) throws -> (output: Data, seconds: Double, cpuSeconds: Double) {
        var args = ["-nostdin", "-hide_banner", "-loglevel", "error"]
        if keyFramesOnly { args += ["-skip_frame", "nokey"] }
        args += ["-i", input.path, "-vsync", "0", "-vf", "scale=\(width):\(height):flags=\(flags)",
                 "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
        let process = Process()
        process.executableURL = program
        process.arguments = args
        let out = Pipe()
        // stderr to a file, so a chatty ffmpeg cannot block on a full pipe.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-ffmpeg-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? errHandle.close() }
        process.standardOutput = out
        process.standardError = errHandle
        let cpuStart = cpuTime(children: true)
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard process.terminationStatus == 0 else {
            let text = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            let message = text.split(separator: "\n").first.map(String.init) ?? ""
            throw VideoError(.decodeFailed, path: input.path, reason: "ffmpeg exited with \(process.terminationStatus): \(message)")
        }
        return (output, seconds, cpuTime(children: true) - cpuStart)
    }
}
