import Foundation

/// Why a file could not be written: the file and the reason, as one line (`PATH: reason`).
public struct FileWriteError: LocalizedError, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
    public var errorDescription: String? { description }
}

/// Writes files so that a reader sees the old content or the new, never a partial file: the bytes
/// go to a hidden temporary sibling (`.NAME.tmp-PID-RANDOM`), are flushed to disk, and the file is
/// renamed into place; then the folder is synced so the rename is durable. On any failure the
/// temporary file is removed, the destination is untouched, and a `FileWriteError` names it.
/// Every module writes its files through this one type.
public enum AtomicFile {
    /// The marker in temporary names; `removeTemporaryFiles(in:)` finds what a killed writer left.
    public static let temporaryMarker = ".tmp-"

    /// A hidden temporary sibling of `url`, unique per process and call.
    public static func temporaryURL(for url: URL) -> URL {
        let name = ".\(url.lastPathComponent)\(temporaryMarker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return url.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Writes `data` to `url` atomically. The folder must exist (a missing one is an error, not
    /// created: a mistyped path should not grow folders).
    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write([$0], to: url) }
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Writes the concatenation of `chunks` to `url` atomically (no copy into one buffer).
    public static func write(_ chunks: [UnsafeRawBufferPointer], to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = temporaryURL(for: url)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: url.path, reason: "cannot create: \(errnoString())") }
        var failure: String?
        outer: for chunk in chunks where chunk.count > 0 {
            var offset = 0
            while offset < chunk.count {
                let n = Foundation.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
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
        if failure == nil, rename(temporary.path, url.path) != 0 { failure = "rename failed: \(errnoString())" }
        if let failure {
            unlink(temporary.path)
            throw FileWriteError(path: url.path, reason: failure)
        }
        syncDirectory(directory)
    }

    /// Makes a rename (or a creation or removal) in `directory` durable; false when the folder
    /// could not be opened or synced (the rename itself has happened; only its durability is
    /// unknown, so writers do not fail on it).
    @discardableResult
    public static func syncDirectory(_ directory: URL) -> Bool {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    /// Renames `source` to `destination` (same file system; an existing destination file is
    /// replaced) and syncs the destination's folder, and the source's when it differs, so the
    /// rename is durable. Used for folders written under a temporary name (checkpoints).
    public static func move(_ source: URL, to destination: URL) throws {
        guard rename(source.path, destination.path) == 0 else {
            throw FileWriteError(path: destination.path, reason: "rename from \(source.lastPathComponent) failed: \(errnoString())")
        }
        let from = source.deletingLastPathComponent(), to = destination.deletingLastPathComponent()
        syncDirectory(to)
        if from.standardizedFileURL.path != to.standardizedFileURL.path { syncDirectory(from) }
    }

    /// Flushes the file at `url` (its content and size) to disk: what an appending writer calls
    /// before a reader may rely on the rows written so far.
    public static func sync(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileWriteError(path: url.path, reason: "cannot open to sync: \(errnoString())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileWriteError(path: url.path, reason: "fsync failed: \(errnoString())") }
    }

    /// The markers of temporary names: AtomicFile's own (`.NAME.tmp-PID-N`), and the partial
    /// files that writers of large outputs rename into place (`.NAME.partial-PID-ID.mp4`, the
    /// video writer's).
    public static let temporaryMarkers = [temporaryMarker, ".partial-"]

    /// Removes, in `root` and every folder below it, the hidden temporary files and folders that
    /// killed writers left (names starting with "." and holding a `temporaryMarkers` marker);
    /// returns their paths relative to `root`. Run when a stage starts over its earlier output.
    @discardableResult
    public static func removeTemporaries(under root: URL) -> [String] {
        let fm = FileManager.default
        guard let paths = fm.subpaths(atPath: root.path) else { return [] }
        var removed: [String] = []
        for path in paths.sorted() where !removed.contains(where: { path.hasPrefix($0 + "/") }) {
            let name = (path as NSString).lastPathComponent
            guard name.hasPrefix("."), temporaryMarkers.contains(where: { name.contains($0) }) else { continue }
            if (try? fm.removeItem(at: root.appendingPathComponent(path))) != nil { removed.append(path) }
        }
        return removed
    }

    /// Removes the temporary files a killed writer left in `directory`; returns their names.
    @discardableResult
    public static func removeTemporaryFiles(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") && name.contains(temporaryMarker) {
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }

    private static func errnoString() -> String { String(cString: strerror(errno)) }
}
