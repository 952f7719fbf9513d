import ArgumentParser
import Foundation
import Inkwell

/// `inkwell encode --model M (--data DATASET [--split S] | --video V) --out Z.npy [--logvar]`: the
/// posterior means (N, latent) of a dataset split's frames or a clip's key frames as float32
/// .npy, the log-variances beside them with `--logvar` (Z-logvar.npy), and Z.json naming each
/// row's source frame.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a dataset split or a clip's key frames to posterior means (.npy), with a sidecar naming each row's frame.",
        discussion: "A clip's key frames are made as `inkwell ingest` makes them (area filter, stretched to the model's frame size). The sidecar Z.json lists, per row, the video, its SHA-256 (datasets), the frame's time in seconds, whether it is a key frame, and its index in the split (datasets) or among the clip's frames taken."
    )

    @Option(help: ModelCommandSupport.modelHelp)
    var model: String

    @Option(help: "The dataset directory to encode (or give --video).")
    var data: String?

    @Option(help: "The dataset split: test or train.")
    var split = "test"

    @Option(help: "A clip whose key frames are encoded (or give --data).")
    var video: String?

    @Option(help: ArgumentHelp("The .npy file of posterior means to write.", valueName: "z.npy"))
    var out: String

    @Flag(help: "Also write the posterior log-variances, as Z-logvar.npy.")
    var logvar = false

    func validate() throws {
        try ModelCommandSupport.requireExisting(model, option: "--model")
        guard (data == nil) != (video == nil) else { throw ValidationError("give --data or --video (one of them)") }
        if let data { try ModelCommandSupport.requireExisting(data, option: "--data") }
        if let video { try ModelCommandSupport.requireExisting(video, option: "--video") }
        _ = try ModelCommandSupport.split(split)
        try ModelCommandSupport.requireWritableFile(out, option: "--out", suffix: ".npy")
    }

    /// One row's source frame in the sidecar.
    struct Row: Codable {
        var row: Int
        var video: String
        var videoSHA256: String?
        var timestamp: Double
        var keyFrame: Bool
        var split: String?
        var index: Int
        var flipped: Bool?
        enum CodingKeys: String, CodingKey {
            case row, video, timestamp, split, index, flipped
            case videoSHA256 = "video_sha256", keyFrame = "key_frame"
        }
    }

    /// The sidecar: where the rows came from and each row's frame.
    struct Sidecar: Codable {
        var model: String
        var source: String
        var latent: Int
        var means: String
        var logvars: String?
        var rows: [Row]
    }

    func run() throws {
        try ModelCommandSupport.run("encode") {
            let (loaded, batches, rows) = try data != nil ? encodeDataset() : encodeVideo()
            let (mu, logvars) = Inference.encode(loaded.model, batches)
            let outURL = URL(fileURLWithPath: out)
            let stem = outURL.deletingPathExtension()
            let logvarURL = logvar ? URL(fileURLWithPath: stem.path + "-logvar.npy") : nil
            try FloatNPY.write(mu.values, shape: mu.shape, to: outURL)
            if let logvarURL { try FloatNPY.write(logvars.values, shape: logvars.shape, to: logvarURL) }
            let sidecar = Sidecar(model: model, source: data ?? video!, latent: loaded.widths.latent, means: outURL.lastPathComponent,
                                  logvars: logvarURL?.lastPathComponent, rows: rows)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try AtomicFile.write(try encoder.encode(sidecar), to: URL(fileURLWithPath: stem.path + ".json"))
            print("\(out): \(mu.shape[0]) x \(mu.shape[1]) posterior means" + (logvarURL.map { ", \($0.path) log-variances" } ?? "")
                + ", \(stem.path).json")
        }
    }

    /// The model, the split's frames in dataset order, and their provenance.
    func encodeDataset() throws -> (LoadedModel, [Tensor], [Row]) {
        let loader = try ModelCommandSupport.openSplit(data!, try ModelCommandSupport.split(split))
        let loaded = try LoadedModel(URL(fileURLWithPath: model), frame: [loader.height, loader.width])
        let rows = try (0..<loader.frameCount).map { i -> Row in
            let p = try loader.provenance(ofFrame: i)
            return Row(row: i, video: p.video, videoSHA256: p.videoSHA256, timestamp: p.timestamp, keyFrame: p.isKeyFrame,
                       split: split, index: i, flipped: p.flipped)
        }
        return (loaded, Inference.batches(of: loader), rows)
    }

    /// The model, the clip's key frames made as ingest makes them, and their times.
    func encodeVideo() throws -> (LoadedModel, [Tensor], [Row]) {
        let loaded = try LoadedModel(URL(fileURLWithPath: model))
        let size = loaded.widths.frameSize
        var frames: [[UInt8]] = []
        var rows: [Row] = []
        _ = try VideoDecoder(url: URL(fileURLWithPath: video!)).decode(DecodeOptions(width: size[1], height: size[0])) { frame in
            rows.append(Row(row: rows.count, video: video!, timestamp: frame.timestamp, keyFrame: frame.isKeyFrame, index: frame.index))
            frames.append(Array(frame.rgb))
        }
        guard !frames.isEmpty else { throw ValidationError("--video \(video!): no key frames decoded") }
        let batches = stride(from: 0, to: frames.count, by: Inference.batch).map { start in
            Inference.modelInput(Array(frames[start..<min(start + Inference.batch, frames.count)]), width: size[1], height: size[0])
        }
        return (loaded, batches, rows)
    }
}
