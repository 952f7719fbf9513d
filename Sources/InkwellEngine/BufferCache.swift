import Foundation

/// Large freed tensor buffers kept for reuse, so the steady state of a training loop (the same
/// shapes every step) takes no fresh pages from the kernel.
///
/// Without it every buffer of 32 MiB or more (glibc's largest mmap threshold) is a fresh mapping:
/// a reference-width step allocated about 16 GB of such pages, and the kernel's page faults and
/// zeroing cost about a fifth of the step's CPU time.
///
/// - Buffers of at least `minimumBytes` are rounded up to 1/16 of their power of two (at most
///   6.25% slack); those of at least `hugePageBytes` are 2 MiB aligned and backed by transparent
///   huge pages (one fault per 2 MiB instead of per 4 KiB).
/// - A freed buffer is kept. A request takes the smallest kept buffer that holds it, if that is
///   at most twice the request (the rest of the buffer goes unused until it is freed again).
/// - Kept bytes are bounded so that live plus kept bytes stay under the process's high-water
///   mark of live bytes, or under live bytes plus `limitBytes` (default 64 MiB;
///   `INKWELL_BUFFER_CACHE_MIB` overrides, 0 turns caching off) where that is more: the cache
///   never raises peak memory by more than `limitBytes`. The oldest kept buffers go first.
///
/// Thread-safe.
public enum BufferCache {
    /// Buffers of at least this size are 2 MiB aligned and backed by transparent huge pages.
    static let hugePageBytes = 2 << 20

    /// Smaller buffers go straight to malloc (which already reuses them).
    public static let minimumBytes = 1 << 20

    /// The most bytes kept beyond the high-water mark of live bytes.
    nonisolated(unsafe) public static var limitBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["INKWELL_BUFFER_CACHE_MIB"], let mib = Int(text), mib >= 0 {
            return mib << 20
        }
        return 64 << 20
    }()

    /// Kept buffers, oldest first.
    nonisolated(unsafe) private static var kept: [(pointer: UnsafeMutableRawPointer, capacity: Int)] = []
    nonisolated(unsafe) private static var keptBytes = 0
    nonisolated(unsafe) private static var liveBytes = 0
    nonisolated(unsafe) private static var highWater = 0
    nonisolated(unsafe) private static var hits = 0
    nonisolated(unsafe) private static var misses = 0
    nonisolated(unsafe) private static var missedBytes = 0
    private static let lock = NSLock()

    /// The size actually allocated for a request of `bytes`.
    static func rounded(_ bytes: Int) -> Int {
        guard bytes >= minimumBytes else { return bytes }
        let step = 1 << (Int.bitWidth - bytes.leadingZeroBitCount - 5)
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte aligned buffer of at least `bytes`, and its capacity (pass it to `release`).
    static func allocate(_ bytes: Int) -> (pointer: UnsafeMutableRawPointer, capacity: Int) {
        let size = rounded(bytes)
        if size >= minimumBytes {
            lock.lock()
            var best = -1
            for (i, k) in kept.enumerated() where k.capacity >= size && k.capacity <= 2 * size {
                if best < 0 || k.capacity < kept[best].capacity { best = i }
            }
            if best >= 0 {
                let k = kept.remove(at: best)
                keptBytes -= k.capacity
                liveBytes += k.capacity
                hits += 1
                lock.unlock()
                return k
            }
            misses += 1
            missedBytes += size
            liveBytes += size
            highWater = max(highWater, liveBytes)
            // Room for the fresh buffer under the bound: drop the oldest kept buffers.
            let evicted = evict()
            lock.unlock()
            for p in evicted { Foundation.free(p) }
        }
        var raw: UnsafeMutableRawPointer?
        let huge = size >= hugePageBytes
        let rc = posix_memalign(&raw, huge ? hugePageBytes : 64, size)
        guard rc == 0, let raw else { fatalError("TensorStorage: cannot allocate \(size) bytes") }
        #if os(Linux)
        if huge { _ = madvise(raw, (size + 4095) & ~4095, MADV_HUGEPAGE) }
        #endif
        return (raw, size)
    }

    /// Returns a buffer from `allocate`: kept for reuse when it is large and caching is on, freed
    /// otherwise.
    static func release(_ p: UnsafeMutableRawPointer, capacity: Int) {
        guard capacity >= minimumBytes else { Foundation.free(p); return }
        lock.lock()
        liveBytes -= capacity
        guard limitBytes > 0, capacity <= max(limitBytes, highWater - liveBytes) else {
            lock.unlock()
            Foundation.free(p)
            return
        }
        kept.append((p, capacity))
        keptBytes += capacity
        let evicted = evict()
        lock.unlock()
        for e in evicted { Foundation.free(e) }
    }

    /// Drops the oldest kept buffers until live + kept bytes fit the bound; returns
    /// them for freeing outside the lock. Call with the lock held.
    private static func evict() -> [UnsafeMutableRawPointer] {
        let bound = max(highWater, liveBytes + limitBytes)
        var evicted: [UnsafeMutableRawPointer] = []
        var dropped = 0
        while dropped < kept.count, liveBytes + keptBytes > bound {
            evicted.append(kept[dropped].pointer)
            keptBytes -= kept[dropped].capacity
            dropped += 1
        }
        kept.removeFirst(dropped)
        return evicted
    }

    /// Frees every kept buffer.
    public static func purge() {
        lock.lock()
        let all = kept.map(\.pointer)
        kept = []
        keptBytes = 0
        lock.unlock()
        for p in all { Foundation.free(p) }
    }

    /// Reuses and fresh allocations of large buffers so far (and the bytes of the fresh ones),
    /// the bytes kept now, and the most bytes of large buffers that were ever in use at once.
    public static var statistics: (hits: Int, misses: Int, missedBytes: Int, cachedBytes: Int, highWaterBytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (hits, misses, missedBytes, keptBytes, highWater)
    }
}
