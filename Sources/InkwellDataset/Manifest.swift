import Foundation

/// `manifest.json`: the description of a dataset folder (see docs/DATASET.md).
///
/// The manifest is the dataset's commit point: it is written last, under a temporary name and
/// renamed, so a shard that it does not list is not part of the dataset.
public struct DatasetManifest: Codable, Equatable, Sendable {
    /// The format name, always `inkwell-frames`.
    public var format: String
    /// The format version (1).
    public var version: Int
    /// Frame width and height in pixels; every frame is `height x width x 3` uint8 (RGB, HWC).
    public var width: Int
    public var height: Int
    /// How frames were taken and split.
    public var parameters: IngestParameters
    /// Every shard of the dataset, in order; frames of a split are the concatenation of its shards.
    public var shards: [ShardRecord]
    /// Every source video whose frames are in the dataset.
    public var videos: [VideoRecord]
    /// Inputs that could not be ingested, with the reason.
    public var rejected: [RejectedInput]
    /// Preprocessing applied to produce this dataset from another (empty for a fresh ingest).
    public var preprocess: [PreprocessRecord]
    /// Video and frame counts per split (derived; kept for tools that read only the manifest).
    public var splits: [String: SplitSummary]
    /// ISO 8601 times of the first and latest write.
    public var created: String
    public var updated: String

    public static let formatName = "inkwell-frames"
    public static let fileName = "manifest.json"

    public init(width: Int, height: Int, parameters: IngestParameters) {
        format = Self.formatName
        version = 1
        self.width = width
        self.height = height
        self.parameters = parameters
        shards = []
        videos = []
        rejected = []
        preprocess = []
        splits = [:]
        created = Self.now()
        updated = created
    }

    /// Bytes per frame: `height * width * 3`.
    public var frameBytes: Int { width * height * 3 }

    /// The shards of one split, in order.
    public func shards(in split: Split) -> [ShardRecord] { shards.filter { $0.split == split } }

    /// Frames in one split.
    public func frameCount(_ split: Split) -> Int { shards(in: split).reduce(0) { $0 + $1.frames } }

    /// Videos in one split.
    public func videoCount(_ split: Split) -> Int { videos.filter { $0.split == split }.count }

    /// Frames in the whole dataset.
    public var frameCount: Int { shards.reduce(0) { $0 + $1.frames } }

    /// Recomputes `splits` from `videos` and `shards`.
    public mutating func updateSplitSummaries() {
        var result: [String: SplitSummary] = [:]
        for split in Split.allCases {
            result[split.rawValue] = SplitSummary(videos: videoCount(split), frames: frameCount(split))
        }
        splits = result
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    /// Encodes the manifest as pretty-printed JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Reads and checks `DATASET/manifest.json`.
    public static func read(datasetAt url: URL) throws -> DatasetManifest {
        let file = url.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw DatasetError(.notFound, path: url.path, reason: "not a dataset (no \(fileName))")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw DatasetError(.notFound, path: file.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: file.path)
    }

    /// Decodes and checks the bytes of a manifest.json; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws -> DatasetManifest {
        let manifest: DatasetManifest
        do { manifest = try JSONDecoder().decode(DatasetManifest.self, from: data) } catch {
            throw DatasetError(.malformed, path: file, reason: "invalid manifest: \(describeDecodingError(error))")
        }
        guard manifest.format == formatName else {
            throw DatasetError(.malformed, path: file, reason: "format is '\(manifest.format)', expected '\(formatName)'")
        }
        guard manifest.version == 1 else {
            throw DatasetError(.malformed, path: file, reason: "unsupported format version \(manifest.version)")
        }
        guard (1...maxSide).contains(manifest.width), (1...maxSide).contains(manifest.height) else {
            throw DatasetError(.malformed, path: file, reason: "invalid frame size \(manifest.width)x\(manifest.height) (each side 1 to \(maxSide))")
        }
        if let problem = manifest.shardCountProblem() { throw DatasetError(.malformed, path: file, reason: problem) }
        return manifest
    }

    /// The largest frame width or height a manifest may give.
    public static let maxSide = 1 << 16

    /// Why the shards' frame and byte counts cannot be used (negative, or sizes and totals that
    /// overflow), or nil when they can.
    func shardCountProblem() -> String? {
        var total = 0
        for shard in shards {
            guard shard.frames >= 0, shard.bytes >= 0 else {
                return "shard \(shard.file): negative frame or byte count (\(shard.frames) frames, \(shard.bytes) bytes)"
            }
            let (_, sizeOverflow) = shard.frames.multipliedReportingOverflow(by: frameBytes)
            let (sum, totalOverflow) = total.addingReportingOverflow(shard.frames)
            guard !sizeOverflow, !totalOverflow else { return "shard \(shard.file): \(shard.frames) frames is too many" }
            total = sum
        }
        return nil
    }
}

/// Summary counts of one split.
public struct SplitSummary: Codable, Equatable, Sendable {
    public var videos: Int
    public var frames: Int
}

