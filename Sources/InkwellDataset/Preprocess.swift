import Foundation

/// Frame measures used by the preprocessing filters. Frames are HWC uint8 RGB.
public enum FrameStatistics {
    /// Mean of all channel values, 0...255 (a near-black frame has a small mean).
    public static func meanValue(_ frame: UnsafeBufferPointer<UInt8>) -> Double {
        var sum = 0
        for v in frame { sum += Int(v) }
        return frame.isEmpty ? 0 : Double(sum) / Double(frame.count)
    }

    /// Standard deviation of the luma (0.299 R + 0.587 G + 0.114 B) over the pixels, 0...255
    /// (a near-uniform frame, such as a flat loading screen, has a small one).
    public static func lumaStandardDeviation(_ frame: UnsafeBufferPointer<UInt8>) -> Double {
        let pixels = frame.count / 3
        guard pixels > 0 else { return 0 }
        var sum = 0.0, sumSq = 0.0
        var i = 0
        while i + 2 < frame.count {
            let y = 0.299 * Double(frame[i]) + 0.587 * Double(frame[i + 1]) + 0.114 * Double(frame[i + 2])
            sum += y
            sumSq += y * y
            i += 3
        }
        let mean = sum / Double(pixels)
        return max(0, sumSq / Double(pixels) - mean * mean).squareRoot()
    }

