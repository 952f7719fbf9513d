import Foundation
import Synchronization
import InkwellEngine

/// The processes (ranks) of one data-parallel job and the collective operations Inkwell uses
/// between them (docs/DISTRIBUTED.md). `SingleProcess` is the default (a job of one);
/// `InkwellMPI.MPICommunicator` is chosen when the process was started by an MPI launcher.
///
/// Every operation is collective: every rank calls it, in the same order, with the same counts.
/// A failed operation does not return: it ends the whole job with a message naming the rank.
public protocol Communicator: BatchReduction {
    /// This process's rank, 0 ..< size.
    var rank: Int { get }
    /// Ranks in the job.
    var size: Int { get }
    /// Replaces each value with its sum over every rank, in place.
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Starts summing `values` over every rank in place; the values are the sums once the returned
    /// reduction has been waited for (and must not be touched before).
    func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction
    /// Copies rank `root`'s bytes into every other rank's `bytes` (same count everywhere).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int)
    /// Every rank's `value`, by rank.
    func gather(_ value: UInt64) -> [UInt64]
    /// Sends `bytes` to rank `destination`, which takes them with `receive(from:)`.
    func send(_ bytes: [UInt8], to destination: Int)
    /// The next bytes rank `source` sent to this rank; waits without spinning a core.
    func receive(from source: Int) -> [UInt8]
    /// Returns once every rank has called it; waits without spinning a core.
    func barrier()
    /// Ends the whole job: prints `message` (prefixed with the rank) and stops every rank.
    func abort(_ message: String, code: Int32) -> Never
}

/// A reduction started by `Communicator.startSum`.
public protocol PendingReduction: AnyObject {
    /// Blocks until the sums are in place.
    func wait()
    /// Moves the transfer along without blocking (MPI progresses a non-blocking collective only
    /// inside MPI calls).
    func progress()
    /// Seconds the transfer took, from its first MPI call to its completion, once waited for;
    /// nil where it is not measured (it moved only inside the waiting thread's own calls).
    var transferSeconds: Double? { get }
}

extension PendingReduction {
    public var transferSeconds: Double? { nil }
}

extension Communicator {
    /// The batch reductions' float sum is the gradient sum.
    public func sumAcrossBatch(_ values: UnsafeMutableBufferPointer<Float>) { sum(values) }

    /// Whether this is rank 0, the one that prints and writes the run directory.
    public var isRoot: Bool { rank == 0 }
    /// Whether more than one rank takes part.
    public var isDistributed: Bool { size > 1 }

    /// "rank K of N" for messages.
    public var rankName: String { "rank \(rank) of \(size)" }

    /// Rank `root`'s `bytes` on every rank (the others pass nil).
    public func broadcast(_ bytes: [UInt8]?, root: Int) -> [UInt8] {
        guard isDistributed else { return bytes ?? [] }
        var count = UInt64(bytes?.count ?? 0)
        withUnsafeMutableBytes(of: &count) { broadcast($0, root: root) }
        var data = rank == root ? bytes ?? [] : [UInt8](repeating: 0, count: Int(count))
        data.withUnsafeMutableBytes { broadcast($0, root: root) }
        return data
    }

    /// Whether `flag` is true on any rank (a stop request seen by one rank stops all).
    public func any(_ flag: Bool) -> Bool {
        var v = [flag ? 1.0 : 0.0]
        v.withUnsafeMutableBufferPointer { maxAcrossBatch($0) }
        return v[0] > 0
    }
}

/// A job of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sumAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func maxAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func gatherAcrossBatch(_ rows: UnsafeBufferPointer<Float>, rowLength: Int) -> Tensor {
        let out = Tensor(shape: [rows.count / max(rowLength, 1), rowLength], storage: TensorStorage(count: rows.count, zeroed: false))
        if let base = rows.baseAddress { out.pointer.update(from: base, count: rows.count) }
        return out
    }
    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction { Done() }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    public func gather(_ value: UInt64) -> [UInt64] { [value] }
    public func send(_ bytes: [UInt8], to destination: Int) { abort("send to rank \(destination) in a job of one process", code: 70) }
    public func receive(from source: Int) -> [UInt8] { abort("receive from rank \(source) in a job of one process", code: 70) }
    public func barrier() {}
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("inkwell: \(message)\n".utf8))
        exit(code)
    }

    private final class Done: PendingReduction {
        func wait() {}
        func progress() {}
    }
}

/// The job this process belongs to: `SingleProcess` unless the `inkwell` tool, started under an
/// MPI launcher, installed its MPI communicator at start-up.
public enum World {
    public static var communicator: any Communicator {
        get { installed.withLock { $0 } }
        set { installed.withLock { $0 = newValue } }
    }

    private static let installed = Mutex<any Communicator>(SingleProcess())
}
