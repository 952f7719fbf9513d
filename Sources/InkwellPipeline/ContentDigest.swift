import Crypto
import Foundation
import InkwellFiles

/// SHA-256 content digests of files and folder trees, with a cache keyed by each file's path, size,
/// modification time (nanoseconds) and inode, so unchanged files are not read again (which keeps a
/// second run of a pipeline fast however large its data).
///
/// A folder's digest is the SHA-256 of its sorted listing: one line per entry with its relative
/// path, and for files their size and content digest. Hidden entries named `.DS_Store` are ignored.
public final class ContentDigester: @unchecked Sendable {
    struct Entry: Codable {
        var size: Int64
        var mtime: Int64
        var inode: UInt64
        var digest: String
    }

    private let cacheFile: URL?
    private var cache: [String: Entry] = [:]
    private var dirty = false
    private let lock = NSLock()

    /// `cacheFile`: where the stat cache persists between runs (nil: memory only).
    public init(cacheFile: URL?) {
        self.cacheFile = cacheFile
        if let cacheFile, let data = try? Data(contentsOf: cacheFile),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            cache = decoded
        }
    }

    /// Writes the stat cache (atomically) when it changed.
    public func save() {
        lock.lock(); defer { lock.unlock() }
        guard dirty, let cacheFile else { return }
        let live = cache.filter { FileManager.default.fileExists(atPath: $0.key) }
        if let data = try? JSONEncoder().encode(live) {
            try? AtomicFile.write(data, to: cacheFile)
        }
        dirty = false
    }

    /// The digest of a file or folder tree, "sha256:<hex>"; nil when nothing exists at the path.
    public func digest(of url: URL) throws -> String? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            return try "sha256:" + treeDigest(url)
        }
        return try "sha256:" + fileDigest(url.path, info)
    }

    private func treeDigest(_ root: URL) throws -> String {
        var listing = ""
        let rootPath = root.path
        guard let enumerator = FileManager.default.enumerator(atPath: rootPath) else {
            throw StageError("cannot list \(rootPath)")
        }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if (relative as NSString).lastPathComponent == ".DS_Store" { continue }
            paths.append(relative)
        }
        for relative in paths.sorted() {
            let full = rootPath + "/" + relative
            var info = stat()
            guard stat(full, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                listing += "D \(relative)\n"
            } else {
                listing += "F \(relative) \(info.st_size) \(try fileDigest(full, info))\n"
            }
        }
        return Self.hex(SHA256.hash(data: Data(listing.utf8)))
    }

    private func fileDigest(_ path: String, _ info: stat) throws -> String {
        let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        lock.lock()
        if let entry = cache[path], entry.size == Int64(info.st_size), entry.mtime == mtime, entry.inode == UInt64(info.st_ino) {
            lock.unlock()
            return entry.digest
        }
        lock.unlock()
        let digest = try Self.hashFile(path)
        lock.lock()
        cache[path] = Entry(size: Int64(info.st_size), mtime: mtime, inode: UInt64(info.st_ino), digest: digest)
        dirty = true
        lock.unlock()
        return digest
    }

    /// SHA-256 of a file's bytes, read in 1 MiB chunks.
    public static func hashFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StageError("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of bytes as hex.
    public static func digest(of data: Data) -> String {
        hex(SHA256.hash(data: data))
    }
}