    /// Mean absolute difference of two frames of the same size, 0...255.
    public static func meanAbsoluteDifference(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Double {
        precondition(a.count == b.count, "meanAbsoluteDifference: frames of \(a.count) and \(b.count) bytes")
        var sum = 0
        for i in 0..<a.count { sum += abs(Int(a[i]) - Int(b[i])) }
        return a.isEmpty ? 0 : Double(sum) / Double(a.count)
    }

    /// The frame mirrored left to right (HWC, `width x height`).
    public static func flippedHorizontally(_ frame: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> [UInt8] {
        precondition(frame.count == width * height * 3, "flippedHorizontally: \(frame.count) bytes for \(width)x\(height)x3")
        var out = [UInt8](repeating: 0, count: frame.count)
        for y in 0..<height {
            let row = y * width * 3
            for x in 0..<width {
                let s = row + x * 3, d = row + (width - 1 - x) * 3
                out[d] = frame[s]; out[d + 1] = frame[s + 1]; out[d + 2] = frame[s + 2]
            }
        }
        return out
    }
}

/// Which preprocessing steps to apply (each nil / false is off).
///
/// Steps run in this order on every frame: drop near-black, drop near-uniform, drop
/// near-duplicates, then (training split only) add a mirrored copy. Thresholds are on the
/// 0...255 scale.
public struct PreprocessOptions: Sendable, Equatable, Codable {
    /// Drop frames whose mean channel value is below this (a good value: 12).
    public var darkThreshold: Double?
    /// Drop frames whose luma standard deviation is below this (a good value: 4).
    public var uniformThreshold: Double?
    /// Drop a frame whose mean absolute difference from the previous kept frame of the same video
    /// is below this (a good value: 2).
    public var duplicateThreshold: Double?
    /// Add a horizontally mirrored copy of every kept training frame, right after it (same video).
    /// An augmentation: the test split keeps only the frames its videos hold, so evaluations
    /// score real frames.
    public var flip: Bool

    public init(darkThreshold: Double? = nil, uniformThreshold: Double? = nil, duplicateThreshold: Double? = nil,
                flip: Bool = false) {
        self.darkThreshold = darkThreshold
        self.uniformThreshold = uniformThreshold
        self.duplicateThreshold = duplicateThreshold
        self.flip = flip
    }

    /// The steps as manifest records, in the order they run.
    var stepRecords: [[String: String]] {
        var steps: [[String: String]] = []
        if let t = darkThreshold { steps.append(["name": "drop-dark", "threshold": "\(t)"]) }
        if let t = uniformThreshold { steps.append(["name": "drop-uniform", "threshold": "\(t)"]) }
        if let t = duplicateThreshold { steps.append(["name": "drop-duplicates", "threshold": "\(t)"]) }
        if flip { steps.append(["name": "flip-horizontal"]) }
        return steps
    }
}

/// What a preprocessing pass did.
public struct PreprocessSummary: Sendable {
    public var output: URL
    public var record: PreprocessRecord
    public var manifest: DatasetManifest
}

/// Preprocessing: reads a dataset, filters (and optionally augments) its frames, and writes the
/// result as a new, complete dataset at `output` (its own shards and manifest; the source is not
/// changed). Frames keep their video and so their split; the manifest's `preprocess` list gains a
/// record with the counts dropped per reason and added by augmentation.
public enum Preprocess {
    /// Applies `options` to the dataset at `source`, writing `output`. An existing dataset at
    /// `output` is replaced atomically (new shards, then the new manifest, then old shards removed).
    @discardableResult
    public static func run(source: URL, output: URL, options: PreprocessOptions) throws -> PreprocessSummary {
        let src = try Dataset(url: source)
        let out = output.standardizedFileURL
        guard out.path != src.url.path else {
            throw DatasetError(.incompatible, path: out.path, reason: "preprocess output must differ from its source")
        }
        let fm = FileManager.default
        do { try fm.createDirectory(at: out, withIntermediateDirectories: true) } catch {
            throw DatasetError(.writeFailed, path: out.path, reason: "cannot create dataset folder: \(error.localizedDescription)")
        }
        let lock = try DatasetLock(directory: out)
        defer { lock.release() }
        let previous = try? DatasetManifest.read(datasetAt: out)
        ShardWriter.removeLeftovers(in: out, keeping: previous)

        let writer = try ShardWriter(directory: out, width: src.width, height: src.height,
                                     shardFrames: src.manifest.parameters.shardFrames, existing: previous?.shards ?? [])
        var pass = PreprocessPass(options: options, width: src.width, height: src.height)
        do {
            for split in Split.allCases {
                pass.startSplit(split)
                for record in src.shards(in: split) {
                    let shard = try src.openShard(record, verify: true)
                    let kept = pass.filter(shard, rows: try src.provenance(of: record), frameBytes: src.frameBytes)
                    try kept.bytes.withUnsafeBytes { try writer.append($0, provenance: kept.rows, split: split) }
                }
            }
            let manifest = try commit(pass, of: src, options: options, writer: writer)
            ShardWriter.removeLeftovers(in: out, keeping: manifest)
            return PreprocessSummary(output: out, record: manifest.preprocess.last!, manifest: manifest)
        } catch {
            ShardWriter.removeLeftovers(in: out, keeping: previous)
            throw error
        }
    }

    /// Writes the last shards and the output's manifest: the source's, with the new shards, each
    /// video's kept frame count and a record of this preprocessing.
    private static func commit(_ pass: PreprocessPass, of src: Dataset, options: PreprocessOptions, writer: ShardWriter) throws -> DatasetManifest {
        let shards = try writer.finish()
        var manifest = src.manifest
        manifest.shards = shards
        manifest.videos = src.manifest.videos.map { v in
            var v = v
            v.frames = pass.keptPerVideo[v.sha256] ?? 0
            return v
        }
        let manifestDigest = FileIO.sha256((try? Data(contentsOf: src.url.appendingPathComponent(DatasetManifest.fileName))) ?? Data())
        let record = PreprocessRecord(source: src.url.path, sourceManifestSHA256: manifestDigest,
                                      steps: options.stepRecords, framesIn: pass.framesIn, framesOut: pass.framesOut,
                                      dropped: pass.dropped, added: pass.added)
        manifest.preprocess.append(record)
        manifest.created = DatasetManifest.now()
        manifest.updated = manifest.created
        manifest.updateSplitSummaries()
        try writer.commit(manifest)
        return manifest
    }

    /// Drops near-black frames (mean channel value below `darkThreshold`, default 12) and
    /// near-uniform frames (luma standard deviation below `uniformThreshold`, default 4).
    @discardableResult
    public static func dropBlankFrames(source: URL, output: URL, darkThreshold: Double = 12,
                                       uniformThreshold: Double = 4) throws -> PreprocessSummary {
        try run(source: source, output: output,
                options: PreprocessOptions(darkThreshold: darkThreshold, uniformThreshold: uniformThreshold))
    }

    /// Adds a horizontally mirrored copy of every training frame.
    @discardableResult
    public static func addHorizontalFlips(source: URL, output: URL) throws -> PreprocessSummary {
        try run(source: source, output: output, options: PreprocessOptions(flip: true))
    }
}

/// One preprocessing pass over a dataset: which frames it keeps (and mirrors), its counts, and the
/// last kept frame of the current video that the duplicate check compares with.
private struct PreprocessPass {
    let options: PreprocessOptions
    let width: Int
    let height: Int
    var dropped = ["dark": 0, "uniform": 0, "duplicate": 0]
    var added = ["flipped": 0]
    var keptPerVideo: [String: Int] = [:]
    var framesIn = 0
    var framesOut = 0
    private var previousKept: [UInt8] = []
    private var previousVideo = ""
    /// Whether the current split's frames get mirrored copies.
    private var mirrors = false

    init(options: PreprocessOptions, width: Int, height: Int) {
        self.options = options
        self.width = width
        self.height = height
    }

    /// A split starts: no previous frame to compare with; only training frames are mirrored.
    mutating func startSplit(_ split: Split) {
        previousKept = []
        previousVideo = ""
        mirrors = options.flip && split == .train
    }

    /// The kept frames of one shard (each followed by its mirror image when mirroring) and their
    /// provenance rows.
    mutating func filter(_ shard: MappedShard, rows: [FrameProvenance], frameBytes: Int) -> (bytes: [UInt8], rows: [FrameProvenance]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(shard.frames * frameBytes)
        var outRows: [FrameProvenance] = []
        for i in 0..<shard.frames {
            framesIn += 1
            let frame = shard.frame(i)
            let row = rows[i]
            if row.videoSHA256 != previousVideo {
                previousVideo = row.videoSHA256
                previousKept = []
            }
            guard keeps(frame) else { continue }
            bytes.append(contentsOf: frame)
            outRows.append(row)
            keptPerVideo[row.videoSHA256, default: 0] += 1
            if mirrors {
                bytes += FrameStatistics.flippedHorizontally(frame, width: width, height: height)
                var mirrored = row
                mirrored.flipped = !row.flipped
                outRows.append(mirrored)
                keptPerVideo[row.videoSHA256, default: 0] += 1
                added["flipped"]! += 1
            }
        }
        framesOut += outRows.count
        return (bytes, outRows)
    }

    /// Whether a frame passes the dark, uniform and duplicate checks (counting why it does not).
    private mutating func keeps(_ frame: UnsafeBufferPointer<UInt8>) -> Bool {
        if let t = options.darkThreshold, FrameStatistics.meanValue(frame) < t {
            dropped["dark"]! += 1; return false
        }
        if let t = options.uniformThreshold, FrameStatistics.lumaStandardDeviation(frame) < t {
            dropped["uniform"]! += 1; return false
        }
        if let t = options.duplicateThreshold, !previousKept.isEmpty {
            let diff = previousKept.withUnsafeBufferPointer { FrameStatistics.meanAbsoluteDifference(frame, $0) }
            if diff < t { dropped["duplicate"]! += 1; return false }
        }
        if options.duplicateThreshold != nil { previousKept = Array(frame) }
        return true
    }
}
