import Foundation
import Synchronization
import InkwellEngine

/// A communicator that counts the seconds and bytes spent in another's collectives: the
/// communication share of a step (`inkwell bench distributed`).
public final class TimedCommunicator: Communicator {
    public let base: any Communicator
    /// Seconds spent inside collectives (including waiting for slower ranks) and the bytes this
    /// rank contributed to sums and gathers, since the last `reset()`.
    public var seconds: Double { tally.withLock { $0.seconds } }
    public var bytesContributed: Int { tally.withLock { $0.bytes } }
    private let tally = Mutex((seconds: 0.0, bytes: 0))

    public init(_ base: any Communicator) { self.base = base }

    public func reset() { tally.withLock { $0 = (0, 0) } }

    private func timed<T>(_ bytes: Int, _ body: () -> T) -> T {
        let start = Date()
        defer {
            let seconds = Date().timeIntervalSince(start)
            tally.withLock { $0.seconds += seconds; $0.bytes += bytes }
        }
        return body()
    }

    public var rank: Int { base.rank }
    public var size: Int { base.size }
    public func sumAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>) { timed(values.count * 8) { base.sumAcrossBatch(values) } }
    public func maxAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>) { timed(0) { base.maxAcrossBatch(values) } }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) { timed(values.count * 4) { base.sum(values) } }
    public func gatherAcrossBatch(_ rows: UnsafeBufferPointer<Float>, rowLength: Int) -> Tensor {
        timed(rows.count * 4) { base.gatherAcrossBatch(rows, rowLength: rowLength) }
    }
    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction {
        Timed(owner: self, pending: timed(values.count * 4) { base.startSum(values) })
    }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) { timed(0) { base.broadcast(bytes, root: root) } }
    public func gather(_ value: UInt64) -> [UInt64] { timed(0) { base.gather(value) } }
    public func barrier() { timed(0) { base.barrier() } }
    public func send(_ bytes: [UInt8], to destination: Int) { timed(0) { base.send(bytes, to: destination) } }
    public func receive(from source: Int) -> [UInt8] { timed(0) { base.receive(from: source) } }
    public func abort(_ message: String, code: Int32) -> Never { base.abort(message, code: code) }

    private final class Timed: PendingReduction {
        let owner: TimedCommunicator
        let pending: PendingReduction
        init(owner: TimedCommunicator, pending: PendingReduction) { self.owner = owner; self.pending = pending }
        func wait() { owner.timed(0) { pending.wait() } }
        func progress() { owner.timed(0) { pending.progress() } }
        var transferSeconds: Double? { pending.transferSeconds }
    }
}