/// The parameters an ingest ran with. A later ingest into the same dataset must use the same ones.
public struct IngestParameters: Codable, Equatable, Sendable {
    /// `keyframes`, `fps` or `all`.
    public var selection: String
    /// Frames per second when `selection == "fps"`.
    public var fps: Double?
    /// swscale filter name (`area`, `bilinear`, `bicubic`, `lanczos`, `point`).
    public var scaler: String
    /// `stretch`, `letterbox` or `crop`.
    public var aspect: String
    /// The rectangle kept before scaling, `WxH+X+Y` (nil: the whole picture).
    public var crop: String?
    /// Seconds from the start of each video (nil: from the start).
    public var start: Double?
    /// Seconds from the start of each video where taking stops (nil: to the end).
    public var end: Double?
    /// Cap on frames taken per video (nil: no cap).
    public var maxFramesPerVideo: Int?
    /// Fraction of videos in the test split.
    public var testFraction: Double
    /// Seed of the split assignment.
    public var seed: UInt64
    /// Maximum frames per shard.
    public var shardFrames: Int

    enum CodingKeys: String, CodingKey {
        case selection, fps, scaler, aspect, crop, start, end
        case maxFramesPerVideo = "max_frames_per_video"
        case testFraction = "test_fraction"
        case seed
        case shardFrames = "shard_frames"
    }

    /// Whether `other` takes the same frames the same way and splits the same (ignores `shardFrames`).
    public func isCompatible(with other: IngestParameters) -> Bool {
        selection == other.selection && fps == other.fps && scaler == other.scaler && aspect == other.aspect && crop == other.crop
            && start == other.start && end == other.end && maxFramesPerVideo == other.maxFramesPerVideo
            && testFraction == other.testFraction && seed == other.seed
    }
}

/// One shard: a `.npy` file of `frames x height x width x 3` uint8 and its provenance sidecar.
public struct ShardRecord: Codable, Equatable, Sendable {
    /// Path relative to the dataset folder, e.g. `shards/train-000000.npy`.
    public var file: String
    public var split: Split
    public var frames: Int
    /// File size in bytes (header included).
    public var bytes: Int
    /// SHA-256 of the whole file, lowercase hex.
    public var sha256: String
    /// The per-frame provenance CSV, relative to the dataset folder.
    public var provenance: String
    /// SHA-256 of the provenance file.
    public var provenanceSHA256: String

    enum CodingKeys: String, CodingKey {
        case file, split, frames, bytes, sha256, provenance
        case provenanceSHA256 = "provenance_sha256"
    }
}

/// A source video whose frames are in the dataset.
public struct VideoRecord: Codable, Equatable, Sendable {
    /// Absolute path at ingest time.
    public var path: String
    /// File size in bytes.
    public var bytes: Int64
    /// SHA-256 of the file's content (identifies the video; drives its split and resume).
    public var sha256: String
    /// Duration in seconds (0 when the container does not say).
    public var duration: Double
    public var container: String
    public var codec: String
    /// Coded size of the source.
    public var width: Int
    public var height: Int
    /// Frames taken into the dataset from this video.
    public var frames: Int
    public var split: Split
    /// Demuxer/decoder errors met (damaged data); frames around them were kept.
    public var decodeErrors: Int

    enum CodingKeys: String, CodingKey {
        case path, bytes, sha256, duration, container, codec, width, height, frames, split
        case decodeErrors = "decode_errors"
    }
}

/// An input that was not ingested.
public struct RejectedInput: Codable, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    /// `PATH: reason`, one line.
    public var description: String { "\(path): \(reason)" }
}

/// One preprocessing pass that produced this dataset from `source`.
public struct PreprocessRecord: Codable, Equatable, Sendable {
    /// The source dataset folder (absolute) and the SHA-256 of its manifest.
    public var source: String
    public var sourceManifestSHA256: String
    /// The steps in the order applied, with their parameters, e.g. `{"name": "drop-dark", "threshold": "16"}`.
    public var steps: [[String: String]]
    public var framesIn: Int
    public var framesOut: Int
    /// Frames dropped per reason: `dark`, `uniform`, `duplicate`.
    public var dropped: [String: Int]
    /// Frames added per reason: `flipped`.
    public var added: [String: Int]

    enum CodingKeys: String, CodingKey {
        case source
        case sourceManifestSHA256 = "source_manifest_sha256"
        case steps
        case framesIn = "frames_in"
        case framesOut = "frames_out"
        case dropped, added
    }
}

func describeDecodingError(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    switch e {
    case .keyNotFound(let key, let ctx): return "missing key '\(key.stringValue)' at '\(path(ctx))'"
    case .typeMismatch(_, let ctx): return "wrong type at '\(path(ctx))': \(ctx.debugDescription)"
    case .valueNotFound(_, let ctx): return "missing value at '\(path(ctx))'"
    case .dataCorrupted(let ctx): return "corrupt data at '\(path(ctx))': \(ctx.debugDescription)"
    @unknown default: return "\(error)"
    }
}
