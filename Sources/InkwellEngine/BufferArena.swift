import Foundation
import Synchronization

/// Where tensor buffers of 1 MiB or more live: one reserved range of address space, carved best
/// fit, with freed blocks merged with their free neighbours, so the steady state of a training or
/// inference loop (the same shapes every step) touches no fresh pages.
///
/// Fresh pages are what large buffers cost: the kernel zeroes every page on its first touch, and
/// at the reference widths a step that took its buffers from malloc (or kept freed buffers whole,
/// as the earlier size-class cache did) took 2 to 16 GB of fresh pages per step. Carving one
/// range lets a freed 136 MB block serve a 124 MB request and the 12 MB left over serve the next,
/// so the touched part of the range stays near the high-water mark of live bytes.
///
/// - The range is reserved once (`MAP_NORESERVE`, twice the physical memory; reserving costs no
///   memory) and marked for transparent huge pages. Untouched pages cost nothing.
/// - Requests are rounded up to `granule` (64 KiB) and served from the smallest free block that
///   holds them (the lowest one among equals); only when none does, the touched part grows.
/// - Freed blocks merge with free neighbours. Pages stay resident for the next step; `purge`
///   gives free blocks' pages back to the kernel.
/// - Where the range cannot be reserved or is full, buffers come from `posix_memalign` and go
///   back to the system when freed.
///
/// Thread-safe.
public enum BufferArena {
    /// Smaller buffers go straight to malloc (which already reuses them).
    public static let minimumBytes = 1 << 20

    /// Block sizes are multiples of this.
    static let granule = 64 << 10

    /// Transparent huge pages: the range is aligned to them.
    static let hugePageBytes = 2 << 20

    /// The reserved range, or nil where it could not be reserved.
    private static let reservation = reserve()
    private static var range: (base: UnsafeMutableRawPointer, bytes: Int)? { reservation.map { ($0.base, $0.bytes) } }

    /// The reserved range: fixed once reserved, so shared between threads as it is.
    private struct Reservation: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
        let bytes: Int
    }

    /// The blocks and the counters behind `statistics`, under one lock.
    private struct State {
        var blocks = ArenaBlocks()
        var liveBytes = 0, highWater = 0, reuses = 0, growths = 0, grownBytes = 0
    }

    private static let state = Mutex(State())

    private static func reserve() -> Reservation? {
        #if os(Linux)
        var bytes = Int(ProcessInfo.processInfo.physicalMemory) * 2
        while bytes >= 1 << 30 {
            let raw = mmap(nil, bytes + hugePageBytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let raw, raw != MAP_FAILED {
                let aligned = (Int(bitPattern: raw) + hugePageBytes - 1) / hugePageBytes * hugePageBytes
                let start = UnsafeMutableRawPointer(bitPattern: aligned)!
                _ = madvise(start, bytes, MADV_HUGEPAGE)
                return Reservation(base: start, bytes: bytes)
            }
            bytes /= 2
        }
        #endif
        return nil
    }

    /// The size a request of `bytes` takes in the range.
    static func rounded(_ bytes: Int) -> Int {
        guard bytes >= minimumBytes else { return bytes }
        return (bytes + granule - 1) / granule * granule
    }

    /// A 64-byte aligned buffer of at least `bytes`, and its capacity (pass it to `release`).
    static func allocate(_ bytes: Int) -> (pointer: UnsafeMutableRawPointer, capacity: Int) {
        let size = rounded(bytes)
        if size >= minimumBytes, let (base, bytes) = range {
            let taken = state.withLock { s in
                let taken = s.blocks.take(size, limit: bytes)
                if let taken {
                    s.liveBytes += size
                    s.highWater = max(s.highWater, s.liveBytes)
                    if taken.grownBy > 0 { s.growths += 1; s.grownBytes += taken.grownBy } else { s.reuses += 1 }
                }
                return taken
            }
            if let taken { return (base + taken.offset, size) }
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, size) == 0, let raw else { fatalError("TensorStorage: cannot allocate \(size) bytes") }
        return (raw, size)
    }

    /// Returns a buffer from `allocate`.
    static func release(_ p: UnsafeMutableRawPointer, capacity: Int) {
        guard capacity >= minimumBytes, let (base, bytes) = range, p >= base, p < base + bytes else {
            Foundation.free(p)
            return
        }
        state.withLock { s in
            s.liveBytes -= capacity
            s.blocks.give(offset: p - base, size: capacity)
        }
    }

    /// Gives the pages of every free block back to the kernel (they read as zeros when next
    /// touched) and lowers the top past a free block at the end.
    public static func purge() {
        guard let (base, _) = range else { return }
        state.withLock { s in
            #if os(Linux)
            for block in s.blocks.free {
                // Whole pages only: a block's edges may share a page with a live neighbour.
                let start = (block.offset + 4095) & ~4095, end = (block.offset + block.size) & ~4095
                if end > start { _ = madvise(base + start, end - start, MADV_DONTNEED) }
            }
            #endif
            s.blocks.lowerTop()
        }
    }

    /// Large buffers served from freed blocks and by growing the touched range (and the bytes it
    /// grew by), the touched bytes now, and the most bytes of large buffers ever in use at once.
    public static var statistics: (reuses: Int, growths: Int, grownBytes: Int, touchedBytes: Int, highWaterBytes: Int) {
        let s = state.withLock { $0 }
        return (s.reuses, s.growths, s.grownBytes, s.blocks.top, s.highWater)
    }
}

/// The bookkeeping of `BufferArena`: which byte ranges of the reserved range are free.
struct ArenaBlocks {
    /// Free blocks below `top` as (offset, size), sorted by offset, none adjacent to another.
    private(set) var free: [(offset: Int, size: Int)] = []
    /// The end of the touched part of the range.
    private(set) var top = 0

    /// A `size`-byte block from the smallest free block that holds it (the lowest among equals),
    /// else from the top (extending a free block that ends there); `grownBy` is how far the top
    /// moved. Nil where the top would pass `limit`.
    mutating func take(_ size: Int, limit: Int) -> (offset: Int, grownBy: Int)? {
        var best = -1
        for (i, block) in free.enumerated() where block.size >= size {
            if best < 0 || block.size < free[best].size { best = i }
        }
        if best >= 0 {
            let block = free[best]
            if block.size == size { free.remove(at: best) } else { free[best] = (block.offset + size, block.size - size) }
            return (block.offset, 0)
        }
        let start = free.last.map { $0.offset + $0.size == top ? $0.offset : top } ?? top
        guard start + size <= limit else { return nil }
        if start < top { free.removeLast() }
        let grown = start + size - top
        top = start + size
        return (start, grown)
    }

    /// Frees the block at `offset`, merging it with free neighbours.
    mutating func give(offset: Int, size: Int) {
        var low = 0, high = free.count
        while low < high {
            let mid = (low + high) / 2
            if free[mid].offset < offset { low = mid + 1 } else { high = mid }
        }
        var block = (offset: offset, size: size)
        if low < free.count, free[low].offset == offset + size {
            block.size += free[low].size
            free.remove(at: low)
        }
        if low > 0, free[low - 1].offset + free[low - 1].size == offset {
            free[low - 1].size += block.size
        } else {
            free.insert(block, at: low)
        }
    }

    /// Drops a free block that ends at the top, lowering the top to its start.
    mutating func lowerTop() {
        if let last = free.last, last.offset + last.size == top {
            top = last.offset
            free.removeLast()
        }
    }
}
