import Foundation

/// An exclusive lock on a run directory: a file created with O_CREAT | O_EXCL holding the owner's
/// pid, host and start time. A second run on the same directory is refused with a message naming
/// the holder; a lock left by a process that no longer exists (same host) is taken over.
public final class RunLock {
    public let url: URL
    private var held = false

    public struct Refused: Error, CustomStringConvertible, LocalizedError {
        public var description: String
        public var errorDescription: String? { description }
    }

    /// Takes the lock file `directory/lock` or throws ``Refused``; messages name `owner` (the run
    /// directory the lock protects; default `directory`).
    public init(directory: URL, owner: URL? = nil) throws {
        let owner = owner ?? directory
        url = directory.appendingPathComponent("lock")
        let host = ProcessInfo.processInfo.hostName
        let stamp = ISO8601DateFormatter().string(from: Date())
        let content = "pid \(getpid())\nhost \(host)\nstarted \(stamp)\n"
        for _ in 0..<3 {
            // The lock appears whole or not at all: written under a temporary name, then linked
            // to `lock` (which fails if it exists), so a kill never leaves a lock without its pid.
            let temporary = directory.appendingPathComponent("\(Self.temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            let fd = open(temporary.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw Refused(description: "cannot create the run lock \(url.path): \(String(cString: strerror(errno)))")
            }
            _ = content.withCString { write(fd, $0, strlen($0)) }
            fsync(fd)
            close(fd)
            let linked = link(temporary.path, url.path)
            let error = errno
            unlink(temporary.path)
            if linked == 0 {
                held = true
                Self.removeAbandonedTemporaries(in: directory)
                return
            }
            // ENOENT: the temporary vanished, removed by a holder that took this pid for a dead one.
            if error == ENOENT { continue }
            guard error == EEXIST else {
                throw Refused(description: "cannot create the run lock \(url.path): \(String(cString: strerror(error)))")
            }
            let info = Self.read(url)
            // A lock without a pid is garbage (locks are linked into place whole; older versions
            // wrote them in place): after a few seconds it is stale.
            let unreadable = info.pid == nil && Self.age(of: url).map { $0 > Self.unreadableLockGrace } ?? false
            if unreadable || info.pid.map({ (info.host == nil || info.host == host) && !Self.isAlive($0) }) == true {
                // Stale: move it aside atomically so only one taker wins, then retry.
                let aside = url.path + ".stale-\(getpid())"
                if rename(url.path, aside) == 0 { unlink(aside) }
                let why = info.pid.map { "left by pid \($0) (no longer running)" } ?? "holding no pid (unreadable content)"
                FileHandle.standardError.write(Data("inkwell: removed a stale lock \(why) in \(owner.path)\n".utf8))
                continue
            }
            let who = info.pid.map { "pid \($0)" } ?? "an unknown process"
            let since = info.started.map { ", started \($0)" } ?? ""
            let on = info.host.map { " on \($0)" } ?? ""
            throw Refused(description: "another inkwell run (\(who)\(on)\(since)) is using \(owner.path); wait for it to finish, or delete \(url.path) if it is not running")
        }
        throw Refused(description: "cannot take the run lock \(url.path)")
    }

    /// The prefix of the temporary names a lock is written under: `.lock.tmp-PID-N`.
    static let temporaryPrefix = ".lock.tmp-"

    /// Removes the lock temporaries that processes no longer running left in `directory` (a
    /// SIGKILL between writing one and unlinking it); a live contender's is left alone.
    static func removeAbandonedTemporaries(in directory: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(temporaryPrefix) {
            guard let pid = Int32(name.dropFirst(temporaryPrefix.count).prefix(while: { $0 != "-" })),
                  pid != getpid(), !isAlive(pid) else { continue }
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    /// Releases the lock (also done on deinit).
    public func release() {
        guard held else { return }
        held = false
        unlink(url.path)
    }

    deinit { release() }

    static func read(_ url: URL) -> (pid: Int32?, host: String?, started: String?) {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return (nil, nil, nil) }
        var pid: Int32?, host: String?, started: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "pid": pid = Int32(parts[1])
            case "host": host = parts[1]
            case "started": started = parts[1]
            default: break
            }
        }
        return (pid, host, started)
    }

    /// Seconds after which a lock file without a pid counts as stale.
    static let unreadableLockGrace: TimeInterval = 5

    /// Seconds since `url` was last modified, or nil when it cannot be read.
    static func age(of url: URL) -> TimeInterval? {
        guard let date = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date else { return nil }
        return Date().timeIntervalSince(date)
    }

    static func isAlive(_ pid: Int32) -> Bool {
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }
}
