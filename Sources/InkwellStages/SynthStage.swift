import Foundation
import InkwellPipeline
import InkwellVideo

/// `synth`: renders short gameplay-like clips (a scrolling arena, ink splats in two team colours,
/// moving characters, a HUD) and encodes them as H.264 MP4 through libavcodec, so a pipeline can
/// run with no user data. Wraps `SyntheticGameplay` (InkwellVideo). Deterministic from `seed`.
public struct SynthStage: Stage {
    public static let kind = "synth"
    public static let version = 1
    public static let documentation = """
        Renders synthetic gameplay clips (scrolling arena, ink splats in two team colours, moving \
        characters, a HUD) as H.264 MP4 files with a quiet AAC track. Clip i uses seed + i.
        """
    public static let inputs: [PortSpec] = []
    public static let outputs = [PortSpec("videos", .videos, "folder of clip-000.mp4, clip-001.mp4, ...")]
    public static let parameters = [
        ParameterSpec("clips", .int, default: .int(6), "number of clips", check: ParameterSpec.range(1, 10_000)),
        ParameterSpec("seconds", .double, default: .double(8), "length of each clip in seconds", check: ParameterSpec.range(0.1, 3600)),
        ParameterSpec("fps", .int, default: .int(30), "frames per second", check: ParameterSpec.range(1, 240)),
        ParameterSpec("width", .int, default: .int(320), "frame width in pixels (even)", check: ParameterSpec.range(16, 7680)),
        ParameterSpec("height", .int, default: .int(180), "frame height in pixels (even)", check: ParameterSpec.range(16, 4320)),
        ParameterSpec("gop", .int, default: .int(15), "frames between key frames (key-frame ingest takes one frame per GOP)",
                      check: ParameterSpec.range(1, 10_000)),
        ParameterSpec("quality", .int, default: .int(23), "H.264 CRF (lower is better quality, bigger files)", check: ParameterSpec.range(0, 51)),
        ParameterSpec("audio", .bool, default: .bool(true), "add a quiet AAC soundtrack"),
        ParameterSpec("seed", .int, default: .int(0), "seed of the first clip", check: ParameterSpec.range(0, nil)),
    ]

    public static func validate(_ p: ResolvedParameters) -> [(parameter: String?, message: String)] {
        var problems: [(String?, String)] = []
        if p.int("width") % 2 != 0 { problems.append(("width", "width must be even for H.264 (4:2:0), got \(p.int("width"))")) }
        if p.int("height") % 2 != 0 { problems.append(("height", "height must be even for H.264 (4:2:0), got \(p.int("height"))")) }
        return problems
    }

    public init() {}

    public func run(_ context: StageContext) throws {
        let p = context.parameters
        var options = SyntheticGameplay.Options()
        options.count = p.int("clips")
        options.seconds = p.double("seconds")
        options.fps = p.int("fps")
        options.width = p.int("width")
        options.height = p.int("height")
        options.gop = p.int("gop")
        options.quality = p.int("quality")
        options.audio = p.bool("audio")
        options.seed = UInt64(p.int("seed"))
        let folder = context.output("videos")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<options.count {
            try context.checkCancellation()
            let url = folder.appendingPathComponent(String(format: "clip-%03d.mp4", i))
            if FileManager.default.fileExists(atPath: url.path) && context.isResuming { continue }  // written before an interruption
            let result = try SyntheticGameplay.writeClip(to: url, options: options, seed: options.seed &+ UInt64(i))
            context.progress.update(Double(i + 1) / Double(options.count), "clip \(i + 1)/\(options.count)")
            context.logger.info("wrote \(url.lastPathComponent): \(result.framesWritten) frames, \(result.keyFrames) key frames, \(result.bytes) bytes")
        }
    }
}
