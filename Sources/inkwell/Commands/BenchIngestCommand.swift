import ArgumentParser
import Foundation
import Inkwell

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

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    func run() throws {
        let (width, height) = parsedSize!
        let filter = Scaler(rawValue: scaler)!
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-bench-ingest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let clip: URL
        if let video {
            clip = URL(fileURLWithPath: video)
        } else {
            clip = dir.appendingPathComponent("bench-1280x720-60s.mp4")
            print("making the benchmark clip (60 s, 1280x720, 30 fps, H.264, key frame every 2 s)...")
            let start = Date()
            let r = try IngestBenchmark.writeClip(to: clip)
            print(String(format: "  %d frames, %d key frames, %.1f MB, %.1f s", r.framesWritten, r.keyFrames,
                         Double(r.bytes) / 1e6, Date().timeIntervalSince(start)))
        }
        let info = try VideoDecoder(url: clip).info
        print("clip: \(clip.lastPathComponent), \(info.codec) \(info.width)x\(info.height), \(String(format: "%.2f", info.frameRate)) fps, \(String(format: "%.1f", info.duration)) s; output \(width)x\(height) RGB24, scaler \(scaler); \(cores) cores; median of \(repeats)")

        let keyOptions = DecodeOptions(selection: .keyFrames, width: width, height: height, scaler: filter)
        var keyTimes: [IngestBenchmark.Timing] = []
        for _ in 0..<repeats { keyTimes.append(try IngestBenchmark.timeDecode([clip], options: keyOptions)) }
        let key = keyTimes.sorted { $0.seconds < $1.seconds }[repeats / 2]
        print(String(format: "inkwell key frames:   %5d frames in %7.3f s = %8.1f frames/s", key.frames, key.seconds, key.framesPerSecond))

        if !skipAllFrames {
            let allOptions = DecodeOptions(selection: .all, width: width, height: height, scaler: filter)
            let all = try IngestBenchmark.timeDecode([clip], options: allOptions)
            print(String(format: "inkwell all frames:   %5d frames in %7.3f s = %8.1f frames/s", all.frames, all.seconds, all.framesPerSecond))
        }

        // Four videos (copies of the clip), `jobs` at a time, one decoder thread each share of the cores.
        var copies: [URL] = []
        for i in 0..<videos {
            let copy = dir.appendingPathComponent("copy-\(i).\(clip.pathExtension)")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: clip, to: copy)
            copies.append(copy)
        }
        var multiOptions = keyOptions
        multiOptions.threads = max(1, cores / jobs)
        var multiTimes: [IngestBenchmark.Timing] = []
        for _ in 0..<repeats { multiTimes.append(try IngestBenchmark.timeDecode(copies, options: multiOptions, jobs: jobs)) }
        let multi = multiTimes.sorted { $0.seconds < $1.seconds }[repeats / 2]
        print(String(format: "inkwell %d videos, %d jobs, key frames: %5d frames in %7.3f s = %8.1f frames/s",
                     videos, jobs, multi.frames, multi.seconds, multi.framesPerSecond))

        guard let ffmpeg = IngestBenchmark.ffmpegProgram() else {
            print("ffmpeg program not found on PATH: no ratios (apt-get install -y ffmpeg)")
            return
        }
        var ffTimes: [Double] = []
        var ffOutput = Data()
        for _ in 0..<repeats {
            let r = try IngestBenchmark.runFFmpeg(ffmpeg, input: clip, width: width, height: height, flags: scaler)
            ffTimes.append(r.seconds)
            ffOutput = r.output
        }
        let ffFrames = ffOutput.count / (width * height * 3)
        let ffSeconds = median(ffTimes)
        print(String(format: "ffmpeg key frames:    %5d frames in %7.3f s = %8.1f frames/s", ffFrames, ffSeconds, Double(ffFrames) / ffSeconds))
        print(String(format: "ratio, one video (inkwell frames/s / ffmpeg frames/s): %.2fx (target >= 1.0x)",
                     key.framesPerSecond / (Double(ffFrames) / ffSeconds)))

        var ffSerial: [Double] = []
        for _ in 0..<repeats {
            var total = 0.0
            for copy in copies { total += try IngestBenchmark.runFFmpeg(ffmpeg, input: copy, width: width, height: height, flags: scaler).seconds }
            ffSerial.append(total)
        }
        let serial = median(ffSerial)
        print(String(format: "ffmpeg %d videos one after another: %7.3f s", videos, serial))
        print(String(format: "ratio, %d videos with %d jobs vs ffmpeg serial: %.2fx (target >= 1.6x)", videos, jobs, serial / multi.seconds))

        let ours = try IngestBenchmark.decodedBytes(clip, options: keyOptions)
        let mad = IngestBenchmark.meanAbsoluteDifference(ours.bytes, [UInt8](ffOutput))
        let same = ours.frames == ffFrames
        print(String(format: "frames vs ffmpeg: %d vs %d frames, mean absolute difference %.4f of 255 (must be <= 0.5)%@",
                     ours.frames, ffFrames, mad, same && mad <= 0.5 ? "" : "  MISMATCH"))
    }
}
