import Foundation
import InkwellEngine

/// Sums parameters' gradients over every rank, in buckets of about `bucketBytes` (25 MB by
/// default, PyTorch DDP's), after a backward pass. A sub-update hands it only the parameters
/// its optimizers step, so nothing else crosses the network.
///
/// Each rank's gradient is already its share of the global batch's (the losses are means over
/// the global batch, so a rank's gradient carries the weight n_rank / N): the sum is the global
/// gradient, identical on every rank.
///
/// Buckets are filled in reverse parameter order (the order a backward pass finishes them) and
/// all started before the first is waited for, so the transfers of later buckets overlap the
/// copies of earlier ones.
public final class GradientReducer {
    public let communicator: any Communicator
    public let bucketBytes: Int
    /// Bytes of gradient summed so far (this rank's contribution), and seconds spent in them.
    public private(set) var bytesReduced = 0
    public private(set) var seconds = 0.0

    private var scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)

    public init(communicator: any Communicator, bucketBytes: Int = 25 << 20) {
        self.communicator = communicator
        self.bucketBytes = max(bucketBytes, 4)
    }

    deinit { scratch.deallocate() }

    /// Replaces each gradient of `parameters` (those that have one) with its sum over every rank.
    /// Every rank must pass the same parameters with the same gradients present.
    public func reduce(_ parameters: [Tensor]) {
        guard communicator.isDistributed else { return }
        let began = Date()
        let reduced = parameters.reversed().filter { $0.grad != nil }
        let total = reduced.reduce(0) { $0 + $1.count }
        reserve(total)
        var pending: [PendingReduction] = []
        var offset = 0, bucketStart = 0
        let bucketFloats = bucketBytes / MemoryLayout<Float>.size
        for p in reduced {
            let g = p.grad!
            (scratch.baseAddress! + offset).update(from: g.pointer, count: g.count)
            offset += g.count
            if offset - bucketStart >= bucketFloats {
                pending.append(communicator.startSum(UnsafeMutableBufferPointer(rebasing: scratch[bucketStart..<offset])))
                bucketStart = offset
            }
        }
        if offset > bucketStart {
            pending.append(communicator.startSum(UnsafeMutableBufferPointer(rebasing: scratch[bucketStart..<offset])))
        }
        for p in pending { p.wait() }
        offset = 0
        for p in reduced {
            let storage = TensorStorage(count: p.count, zeroed: false)
            storage.pointer.update(from: scratch.baseAddress! + offset, count: p.count)
            p.grad = Tensor(shape: p.shape, storage: storage)
            offset += p.count
        }
        bytesReduced += total * MemoryLayout<Float>.size
        seconds += Date().timeIntervalSince(began)
    }

    private func reserve(_ count: Int) {
        guard scratch.count < count else { return }
        scratch.deallocate()
        scratch = .allocate(capacity: count)
    }
}
