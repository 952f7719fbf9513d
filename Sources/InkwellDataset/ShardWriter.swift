import Crypto
import Foundation

/// Points in a dataset write where a test can inject a failure (simulating a kill or a full disk).
enum WriteEvent: Equatable {
    /// A shard and its sidecar were renamed into place (not yet listed by any manifest).
    case shardWritten(String)
    /// Everything but the manifest is on disk.
    case beforeManifest
}

/// Writes frames into new shards of a dataset folder: per split, frames are buffered until a
/// shard holds `shardFrames`, then the shard (`shards/<split>-<6 digits>.npy`) and its provenance
/// sidecar (`.frames.csv`) are written under temporary names and renamed into place. New shards
/// never reuse the name of a shard the current manifest lists, so until `commit` renames the new
/// manifest into place the dataset on disk is exactly the old one.
final class ShardWriter {
    static let shardsFolder = "shards"

    let directory: URL
    let width: Int
    let height: Int
    let shardFrames: Int
    var faultHook: ((WriteEvent) throws -> Void)?

    private var buffers: [Split: [UInt8]] = [:]
    private var provenance: [Split: [FrameProvenance]] = [:]
    private var nextIndex: [Split: Int] = [:]
    /// Shards written by this writer, in order.
    private(set) var written: [ShardRecord] = []

    var frameBytes: Int { width * height * 3 }

    /// `existing`: the shards the current manifest lists (their indices are not reused).
    init(directory: URL, width: Int, height: Int, shardFrames: Int, existing: [ShardRecord]) throws {
        precondition(shardFrames > 0 && width > 0 && height > 0)
        self.directory = directory
        self.width = width
        self.height = height
        self.shardFrames = shardFrames
        let folder = directory.appendingPathComponent(Self.shardsFolder)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DatasetError(.writeFailed, path: folder.path, reason: "cannot create folder: \(error.localizedDescription)")
        }
        for split in Split.allCases {
            let used = existing.filter { $0.split == split }.compactMap { Self.index(ofShardFile: $0.file) }
            nextIndex[split] = (used.max() ?? -1) + 1
            buffers[split] = []
            provenance[split] = []
        }
    }

    /// The index in a name like `shards/train-000012.npy`.
    static func index(ofShardFile file: String) -> Int? {
        let name = (file as NSString).lastPathComponent
        guard name.hasSuffix(".npy"), let dash = name.lastIndex(of: "-") else { return nil }
        return Int(name[name.index(after: dash)..<name.index(name.endIndex, offsetBy: -4)])
    }

    /// Appends frames (`count * height * width * 3` bytes, HWC) to `split`, writing full shards.
    func append(_ frames: UnsafeRawBufferPointer, provenance rows: [FrameProvenance], split: Split) throws {
        precondition(frames.count == rows.count * frameBytes, "ShardWriter: \(frames.count) bytes for \(rows.count) frames")
        var offset = 0
        var row = 0
        while row < rows.count {
            let room = shardFrames - provenance[split]!.count
            let take = min(room, rows.count - row)
            buffers[split]!.append(contentsOf: UnsafeRawBufferPointer(rebasing: frames[offset..<(offset + take * frameBytes)]))
            provenance[split]!.append(contentsOf: rows[row..<(row + take)])
            offset += take * frameBytes
            row += take
            if provenance[split]!.count == shardFrames { try flush(split) }
        }
    }

    /// Writes any partly filled shards. Returns every shard this writer wrote.
    func finish() throws -> [ShardRecord] {
        for split in Split.allCases where !provenance[split]!.isEmpty { try flush(split) }
        // Grouped by split (train, then test), each split's shards in the order written.
        return Split.allCases.flatMap { split in written.filter { $0.split == split } }
    }

    private func flush(_ split: Split) throws {
        let rows = provenance[split]!
        guard !rows.isEmpty else { return }
        let index = nextIndex[split]!
        let base = "\(split.rawValue)-\(String(format: "%06d", index))"
        let file = "\(Self.shardsFolder)/\(base).npy"
        let sidecar = "\(Self.shardsFolder)/\(base).frames.csv"
        let header = NPYFormat.header(shape: [rows.count, height, width, 3])
        let data = buffers[split]!
        var digest = ""
        try header.withUnsafeBytes { h in
            try data.withUnsafeBytes { d in
                var hasher = FileSHA256()
                hasher.update(h)
                hasher.update(d)
                digest = hasher.finalize()
                try FileIO.writeAtomically([h, d], to: directory.appendingPathComponent(file))
            }
        }
        let csv = Data(FrameProvenance.csv(shard: "\(base).npy", frames: rows).utf8)
        try FileIO.writeAtomically(csv, to: directory.appendingPathComponent(sidecar))
        written.append(ShardRecord(file: file, split: split, frames: rows.count, bytes: header.count + data.count,
                                   sha256: digest, provenance: sidecar, provenanceSHA256: FileIO.sha256(csv)))
        nextIndex[split] = index + 1
        buffers[split]!.removeAll(keepingCapacity: true)
        provenance[split]!.removeAll(keepingCapacity: true)
        try faultHook?(.shardWritten(file))
    }

    /// Writes `manifest` as the dataset's `manifest.json` (temporary name, then rename): the commit.
    func commit(_ manifest: DatasetManifest) throws {
        try faultHook?(.beforeManifest)
        try Self.writeManifest(manifest, to: directory)
    }

    static func writeManifest(_ manifest: DatasetManifest, to directory: URL) throws {
        let data: Data
        do { data = try manifest.encoded() } catch {
            throw DatasetError(.writeFailed, path: directory.path, reason: "cannot encode manifest: \(error)")
        }
        try FileIO.writeAtomically(data, to: directory.appendingPathComponent(DatasetManifest.fileName))
    }

    /// Removes what a killed writer left: temporary files, and shard files or sidecars under
    /// `shards/` that `manifest` does not list. Call only while holding the dataset lock.
    @discardableResult
    static func removeLeftovers(in directory: URL, keeping manifest: DatasetManifest?) -> [String] {
        var removed = FileIO.cleanTemporaryFiles(in: directory)
        let folder = directory.appendingPathComponent(shardsFolder)
        removed += FileIO.cleanTemporaryFiles(in: folder).map { "\(shardsFolder)/\($0)" }
        var keep = Set<String>()
        for s in manifest?.shards ?? [] { keep.insert(s.file); keep.insert(s.provenance) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasSuffix(".npy") || name.hasSuffix(".frames.csv") {
            let rel = "\(shardsFolder)/\(name)"
            if !keep.contains(rel), unlink(folder.appendingPathComponent(name).path) == 0 { removed.append(rel) }
        }
        return removed
    }
}

/// Incremental SHA-256 over raw buffers, giving lowercase hex.
struct FileSHA256 {
    private var hasher = Crypto.SHA256()
    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    func finalize() -> String { FileIO.hex(hasher.finalize()) }
}
