import Foundation
import InkwellDataset
import InkwellDistributed
import InkwellPipeline
import InkwellTraining
import InkwellVideo

/// `ingest`: videos to a sharded frame dataset through the FFmpeg libraries. Wraps `Ingest`
/// (InkwellDataset). The videos come from another stage's `videos` output or from the `source`
/// path (a folder searched recursively, or one file). An interrupted ingest resumes: videos already
/// in the dataset (same content hash) are skipped.
public struct IngestStage: Stage {
    public static let kind = "ingest"
    public static let version = 1
    public static let documentation = """
        Decodes videos (key frames by default, or N frames per second, or every frame), resizes \
        them with swscale and writes a sharded .npy dataset with a manifest, split 9:1 by video. \
        Reads the 'videos' input, or the 'source' path when no input is bound.
        """
    public static let inputs = [PortSpec("videos", .videos, optional: true, "folder of videos (or give 'source')")]
    public static let outputs = [PortSpec("dataset", .dataset, "the frame dataset (manifest.json, shards)")]
    public static let parameters = [
        ParameterSpec("source", .path, default: .string(""), "a folder of videos (searched recursively) or one video, when no 'videos' input is bound"),
        ParameterSpec("mode", .choice(["keyframes", "fps", "all"]), default: .string("keyframes"), "which frames to take"),
        ParameterSpec("fps", .double, default: .double(1), "frames per second in mode 'fps'", check: ParameterSpec.range(0.001, 1000)),
        ParameterSpec("size", .string, default: .string("121x65"), "frame size WIDTHxHEIGHT", check: { value in
            IngestStage.parseSize(value.description) == nil ? "must be WIDTHxHEIGHT (e.g. 121x65)" : nil
        }),
        ParameterSpec("scaler", .choice(Scaler.allCases.map(\.rawValue)), default: .string("area"), "swscale filter"),
        ParameterSpec("aspect", .choice(AspectMode.allCases.map(\.rawValue)), default: .string("stretch"), "how another aspect ratio is fitted"),
        ParameterSpec("crop", .string, default: .string(""), "rectangle WxH+X+Y of each decoded frame kept before scaling (empty: the whole frame)",
                      check: { value in
            let text = value.description
            return text.isEmpty || CropRectangle(text) != nil ? nil : "must be WIDTHxHEIGHT+X+Y (e.g. 121x64+0+0)"
        }),
        ParameterSpec("start", .double, default: .double(0), "seconds to skip at the start of each video", check: ParameterSpec.range(0, nil)),
        ParameterSpec("end", .double, default: .double(0), "stop taking frames at this second (0: the whole video)", check: ParameterSpec.range(0, nil)),
        ParameterSpec("max_frames", .int, default: .int(0), "cap on frames per video (0: none)", check: ParameterSpec.range(0, nil)),
        ParameterSpec("test_fraction", .double, default: .double(0.1), "fraction of videos in the test split", check: ParameterSpec.range(0, 1)),
        ParameterSpec("seed", .int, default: .int(0), "seed of the split assignment", check: ParameterSpec.range(0, nil)),
        ParameterSpec("jobs", .int, default: .int(0), "videos decoded at once (0: all cores)", check: ParameterSpec.range(0, 256)),
        ParameterSpec("shard_frames", .int, default: .int(1024), "frames per shard at most", check: ParameterSpec.range(1, nil)),
    ]

    public init() {}

    /// A frame size `WIDTHxHEIGHT` (each 1...16384), or nil: the one parser of `--size` and `size`.
    public static func parseSize(_ text: String) -> (width: Int, height: Int)? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let w = parts[0], let h = parts[1], (1...16384).contains(w), (1...16384).contains(h) else { return nil }
        return (w, h)
    }

    public static func validate(_ p: ResolvedParameters) -> [(parameter: String?, message: String)] {
        if p.double("end") > 0 && p.double("end") <= p.double("start") {
            return [("end", "end (\(p.double("end")) s) must be after start (\(p.double("start")) s)")]
        }
        return []
    }

    /// The options of validated parameters (`inkwell ingest` makes its own from its flags).
    public static func options(_ p: ResolvedParameters) -> IngestOptions {
        var options = IngestOptions()
        switch p.string("mode") {
        case "fps": options.selection = .fps(p.double("fps"))
        case "all": options.selection = .all
        default: options.selection = .keyFrames
        }
        let (width, height) = Self.parseSize(p.string("size"))!
        options.width = width
        options.height = height
        options.scaler = Scaler(rawValue: p.string("scaler"))!
        options.aspect = AspectMode(rawValue: p.string("aspect"))!
        options.crop = CropRectangle(p.string("crop"))
        if p.double("start") > 0 { options.start = p.double("start") }
        if p.double("end") > 0 { options.end = p.double("end") }
        if p.int("max_frames") > 0 { options.maxFramesPerVideo = p.int("max_frames") }
        options.testFraction = p.double("test_fraction")
        options.seed = UInt64(p.int("seed"))
        if p.int("jobs") > 0 { options.jobs = p.int("jobs") }
        options.shardFrames = p.int("shard_frames")
        return options
    }

    public func run(_ context: StageContext) throws {
        let p = context.parameters
        var inputs: [URL] = []
        if let videos = context.inputs["videos"] { inputs.append(videos.url) }
        if let source = p.optionalString("source") { inputs.append(URL(fileURLWithPath: source)) }
        guard !inputs.isEmpty else {
            throw StageError("no videos: bind the 'videos' input or set the 'source' parameter")
        }
        let options = Self.options(p)

        // Under mpirun the ranks share the decoding, as in `inkwell ingest`; rank 0 writes.
        let world = World.communicator
        let job = IngestJob(inputs: inputs, output: context.output("dataset"), options: options)
        try RankJobs.announce(.ingest(job), over: world)
        let summary: IngestSummary
        do {
            summary = try job.ingest(over: world).run(
                progress: { progress in
                    let fraction = progress.videosTotal > 0 ? Double(progress.videosDone) / Double(progress.videosTotal) : nil
                    context.progress.update(fraction, progress.line)
                },
                message: { message in
                    // "warning: rejected PATH: ...", but "warning: PATH: ..." rather than "warning: warning PATH".
                    context.logger.warning(message.kind == .warning ? "\(message.path): \(message.text)" : message.description)
                })
        } catch where world.isDistributed {
            // The other ranks are decoding for this ingest: end the job rather than leave them waiting.
            world.abort("ingest stage: \(error)", code: 1)
        }
        if world.isDistributed { context.logger.info("decoded by \(world.size) ranks") }
        let manifest = summary.manifest
        context.logger.info("dataset: \(manifest.videos.count) videos, \(manifest.frameCount) frames (\(manifest.frameCount(.train)) train, \(manifest.frameCount(.test)) test); added \(summary.framesAdded) frames in \(String(format: "%.1f", summary.elapsed)) s; \(summary.rejected.count) inputs rejected")
        guard manifest.frameCount > 0 else {
            throw StageError("no frames were ingested from \(inputs.map(\.path).joined(separator: ", "))")
        }
    }
}
