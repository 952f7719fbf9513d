import Foundation
import Synchronization

/// Splits elementwise work across the machine's cores when it is large enough to pay off.
public enum Parallel {
    /// Worker count for the engine's own loops (not OpenBLAS's, see `BLAS.threads`).
    /// Process-wide; the machine's core count by default.
    public static var workers: Int {
        get { workerCount.withLock { $0 } }
        set { workerCount.withLock { $0 = max(1, newValue) } }
    }

    private static let workerCount = Mutex(max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// Calls `body` on disjoint ranges covering `0..<count`, concurrently when `count` is at
    /// least `grain` elements per worker.
    @inlinable
    public static func forRanges(_ count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, count / max(grain, 1))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        concurrently(chunks) { chunk in
            let start = chunk * size
            let end = min(count, start + size)
            if start < end { body(start..<end) }
        }
    }

    /// Calls `body(i)` for `i` in `0..<count`, spread over the workers (for coarse items:
    /// images of a batch, channels).
    @inlinable
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if workers <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        concurrently(count, body)
    }

    /// `DispatchQueue.concurrentPerform` over a body that is not `@Sendable`: the callers' bodies
    /// write disjoint parts of buffers they own (the contract of `forRanges` and `forEach`), which
    /// the compiler cannot see, so the body crosses threads unchecked.
    @inlinable
    static func concurrently(_ iterations: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            let shared = UncheckedSendable(escaping)
            DispatchQueue.concurrentPerform(iterations: iterations) { shared.value($0) }
        }
    }
}

/// A value handed to other threads on its owner's word that doing so is safe (see
/// `Parallel.concurrently`).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @inlinable init(_ value: Value) { self.value = value }
}
