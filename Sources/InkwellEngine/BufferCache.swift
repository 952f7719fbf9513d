import Foundation

/// Large freed tensor buffers kept for reuse, so the steady state of a training loop (the same
/// shapes every step) allocates no fresh pages.
///
/// Without it every buffer of 32 MiB or more (glibc's largest mmap threshold) is a fresh mapping:
/// a reference-width step allocated about 16 GB of such pages, and the kernel's page faults and
/// zeroing cost about a fifth of the step's CPU time (12.3 M minor faults over three steps).
///
/// Buffers of at least `minimumBytes` are rounded up to 1/16 of their power of two (at most
/// 6.25% slack) and, when freed, kept in a free list per rounded size while the cache holds at
/// most `limitBytes` (default 256 MiB; `INKWELL_BUFFER_CACHE_MIB` overrides, 0 turns it off). Peak
/// memory is therefore at most the live peak plus the limit. Thread-safe.
public enum BufferCache {
    /// Smaller buffers go straight to malloc (which already reuses them).
    public static let minimumBytes = 1 << 20

    /// The most bytes kept cached.
    nonisolated(unsafe) public static var limitBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["INKWELL_BUFFER_CACHE_MIB"], let mib = Int(text), mib >= 0 {
            return mib << 20
        }
        return 256 << 20
    }()

    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0
    nonisolated(unsafe) private static var hits = 0
    nonisolated(unsafe) private static var misses = 0
    private static let lock = NSLock()

    /// The size actually allocated for a request of `bytes`.
    static func rounded(_ bytes: Int) -> Int {
        guard bytes >= minimumBytes else { return bytes }
        let step = 1 << (Int.bitWidth - bytes.leadingZeroBitCount - 5)
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte aligned buffer of at least `bytes` (rounded by `rounded`).
    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let size = rounded(bytes)
        if size >= minimumBytes {
            lock.lock()
            if var list = free[size], let p = list.popLast() {
                free[size] = list.isEmpty ? nil : list
                cachedBytes -= size
                hits += 1
                lock.unlock()
                return p
            }
            misses += 1
            lock.unlock()
        }
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, size)
        guard rc == 0, let raw else { fatalError("TensorStorage: cannot allocate \(size) bytes") }
        return raw
    }

    /// Returns a buffer from `allocate(bytes)`: kept for reuse when it is large and fits under
    /// the limit (older cached buffers are freed to make room), freed otherwise.
    static func release(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let size = rounded(bytes)
        guard size >= minimumBytes, size <= limitBytes else { Foundation.free(p); return }
        lock.lock()
        var evicted: [UnsafeMutableRawPointer] = []
        while cachedBytes + size > limitBytes, let key = free.keys.first(where: { $0 != size }) ?? free.keys.first {
            var list = free[key]!
            evicted.append(list.removeFirst())
            free[key] = list.isEmpty ? nil : list
            cachedBytes -= key
        }
        free[size, default: []].append(p)
        cachedBytes += size
        lock.unlock()
        for e in evicted { Foundation.free(e) }
    }

    /// Frees every cached buffer.
    public static func purge() {
        lock.lock()
        let all = free.values.flatMap { $0 }
        free = [:]
        cachedBytes = 0
        lock.unlock()
        for p in all { Foundation.free(p) }
    }

    /// Reuses and fresh allocations of large buffers so far, and the bytes cached now.
    public static var statistics: (hits: Int, misses: Int, cachedBytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (hits, misses, cachedBytes)
    }
}
