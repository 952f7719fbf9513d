import Foundation

/// Writes a dataset from frames already in memory (for synthetic data and tests): frames go to
/// shards as `Ingest` writes them, videos are recorded with the split you give, and `commit()`
/// writes the manifest last. The folder must not already hold a dataset.
///
///     let builder = try DatasetBuilder(url: out, width: 121, height: 65)
///     try builder.addVideo(name: "clip-a", frames: bytes, count: 40, split: .train)  // 40 * 65 * 121 * 3 bytes
///     let manifest = try builder.commit()
public final class DatasetBuilder {
    public let url: URL
    private var manifest: DatasetManifest
    private let writer: ShardWriter
    private let lock: DatasetLock

    /// - Parameters:
    ///   - width, height: frame size.
    ///   - shardFrames: frames per shard at most (default 1024).
    public init(url: URL, width: Int, height: Int, shardFrames: Int = 1024) throws {
        self.url = url.standardizedFileURL
        guard width > 0, height > 0, shardFrames > 0 else {
            throw DatasetError(.incompatible, path: url.path, reason: "invalid size \(width)x\(height) or shard frames \(shardFrames)")
        }
        guard !FileManager.default.fileExists(atPath: url.appendingPathComponent(DatasetManifest.fileName).path) else {
            throw DatasetError(.incompatible, path: url.path, reason: "already holds a dataset")
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw DatasetError(.writeFailed, path: url.path, reason: "cannot create dataset folder: \(error.localizedDescription)")
        }
        lock = try DatasetLock(directory: self.url)
        var options = IngestOptions()
        options.width = width
        options.height = height
        options.shardFrames = shardFrames
        manifest = DatasetManifest(width: width, height: height, parameters: options.parameters)
        writer = try ShardWriter(directory: self.url, width: width, height: height, shardFrames: shardFrames, existing: [])
    }

    /// Adds one "video": `count` frames (HWC uint8, `count * height * width * 3` bytes) with
    /// timestamps `i / frameRate`, the first frame and every `keyFrameInterval`-th flagged key.
    /// The video's identity is `name`'s SHA-256 unless `sha256` is given.
    public func addVideo(name: String, frames: [UInt8], count: Int, split: Split, sha256: String? = nil,
                         frameRate: Double = 1, keyFrameInterval: Int = 1) throws {
        guard frames.count == count * manifest.frameBytes else {
            throw DatasetError(.incompatible, path: name, reason: "\(frames.count) bytes for \(count) frames of \(manifest.frameBytes)")
        }
        let digest = sha256 ?? FileIO.sha256(Data(name.utf8))
        let rows = (0..<count).map {
            FrameProvenance(video: name, videoSHA256: digest, timestamp: Double($0) / frameRate,
                            isKeyFrame: $0 % max(1, keyFrameInterval) == 0)
        }
        try frames.withUnsafeBytes { try writer.append($0, provenance: rows, split: split) }
        manifest.videos.append(VideoRecord(path: name, bytes: Int64(frames.count), sha256: digest,
                                           duration: Double(count) / frameRate, container: "memory", codec: "rawvideo",
                                           width: manifest.width, height: manifest.height, frames: count, split: split,
                                           decodeErrors: 0))
    }

    /// Writes the remaining shards and the manifest; returns the manifest.
    @discardableResult
    public func commit() throws -> DatasetManifest {
        manifest.shards = try writer.finish()
        manifest.updateSplitSummaries()
        try writer.commit(manifest)
        lock.release()
        return manifest
    }
}
