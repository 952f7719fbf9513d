import Foundation
import InkwellEngine

/// Sums parameters' gradients over every rank, in buckets of about `bucketBytes` (25 MB by
/// default, PyTorch DDP's), the first of each backward pass closed at `firstBucketBytes` (1 MiB by
/// default, as DDP's first bucket) so that a sum starts early in the pass. A sub-update hands it
/// only the parameters its optimizers step, so nothing else crosses the network.
///
/// Each rank's gradient is already its share of the global batch's (the losses are means over
/// the global batch, so a rank's gradient carries the weight n_rank / N): the sum is the global
/// gradient, identical on every rank.
///
/// Buckets are filled in reverse parameter order (the order a backward pass finishes them, as
/// PyTorch DDP does). `backward(_:to:)` starts each bucket's sum during the backward pass, as
/// soon as its gradients are final, and moves the transfers along between the pass's ops
/// (`overlapsBackward`); otherwise, and in `reduce(_:)`, every bucket starts after the pass. Both
/// make the same buckets and the same calls, so the sums are bit-identical.
public final class GradientReducer {
    public let communicator: any Communicator
    public let bucketBytes: Int
    public let firstBucketBytes: Int
    /// Whether `backward(_:to:)` overlaps the sums with the backward pass (default true).
    public var overlapsBackward: Bool
    /// Bytes of gradient summed so far (this rank's contribution), and seconds this rank spent on
    /// them outside the backward pass's own work (copies, starting, progressing and waiting).
    public private(set) var bytesReduced = 0
    public private(set) var seconds = 0.0
    /// Of `seconds`, those spent waiting for sums to complete; and the seconds the sums' transfers
    /// took where the communicator measures them (`PendingReduction.transferSeconds`: a transfer
    /// that moves on a thread of its own), summed over buckets. Their difference is the transfer
    /// time hidden behind this rank's computation.
    public private(set) var waitingSeconds = 0.0
    public private(set) var transferSeconds = 0.0
    /// Buckets summed so far, and how many of them started before their backward pass ended.
    public private(set) var buckets = 0
    public private(set) var bucketsStartedDuringBackward = 0

    private var scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)

    public init(communicator: any Communicator, bucketBytes: Int = 25 << 20, firstBucketBytes: Int = 1 << 20,
                overlapsBackward: Bool = true) {
        self.communicator = communicator
        self.bucketBytes = max(bucketBytes, 4)
        self.firstBucketBytes = min(max(firstBucketBytes, 4), self.bucketBytes)
        self.overlapsBackward = overlapsBackward
    }

    deinit { scratch.deallocate() }

    /// Back-propagates `loss` to `parameters` and replaces their gradients with the sums over
    /// every rank. Every rank must pass the same parameters with the same gradients present.
    public func backward(_ loss: Tensor, to parameters: [Tensor]) {
        guard communicator.isDistributed, overlapsBackward else {
            loss.backward(to: parameters)
            reduce(parameters)
            return
        }
        let buckets = open(parameters)
        loss.backward(to: parameters, watcher: buckets)
        bucketsStartedDuringBackward += buckets.started
        finish(buckets)
    }

    /// Replaces each gradient of `parameters` (those that have one) with its sum over every rank,
    /// after the backward pass. Every rank must pass the same parameters with the same gradients present.
    public func reduce(_ parameters: [Tensor]) {
        guard communicator.isDistributed else { return }
        let buckets = open(parameters)
        for p in parameters.reversed() { buckets.gradientIsFinal(p) }
        finish(buckets)
    }

    private func open(_ parameters: [Tensor]) -> GradientBuckets {
        let total = parameters.reduce(0) { $0 + $1.count }
        if scratch.count < total {
            scratch.deallocate()
            scratch = .allocate(capacity: total)
        }
        let float = MemoryLayout<Float>.size
        return GradientBuckets(parameters, scratch: scratch, bucketFloats: bucketBytes / float,
                               firstBucketFloats: firstBucketBytes / float, communicator: communicator)
    }

    private func finish(_ buckets: GradientBuckets) {
        let began = Date()
        bytesReduced += buckets.finish() * MemoryLayout<Float>.size
        self.buckets += buckets.started
        waitingSeconds += buckets.waitingSeconds
        transferSeconds += buckets.transferSeconds
        seconds += buckets.seconds + Date().timeIntervalSince(began)
    }
}

