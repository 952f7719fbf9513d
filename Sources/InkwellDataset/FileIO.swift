import Crypto
import Foundation
import InkwellFiles

/// Low-level file operations for datasets: atomic writes (through `AtomicFile`), SHA-256 of
/// files, memory maps, and the dataset lock.
/// SHA-256 digests of files, for the other modules: checkpoint checksums, the record of a run's
/// initial weights.
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file's content, read in chunks.
    public static func sha256(of url: URL) throws -> String { try FileIO.sha256(ofFileAt: url).digest }
}

enum FileIO {
    /// Writes the concatenation of `chunks` atomically (`AtomicFile`); a failure is a
    /// `.writeFailed` error naming `url`, with `url` untouched.
    static func writeAtomically(_ chunks: [UnsafeRawBufferPointer], to url: URL) throws {
        do { try AtomicFile.write(chunks, to: url) } catch let error as FileWriteError {
            throw DatasetError(.writeFailed, path: error.path, reason: error.reason)
        }
    }

    /// `writeAtomically` for one `Data` value.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try writeAtomically([$0], to: url) }
    }

    /// Removes what a killed writer left in `directory` (hidden `.tmp-` files).
    @discardableResult
    static func cleanTemporaryFiles(in directory: URL) -> [String] {
        AtomicFile.removeTemporaryFiles(in: directory)
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
