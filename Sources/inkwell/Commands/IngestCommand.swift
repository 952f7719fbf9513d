import ArgumentParser
import Foundation
import Inkwell

/// `inkwell ingest PATH... --out DATASET`: decodes videos (files, or folders searched
/// recursively) into a sharded frame dataset. Exit status: 0 every input ingested (or already in
/// the dataset), 3 some inputs rejected but the dataset written, 1 nothing could be written.
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Decode videos into a sharded frame dataset (see docs/DATASET.md).",
        discussion: """
        Re-running over a grown folder adds only the new videos. Bad inputs are reported on stderr, \
        one line each, and listed in the manifest. Exit status: 0 all ingested, 3 some rejected but \
        the dataset written, 1 nothing could be written.
        """
    )

    @Argument(help: "Video files and folders (searched recursively).")
    var paths: [String]

    @Option(name: .long, help: "The dataset folder (created, or extended when it exists).")
    var out: String

    @Flag(help: "Take key frames only (the default).")
    var keyframes = false

    @Option(help: "Take N frames per second instead of key frames.")
    var fps: Double?

    @Flag(name: .customLong("all-frames"), help: "Take every frame.")
    var allFrames = false

    @Option(help: "Frame size WIDTHxHEIGHT.")
    var size = "121x65"

    @Option(help: "swscale filter: area, bilinear, bicubic, lanczos, point.")
    var scaler = "area"

    @Option(help: "Fitting another aspect: stretch, letterbox, crop.")
    var aspect = "stretch"

    @Option(help: "Keep only this rectangle WxH+X+Y of each decoded frame, before scaling (e.g. 121x64+0+0).")
    var crop: String?

    @Option(help: "Seconds from each video's start to begin taking frames.")
    var start: Double?

    @Option(help: "Seconds from each video's start to stop taking frames.")
    var end: Double?

    @Option(name: .customLong("max-frames"), help: "At most N frames per video.")
    var maxFrames: Int?

    @Option(name: .customLong("test-fraction"), help: "Fraction of videos in the test split.")
    var testFraction = 0.1

    @Option(help: "Seed of the split assignment.")
    var seed: UInt64 = 0

    @Option(help: "Videos decoded at once (default: all cores).")
    var jobs: Int?

    @Option(name: .customLong("shard-frames"), help: "At most N frames per shard.")
    var shardFrames = 1024

    @Flag(help: "No progress line.")
    var quiet = false

    /// The options, or a message naming the bad flag.
    func makeOptions() throws -> IngestOptions {
        var o = IngestOptions()
        let modes = [keyframes, fps != nil, allFrames].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("choose one of --keyframes, --fps N, --all-frames") }
        if let fps {
            guard fps > 0, fps.isFinite else { throw ValidationError("--fps must be positive, got \(fps)") }
            o.selection = .fps(fps)
        } else if allFrames {
            o.selection = .all
        }
        guard let (w, h) = Self.parseSize(size) else { throw ValidationError("--size must look like 121x65, got '\(size)'") }
        o.width = w
        o.height = h
        guard let s = Scaler(rawValue: scaler) else {
            throw ValidationError("--scaler must be one of \(Scaler.allCases.map(\.rawValue).joined(separator: ", ")), got '\(scaler)'")
        }
        o.scaler = s
        guard let a = AspectMode(rawValue: aspect) else {
            throw ValidationError("--aspect must be one of \(AspectMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(aspect)'")
        }
        o.aspect = a
        if let crop {
            guard let rectangle = CropRectangle(crop) else { throw ValidationError("--crop must look like 121x64+0+0 (WxH+X+Y), got '\(crop)'") }
            o.crop = rectangle
        }
        o.start = start
        o.end = end
        o.maxFramesPerVideo = maxFrames
        o.testFraction = testFraction
        o.seed = seed
        if let jobs { o.jobs = jobs }
        o.shardFrames = shardFrames
        do { try o.validate() } catch let e as DatasetError { throw ValidationError(e.reason) }
        return o
    }

    static func parseSize(_ text: String) -> (Int, Int)? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let w = parts[0], let h = parts[1], w > 0, h > 0 else { return nil }
        return (w, h)
    }

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one video file or folder") }
        guard !out.isEmpty else { throw ValidationError("--out needs a dataset folder") }
        _ = try makeOptions()
    }

    func run() throws {
        let options = try makeOptions()
        let ingest = Ingest(inputs: paths.map { URL(fileURLWithPath: $0) }, output: URL(fileURLWithPath: out), options: options)
        // Under mpirun the ranks share the decoding; rank 0 writes and reports.
        let world = World.communicator
        ingest.communicator = world
        if !world.isRoot { RankOutput.silenceStandardOutput() }
        let progressLine = IngestProgressLine(enabled: !quiet && world.isRoot)
        let summary: IngestSummary
        do {
            summary = try ingest.run(
                progress: { progressLine.update("ingest: " + $0.line) },
                message: { message in
                    progressLine.clear()
                    DatasetStderr.print("inkwell: \(message)")
                })
        } catch {
            progressLine.clear()
            RankOutput.error("inkwell: error: \(error)")
            throw ExitCode(1)
        }
        progressLine.finish()
        let m = summary.manifest
        print("""
        \(summary.dataset.path): added \(summary.added.count) videos (\(summary.framesAdded) frames), \
        \(summary.alreadyPresent.count) already present, \(summary.rejected.count) rejected in \
        \(String(format: "%.1f", summary.elapsed)) s
        dataset: \(m.videos.count) videos, \(m.frameCount) frames \(m.width)x\(m.height); \
        train \(m.splits["train"]?.videos ?? 0) videos / \(m.frameCount(.train)) frames, \
        test \(m.splits["test"]?.videos ?? 0) videos / \(m.frameCount(.test)) frames; \(m.shards.count) shards
        """)
        guard world.isDistributed else {
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
            return
        }
        print("decoded by \(world.size) ranks")
        // Rank 0's status (rejected inputs) is every rank's, so the job ends as one process would.
        let status = Int32(world.gather(UInt64(summary.exitStatus))[0])
        fflush(stdout)
        if status != 0 { Foundation.exit(status) }
    }
}

/// Writes to standard error.
enum DatasetStderr {
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// A one-line progress display on stderr: rewritten in place on a terminal; otherwise a line at
/// most every 10 seconds.
final class IngestProgressLine {
    private let enabled: Bool
    private let tty = isatty(2) != 0
    private var shown = false
    private var lastText = ""
    private var lastPrint = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ text: String) {
        guard enabled else { return }
        lastText = text
        if tty {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            shown = true
        } else if Date().timeIntervalSince(lastPrint) >= 10 {
            DatasetStderr.print(text)
            lastPrint = Date()
        }
    }

    func clear() {
        if tty && shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); shown = false }
    }

    func finish() {
        guard enabled else { return }
        if tty { if shown { FileHandle.standardError.write(Data("\n".utf8)) } } else if !lastText.isEmpty { DatasetStderr.print(lastText) }
        shown = false
    }
}
