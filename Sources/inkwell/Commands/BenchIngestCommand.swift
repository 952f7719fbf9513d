import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

/// `inkwell bench ingest`: times in-process decoding + scaling (key-frame and all-frames mode) on
/// a 60 s 1280 x 720 30 fps H.264 clip with a key frame every 2 s, against the `ffmpeg` program
/// doing the same work where it is installed, and checks that the frames match it.
struct BenchIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Time video decoding + scaling against the ffmpeg program (prints frames/s and ratios)."
    )

    @Option(help: "Use this video instead of making the 60 s 1280x720 benchmark clip.")
    var video: String?

    @Option(help: "Keep the benchmark clip at this path (made when missing, reused otherwise).")
    var clip: String?

    @Flag(help: "Also time key-frame decoding with the deblocking filter skipped (DecodeOptions.skipLoopFilter).")
    var skipLoopFilter = false

    @Option(help: "Output frame size, WIDTHxHEIGHT.")
    var size: String = "121x65"

    @Option(help: "swscale filter: area, bilinear, bicubic, lanczos.")
    var scaler: String = "area"

    @Option(help: "Videos decoded at once in the multi-video run.")
    var jobs: Int = 2

    @Option(help: "Videos in the multi-video run (copies of the clip).")
    var videos: Int = 4

    @Option(help: "Timed repetitions per measurement; the median is reported.")
    var repeats: Int = 3

    @Flag(help: "Skip the all-frames measurement.")
    var skipAllFrames = false

    func validate() throws {
        guard parsedSize != nil else { throw ValidationError("--size must look like 121x65, got \(size)") }
        guard Scaler(rawValue: scaler) != nil else {
            throw ValidationError("--scaler must be one of \(Scaler.allCases.map(\.rawValue).joined(separator: ", ")), got \(scaler)")
        }
        guard jobs >= 1, videos >= 1, repeats >= 1 else { throw ValidationError("--jobs, --videos and --repeats must be at least 1") }
        if let video, !FileManager.default.fileExists(atPath: video) { throw ValidationError("--video \(video): no such file") }
    }

    private var parsedSize: (Int, Int)? {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        let (width, height) = parsedSize!
        let filter = Scaler(rawValue: scaler)!
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-bench-ingest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let clip = try benchmarkClip(in: dir)
        let info = try VideoDecoder(url: clip).info
        print("clip: \(clip.lastPathComponent), \(info.codec) \(info.width)x\(info.height), \(String(format: "%.2f", info.frameRate)) fps, \(String(format: "%.1f", info.duration)) s; output \(width)x\(height) RGB24, scaler \(scaler); \(cores) cores; median of \(repeats)")

        let keyOptions = DecodeOptions(selection: .keyFrames, width: width, height: height, scaler: filter)
        let key = try medianTiming { try IngestBenchmark.timeDecode([clip], options: keyOptions) }
        Self.line("inkwell key frames", key)
        var fastOptions = keyOptions
        fastOptions.skipLoopFilter = true
        let fast = skipLoopFilter ? try medianTiming { try IngestBenchmark.timeDecode([clip], options: fastOptions) } : nil
        if let fast { Self.line("inkwell key frames, no deblocking", fast) }
        if !skipAllFrames {
            let allOptions = DecodeOptions(selection: .all, width: width, height: height, scaler: filter)
            Self.line("inkwell all frames", try IngestBenchmark.timeDecode([clip], options: allOptions))
        }

        // Several videos (copies of the clip), `jobs` at a time, the cores shared among the jobs.
        var copies: [URL] = []
        for i in 0..<videos {
            let copy = dir.appendingPathComponent("copy-\(i).\(clip.pathExtension)")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: clip, to: copy)
            copies.append(copy)
        }
        var multiOptions = keyOptions
        multiOptions.threads = max(1, cores / jobs)
        let multi = try medianTiming { try IngestBenchmark.timeDecode(copies, options: multiOptions, jobs: jobs) }
        Self.line("inkwell \(videos) videos, \(jobs) jobs, key", multi)

        guard let ffmpeg = IngestBenchmark.ffmpegProgram() else {
            print("ffmpeg program not found on PATH: no ratios (apt-get install -y ffmpeg)")
            return
        }
        try compare(with: ffmpeg, clip: clip, copies: copies, inkwell: (key, fast, multi), keyOptions: keyOptions, fastOptions: fastOptions)
    }

    /// The clip to decode: --video, the kept --clip, or a new synthetic one (kept at --clip when given).
    private func benchmarkClip(in dir: URL) throws -> URL {
        if let video { return URL(fileURLWithPath: video) }
        if let kept = self.clip, FileManager.default.fileExists(atPath: kept) { return URL(fileURLWithPath: kept) }
        let clip = self.clip.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("bench-1280x720-60s.mp4")
        print("making the benchmark clip (60 s, 1280x720, 30 fps, H.264, key frame every 2 s)...")
        let start = Date()
        let r = try IngestBenchmark.writeClip(to: clip)
        print(String(format: "  %d frames, %d key frames, %.1f MB, %.1f s", r.framesWritten, r.keyFrames,
                     Double(r.bytes) / 1e6, Date().timeIntervalSince(start)))
        return clip
    }

    private static func line(_ label: String, _ t: IngestBenchmark.Timing) {
        print(label.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "%5d frames in %7.3f s wall = %7.1f frames/s; %7.3f s CPU", t.frames, t.seconds, t.framesPerSecond, t.cpuSeconds))
    }

    /// The median wall time of `repeats` runs, with the median CPU time.
    private func medianTiming(_ body: () throws -> IngestBenchmark.Timing) rethrows -> IngestBenchmark.Timing {
        var runs: [IngestBenchmark.Timing] = []
        for _ in 0..<repeats { runs.append(try body()) }
        let wall = runs.sorted { $0.seconds < $1.seconds }[repeats / 2]
        let cpu = runs.map(\.cpuSeconds).sorted()[repeats / 2]
        return IngestBenchmark.Timing(frames: wall.frames, seconds: wall.seconds, cpuSeconds: cpu)
    }

    /// The same work done by the ffmpeg program: its timings, the speed ratios, and how closely
    /// our frames match its frames.
    private func compare(with ffmpeg: URL, clip: URL, copies: [URL],
                         inkwell: (key: IngestBenchmark.Timing, fast: IngestBenchmark.Timing?, multi: IngestBenchmark.Timing),
                         keyOptions: DecodeOptions, fastOptions: DecodeOptions) throws {
        let (width, height) = parsedSize!
        let filter = Scaler(rawValue: scaler)!
        var ffOutput = Data()
        let ff = try medianTiming {
            let r = try IngestBenchmark.runFFmpeg(ffmpeg, input: clip, width: width, height: height, flags: filter.ffmpegName)
            ffOutput = r.output
            return IngestBenchmark.Timing(frames: r.output.count / (width * height * 3), seconds: r.seconds, cpuSeconds: r.cpuSeconds)
        }
        Self.line("ffmpeg key frames", ff)
        let serial = try medianTiming {
            var t = IngestBenchmark.Timing(frames: 0, seconds: 0, cpuSeconds: 0)
            for copy in copies {
                let r = try IngestBenchmark.runFFmpeg(ffmpeg, input: copy, width: width, height: height, flags: filter.ffmpegName)
                t.frames += r.output.count / (width * height * 3)
                t.seconds += r.seconds
                t.cpuSeconds += r.cpuSeconds
            }
            return t
        }
        Self.line("ffmpeg \(videos) videos one after another", serial)
        let (key, fast, multi) = inkwell
        print(String(format: "ratio, one video:            %.2fx wall, %.2fx CPU (target >= 1.0x)",
                     ff.seconds / key.seconds, ff.cpuSeconds / key.cpuSeconds))
        if let fast {
            print(String(format: "ratio, one video, no deblocking: %.2fx wall, %.2fx CPU", ff.seconds / fast.seconds, ff.cpuSeconds / fast.cpuSeconds))
        }
        print(String(format: "ratio, %d videos with %d jobs: %.2fx wall, %.2fx CPU (target >= 1.6x)",
                     videos, jobs, serial.seconds / multi.seconds, serial.cpuSeconds / multi.cpuSeconds))

        let ours = try IngestBenchmark.decodedBytes(clip, options: keyOptions)
        let mad = IngestBenchmark.meanAbsoluteDifference(ours.bytes, [UInt8](ffOutput))
        let ok = ours.frames == ff.frames && mad <= 0.5
        print(String(format: "frames vs ffmpeg: %d vs %d frames, mean absolute difference %.4f of 255 (must be <= 0.5)%@",
                     ours.frames, ff.frames, mad, ok ? "" : "  MISMATCH"))
        if skipLoopFilter {
            let quick = try IngestBenchmark.decodedBytes(clip, options: fastOptions)
            print(String(format: "frames vs ffmpeg, no deblocking: mean absolute difference %.4f of 255",
                         IngestBenchmark.meanAbsoluteDifference(quick.bytes, [UInt8](ffOutput))))
        }
    }
}
