import Crypto
import Foundation

/// Low-level file operations for datasets: writes under a temporary name then renamed into place
/// (with fsync), SHA-256 of files, memory maps, and the dataset lock.
enum FileIO {
    /// The marker in temporary file names; `cleanTemporaryFiles` removes what a killed writer left.
    static let temporaryMarker = ".tmp-"

    /// A temporary sibling of `url`: hidden, unique per process and call.
    static func temporaryURL(for url: URL) -> URL {
        let name = ".\(url.lastPathComponent)\(temporaryMarker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return url.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Writes the concatenation of `chunks` to a temporary name beside `url`, fsyncs it, and renames
    /// it onto `url` (atomic on POSIX file systems); then fsyncs the folder. On any failure the
    /// temporary file is removed, `url` is untouched, and a `.writeFailed` error names `url`.
    static func writeAtomically(_ chunks: [UnsafeRawBufferPointer], to url: URL) throws {
        let tmp = temporaryURL(for: url)
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DatasetError(.writeFailed, path: url.path, reason: "cannot create: \(errnoString())")
        }
        var failure: String?
        outer: for chunk in chunks {
            var offset = 0
            while offset < chunk.count {
                let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "write failed: \(errnoString())"
                    break outer
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "fsync failed: \(errnoString())" }
        if close(fd) != 0, failure == nil { failure = "close failed: \(errnoString())" }
        if failure == nil, rename(tmp.path, url.path) != 0 { failure = "rename failed: \(errnoString())" }
        if let failure {
            unlink(tmp.path)
            throw DatasetError(.writeFailed, path: url.path, reason: failure)
        }
        syncDirectory(url.deletingLastPathComponent())
    }

    /// `writeAtomically` for one `Data` value.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try writeAtomically([$0], to: url) }
    }

    /// Makes a rename durable.
    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Removes temporary files (names containing `.tmp-` and starting with `.`) in `directory`.
    @discardableResult
    static func cleanTemporaryFiles(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") && name.contains(temporaryMarker) {
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// The SHA-256 (lowercase hex) and size of a file's content, read in 1 MiB chunks.
    static func sha256(ofFileAt url: URL) throws -> (digest: String, bytes: Int64) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError(.notFound, path: url.path, reason: "cannot read: \(errnoString())") }
        defer { close(fd) }
        var hasher = SHA256()
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError(.notFound, path: url.path, reason: "read failed: \(errnoString())")
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: n))
            total += Int64(n)
        }
        return (hex(hasher.finalize()), total)
    }

    /// SHA-256 (lowercase hex) of bytes in memory.
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        // Hash in slices so a huge mapping is paged in progressively.
        var offset = 0
        let step = 8 << 20
        while offset < bytes.count {
            let n = min(step, bytes.count - offset)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            offset += n
        }
        return hex(hasher.finalize())
    }

    static func sha256(_ data: Data) -> String {
        data.withUnsafeBytes { sha256($0) }
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A read-only memory map of a whole file.
final class MappedFile: @unchecked Sendable {
    let url: URL
    let bytes: UnsafeRawBufferPointer

    init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError(.notFound, path: url.path, reason: "cannot open: \(errnoString())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DatasetError(.notFound, path: url.path, reason: "cannot stat: \(errnoString())") }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw DatasetError(.notFound, path: url.path, reason: "cannot map: \(errnoString())")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// An exclusive advisory lock on `DATASET/.lock`, held while a writer changes the dataset.
final class DatasetLock {
    private var fd: Int32

    init(directory: URL) throws {
        let path = directory.appendingPathComponent(".lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DatasetError(.writeFailed, path: path, reason: "cannot create lock: \(errnoString())") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            fd = -1
            throw DatasetError(.locked, path: directory.path, reason: "another process is writing this dataset (lock held on .lock)")
        }
    }

    func release() {
        if fd >= 0 { flock(fd, LOCK_UN); close(fd); fd = -1 }
    }

    deinit { release() }
}
