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

    // Defaults, help and checks below come from the `ingest` stage's declaration (IngestStage).
    @Option(help: IngestCommand.flagHelp("size"))
    var size = IngestCommand.declared("size").string!

    @Option(help: IngestCommand.flagHelp("scaler"))
    var scaler = IngestCommand.declared("scaler").string!

    @Option(help: IngestCommand.flagHelp("aspect"))
    var aspect = IngestCommand.declared("aspect").string!

    @Option(help: IngestCommand.flagHelp("crop"))
    var crop: String?

    @Option(help: IngestCommand.flagHelp("start"))
    var start: Double?

    @Option(help: IngestCommand.flagHelp("end"))
    var end: Double?

    @Option(name: .customLong("max-frames"), help: IngestCommand.flagHelp("max_frames"))
    var maxFrames: Int?

    @Option(name: .customLong("test-fraction"), help: IngestCommand.flagHelp("test_fraction"))
    var testFraction = IngestCommand.declared("test_fraction").double!

    @Option(help: IngestCommand.flagHelp("seed"))
    var seed = IngestCommand.declared("seed").int!

    @Option(help: IngestCommand.flagHelp("jobs"))
    var jobs: Int?

    @Option(name: .customLong("shard-frames"), help: IngestCommand.flagHelp("shard_frames"))
    var shardFrames = IngestCommand.declared("shard_frames").int!

    @Flag(help: "No progress line.")
    var quiet = false

    static func declared(_ name: String) -> JSONValue { IngestStage.parameters[named: name].defaultValue! }

    static func flagHelp(_ name: String) -> ArgumentHelp {
        let spec = IngestStage.parameters[named: name]
        var text = spec.documentation.prefix(1).uppercased() + spec.documentation.dropFirst()
        if case .choice(let options) = spec.type { text += ": " + options.joined(separator: ", ") }
        return ArgumentHelp(text + ".")
    }

    /// The options, through the stage's parameters, or a message naming the bad flag.
    func makeOptions() throws -> IngestOptions {
        let modes = [keyframes, fps != nil, allFrames].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("choose one of --keyframes, --fps N, --all-frames") }
        var given: [String: JSONValue] = [
            "mode": .string(fps != nil ? "fps" : allFrames ? "all" : "keyframes"),
            "size": .string(size), "scaler": .string(scaler), "aspect": .string(aspect),
            "test_fraction": .double(testFraction), "seed": .int(seed), "shard_frames": .int(shardFrames),
        ]
        given["fps"] = fps.map { .double($0) }
        given["crop"] = crop.map { .string($0) }
        given["start"] = start.map { .double($0) }
        given["end"] = end.map { .double($0) }
        given["max_frames"] = maxFrames.map { .int($0) }
        given["jobs"] = jobs.map { .int($0) }
        let parameters: ResolvedParameters
        do {
            parameters = try IngestStage.parameters.resolve(given) { "--" + $0.replacingOccurrences(of: "_", with: "-") }
        } catch let error as ParameterError {
            throw ValidationError(error.description)
        }
        if let problem = IngestStage.validate(parameters).first { throw ValidationError(problem.message) }
        let options = IngestStage.options(parameters)
        do { try options.validate() } catch let e as DatasetError { throw ValidationError(e.reason) }
        return options
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
        fflush(nil)
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
