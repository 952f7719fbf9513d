import Foundation

/// Sums (and maxima) across the processes that together hold one global batch: data-parallel
/// training (docs/DISTRIBUTED.md). The engine knows only this; `InkwellDistributed`'s
/// communicators conform.
public protocol BatchReduction: AnyObject, Sendable {
    /// Replaces each value with its sum over every process of the group, in place. Every process
    /// passes the same count; every process gets the same sums.
    func sumAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>)
    /// Replaces each value with its maximum over every process of the group, in place.
    func maxAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>)
    /// Replaces each value with its sum over every process of the group, in place (floats: a
    /// gradient).
    func sumAcrossBatch(_ values: UnsafeMutableBufferPointer<Float>)
    /// Every process's `rows` (each `rowLength` values; processes may hold different numbers of
    /// rows), concatenated in process order: the global batch's rows, since each process holds
    /// a contiguous share. Returns (global rows, rowLength).
    func gatherAcrossBatch(_ rows: UnsafeBufferPointer<Float>, rowLength: Int) -> Tensor
}

/// The group whose local batches form the global batch the ops reduce over, while a data-parallel
/// step runs (`GlobalBatch.spanning(_:_:)`). Outside one (one process, evaluation), nil: the ops
/// reduce over the local batch, as always.
///
/// Ops that reduce over the batch use it: batch norm in training mode (SyncBatchNorm: the sums and
/// squared deviations per channel are summed across the group, and so are the backward's sums),
/// the BCE and MSE means, the batch KLD's statistics and the per-sample KLD's mean. Their backward
/// hands each process the gradient of its own samples only; no other op's meaning changes.
public enum GlobalBatch {
    /// The group of the calling task (or thread, outside tasks); nil outside `spanning`.
    @TaskLocal public static var group: (any BatchReduction)?

    /// Runs `body` with the ops' batch reductions spanning `group` (nil: local), restoring the
    /// previous group after.
    public static func spanning<T>(_ group: (any BatchReduction)?, _ body: () throws -> T) rethrows -> T {
        try $group.withValue(group) { try body() }
    }

    /// `values` summed over `group` (unchanged when nil).
    static func sum(_ values: [Double], over group: BatchReduction?) -> [Double] {
        guard let group else { return values }
        var v = values
        v.withUnsafeMutableBufferPointer { group.sumAcrossBatch($0) }
        return v
    }

    /// `values` maximised over `group` (unchanged when nil).
    static func max(_ values: [Double], over group: BatchReduction?) -> [Double] {
        guard let group else { return values }
        var v = values
        v.withUnsafeMutableBufferPointer { group.maxAcrossBatch($0) }
        return v
    }

    /// Sums and maxima over the current group, for callers outside the engine (statistics for
    /// logs): `values` summed, unchanged in one process.
    public static func summed(_ values: [Double]) -> [Double] { sum(values, over: group) }
    /// Maxima over the current group, unchanged in one process.
    public static func maximised(_ values: [Double]) -> [Double] { max(values, over: group) }
}

extension Tensor {
    /// The mean of every element of the global batch whose local part this is (`mean()` in one
    /// process). Backward: g / (global count) to every local element.
    public func meanOverGlobalBatch() -> Tensor {
        guard GlobalBatch.group != nil else { return mean() }
        let (total, n) = globalTotal(Kernels.sum(pointer, count), count: count)
        let inputShape = shape
        return Tensor(scalar: Float(total / Double(Swift.max(n, 1)))).recorded("global_batch_mean_all", [self], saving: []) { g, _ in
            [Tensor(repeating: g.pointer[0] / Float(Swift.max(n, 1)), shape: inputShape)]
        }
    }
}