/// One backward pass's buckets: each parameter's gradient is copied into the scratch buffer in
/// reverse parameter order once it and every parameter before it in that order are final, and a
/// bucket's sum starts as soon as it holds `bucketFloats` or more (the first bucket:
/// `firstBucketFloats`).
final class GradientBuckets: BackwardWatcher {
    private let order: [Tensor]
    private let scratch: UnsafeMutableBufferPointer<Float>
    private let bucketFloats: Int, firstBucketFloats: Int
    private let communicator: any Communicator
    private var final = Set<ObjectIdentifier>()
    /// order[..<next] are in the scratch buffer (those with a gradient, listed in `copied`).
    private var next = 0
    private var copied: [Tensor] = []
    private var offset = 0, bucketStart = 0
    private var pending: [PendingReduction] = []
    /// Seconds spent in `gradientIsFinal` and `opFinished`; in `finish`, waiting for the sums;
    /// and the sums' transfers' (where measured).
    private(set) var seconds = 0.0
    private(set) var waitingSeconds = 0.0
    private(set) var transferSeconds = 0.0
    /// Buckets whose sum has started.
    var started: Int { pending.count }

    init(_ parameters: [Tensor], scratch: UnsafeMutableBufferPointer<Float>, bucketFloats: Int, firstBucketFloats: Int,
         communicator: any Communicator) {
        order = parameters.reversed()
        self.scratch = scratch
        self.bucketFloats = bucketFloats
        self.firstBucketFloats = firstBucketFloats
        self.communicator = communicator
    }

    func gradientIsFinal(_ leaf: Tensor) {
        let began = Date()
        final.insert(ObjectIdentifier(leaf))
        while next < order.count, final.contains(ObjectIdentifier(order[next])) {
            copy(order[next])
            next += 1
        }
        for p in pending { p.progress() }
        seconds += Date().timeIntervalSince(began)
    }

    func opFinished() {
        guard !pending.isEmpty else { return }
        let began = Date()
        for p in pending { p.progress() }
        seconds += Date().timeIntervalSince(began)
    }

    private func copy(_ parameter: Tensor) {
        guard let g = parameter.grad, !g.isSummedOverGlobalBatch else { return }
        (scratch.baseAddress! + offset).update(from: g.pointer, count: g.count)
        offset += g.count
        copied.append(parameter)
        if offset - bucketStart >= (pending.isEmpty ? firstBucketFloats : bucketFloats) { startBucket() }
    }

    private func startBucket() {
        pending.append(communicator.startSum(UnsafeMutableBufferPointer(rebasing: scratch[bucketStart..<offset])))
        bucketStart = offset
    }

    /// Starts the last bucket, waits for every sum and puts the sums in the gradients; returns the
    /// floats summed.
    func finish() -> Int {
        precondition(next == order.count, "GradientBuckets: \(order.count - next) gradients were never reported final")
        if offset > bucketStart { startBucket() }
        let began = Date()
        for p in pending { p.wait() }
        waitingSeconds = Date().timeIntervalSince(began)
        transferSeconds = pending.reduce(0) { $0 + ($1.transferSeconds ?? 0) }
        var start = 0
        for p in copied {
            let storage = TensorStorage(count: p.count, zeroed: false)
            storage.pointer.update(from: scratch.baseAddress! + start, count: p.count)
            p.grad = Tensor(shape: p.shape, storage: storage)
            start += p.count
        }
        return offset
    }
}
