import Foundation

/// A dataset folder opened for reading: its manifest, and its shards on demand.
///
/// ```
/// DATASET/manifest.json                  the manifest (DatasetManifest)
/// DATASET/shards/train-000000.npy        uint8 (N, H, W, 3), C order, NumPy 1.0 header
/// DATASET/shards/train-000000.frames.csv provenance, one row per frame
/// DATASET/shards/test-000000.npy ...
/// ```
public final class Dataset: @unchecked Sendable {
    public let url: URL
    public let manifest: DatasetManifest

    /// Opens the dataset at `url` (reads and checks the manifest; shards are opened lazily).
    public init(url: URL) throws {
        self.url = url.standardizedFileURL
        manifest = try DatasetManifest.read(datasetAt: self.url)
    }

    public var width: Int { manifest.width }
    public var height: Int { manifest.height }
    public var frameBytes: Int { manifest.frameBytes }

    /// The shards of a split, in order.
    public func shards(in split: Split) -> [ShardRecord] { manifest.shards(in: split) }

    /// Frames in a split.
    public func frameCount(_ split: Split) -> Int { manifest.frameCount(split) }

    /// Memory-maps a shard and checks its header against the manifest; with `verify`, also its
    /// SHA-256 digest. Throws `.corrupt` naming the shard when the digest differs.
    public func openShard(_ record: ShardRecord, verify: Bool = true) throws -> MappedShard {
        try MappedShard(url: url.appendingPathComponent(record.file), record: record,
                        width: width, height: height, verify: verify)
    }

    /// The provenance rows of a shard (its `.frames.csv`), one per frame.
    public func provenance(of record: ShardRecord) throws -> [FrameProvenance] {
        let file = url.appendingPathComponent(record.provenance)
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw DatasetError(.notFound, path: file.path, reason: "cannot read provenance: \(error.localizedDescription)")
        }
        let rows = try FrameProvenance.parse(csv: String(decoding: data, as: UTF8.self), path: file.path)
        guard rows.count == record.frames else {
            throw DatasetError(.malformed, path: file.path, reason: "\(rows.count) rows for a shard of \(record.frames) frames")
        }
        return rows
    }

    /// Checks every shard: present, a uint8 `.npy` of the manifest's shape, size and SHA-256 as
    /// recorded; and every provenance sidecar's digest. Returns one problem per bad file.
    public func verify() -> DatasetVerification {
        var problems: [DatasetVerification.Problem] = []
        var bytes = 0
        for record in manifest.shards {
            do {
                let shard = try openShard(record, verify: true)
                bytes += shard.file.bytes.count
            } catch let e as DatasetError {
                problems.append(.init(file: record.file, reason: e.reason))
            } catch {
                problems.append(.init(file: record.file, reason: "\(error)"))
            }
            let side = url.appendingPathComponent(record.provenance)
            if let data = try? Data(contentsOf: side) {
                let digest = FileIO.sha256(data)
                if digest != record.provenanceSHA256 {
                    problems.append(.init(file: record.provenance, reason: "SHA-256 \(digest) does not match the manifest's \(record.provenanceSHA256)"))
                }
            } else {
                problems.append(.init(file: record.provenance, reason: "missing or unreadable"))
            }
        }
        return DatasetVerification(shardsChecked: manifest.shards.count, bytesChecked: bytes, problems: problems)
    }
}

/// What `Dataset.verify()` found.
public struct DatasetVerification: Sendable {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The file, relative to the dataset folder.
        public var file: String
        public var reason: String
        public var description: String { "\(file): \(reason)" }
    }
    public var shardsChecked: Int
    public var bytesChecked: Int
    public var problems: [Problem]
    public var isValid: Bool { problems.isEmpty }
}

/// A memory-mapped shard: `frames` frames of `height x width x 3` uint8 (HWC) each.
public final class MappedShard: @unchecked Sendable {
    public let record: ShardRecord
    let file: MappedFile
    public let frames: Int
    public let frameBytes: Int
    /// The first byte of frame 0.
    public let base: UnsafePointer<UInt8>

    init(url: URL, record: ShardRecord, width: Int, height: Int, verify: Bool) throws {
        self.record = record
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError(.notFound, path: path, reason: "shard is missing")
        }
        file = try MappedFile(url: url)
        guard file.bytes.count == record.bytes else {
            throw DatasetError(.corrupt, path: path, reason: "shard is \(file.bytes.count) bytes, the manifest says \(record.bytes)")
        }
        if verify {
            let digest = FileIO.sha256(file.bytes)
            guard digest == record.sha256 else {
                throw DatasetError(.corrupt, path: path, reason: "shard is corrupt: SHA-256 \(digest) does not match the manifest's \(record.sha256)")
            }
        }
        let header: NPYFormat.Header
        do { header = try NPYFormat.parseHeader(file.bytes) } catch {
            throw DatasetError(.malformed, path: path, reason: "bad .npy header: \(error)")
        }
        let expected = [record.frames, height, width, 3]
        guard header.shape == expected else {
            throw DatasetError(.malformed, path: path, reason: "shape \(header.shape) does not match the manifest's \(expected)")
        }
        frames = record.frames
        frameBytes = height * width * 3
        guard header.dataOffset + frames * frameBytes == file.bytes.count else {
            throw DatasetError(.malformed, path: path, reason: "file size \(file.bytes.count) does not match its header")
        }
        base = (file.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).advanced(by: header.dataOffset)
            .assumingMemoryBound(to: UInt8.self)
    }

    /// The bytes of frame `i` (HWC, RGB).
    public func frame(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(i >= 0 && i < frames, "MappedShard: frame \(i) out of 0..<\(frames)")
        return UnsafeBufferPointer(start: base + i * frameBytes, count: frameBytes)
    }
}
