import Foundation

/// Splits elementwise work across the machine's cores when it is large enough to pay off.
public enum Parallel {
    /// Worker count for the engine's own loops (not OpenBLAS's, see `BLAS.threads`).
    nonisolated(unsafe) public static var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

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
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
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
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}
